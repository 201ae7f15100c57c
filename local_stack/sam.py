"""What the SAM resources of template.yaml mean for the local stack: functions, routes, authorizers,
schedules, and the AWS resources to create in moto.

Each reader resolves only what it needs, so values that exist only once moto has created a resource
(secret ARNs) are asked for after provisioning.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_stack.template import Resource, Template, TemplateError

FUNCTION_TYPES = ("AWS::Serverless::Function",)
STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
HTTP_API_TYPE = "AWS::Serverless::HttpApi"
IMPLICIT_HTTP_API = "ServerlessHttpApi"


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int
    layer_dirs: tuple[Path, ...]


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    path: str  # as in the template: /rides/{ride_id}, /{proxy+}, or $default
    function_id: str
    authorizer: str | None  # None: public (Auth: {Authorizer: NONE}, or no authorizer at all)
    api_id: str

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class AuthorizerSpec:
    name: str
    function_id: str
    identity_headers: tuple[str, ...]
    identity_query_strings: tuple[str, ...]
    ttl_seconds: int
    simple_responses: bool


@dataclass(frozen=True)
class CorsSpec:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    expose_headers: tuple[str, ...]
    max_age: int | None
    allow_credentials: bool


@dataclass(frozen=True)
class HttpApiSpec:
    routes: tuple[Route, ...]
    authorizers: dict[str, AuthorizerSpec]
    cors: CorsSpec | None = None


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    target_kind: str  # "function" or "statemachine"
    target_id: str
    expression: str
    period_seconds: float
    event_style: str  # "Schedule" (EventBridge rule envelope) or "ScheduleV2" (EventBridge Scheduler)
    input: Any = None


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    create_kwargs: dict[str, Any]
    ttl_attribute: str | None = None


@dataclass(frozen=True)
class SecretSpec:
    logical_id: str
    name: str
    value: str
    description: str = ""


@dataclass(frozen=True)
class TopicSpec:
    logical_id: str
    name: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StateMachineSpec:
    logical_id: str
    name: str
    arn: str
    definition: str
    type: str


def resources_of(template: Template, *types: str) -> list[Resource]:
    return [resource for resource in template.resources.values() if resource.type in types]


# ---------------------------------------------------------------------- functions
def read_functions(template: Template) -> list[FunctionSpec]:
    """Every function with its resolved environment (Globals merged); call after provisioning."""
    defaults = template.globals.get("Function") or {}
    specs = []
    for resource in resources_of(template, *FUNCTION_TYPES):
        props = resource.properties
        if "InlineCode" in props or "ImageUri" in props:
            raise TemplateError(f"{resource.logical_id}: only CodeUri functions run locally")
        code_uri = props.get("CodeUri", defaults.get("CodeUri"))
        handler = props.get("Handler", defaults.get("Handler"))
        if not isinstance(code_uri, str) or not isinstance(handler, str):
            raise TemplateError(f"{resource.logical_id}: needs a local CodeUri and a Handler")
        environment = {
            **_variables(template, defaults, resource.logical_id),
            **_variables(template, props, resource.logical_id),
        }
        layers = list(defaults.get("Layers") or []) + list(props.get("Layers") or [])
        specs.append(
            FunctionSpec(
                logical_id=resource.logical_id,
                name=template.physical_name(resource.logical_id),
                arn=str(template.get_att(resource.logical_id, "Arn")),
                code_dir=(template.root / code_uri).resolve(),
                handler=handler,
                environment=environment,
                timeout_seconds=int(template.resolve(props.get("Timeout", defaults.get("Timeout", 3)))),
                memory_mb=int(template.resolve(props.get("MemorySize", defaults.get("MemorySize", 128)))),
                layer_dirs=tuple(_layer_dirs(template, layers)),
            )
        )
    return specs


def _variables(template: Template, props: Mapping[str, Any], where: str) -> dict[str, str]:
    raw = ((props.get("Environment") or {}).get("Variables")) or {}
    resolved = template.resolve(raw)
    out = {}
    for name, value in resolved.items():
        if isinstance(value, (dict, list)):
            raise TemplateError(f"{where}: environment variable {name} is not a scalar")
        out[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def _layer_dirs(template: Template, layers: list[Any]) -> list[Path]:
    dirs = []
    for layer in layers:
        # Public layer ARNs (e.g. Powertools) are installed in the venv; only our own layers add code.
        if not (isinstance(layer, dict) and "Ref" in layer and layer["Ref"] in template.resources):
            continue
        resource = template.resources[layer["Ref"]]
        content_uri = resource.properties.get("ContentUri")
        if not isinstance(content_uri, str):
            raise TemplateError(f"{resource.logical_id}: needs a local ContentUri")
        base = (template.root / content_uri).resolve()
        # A prebuilt layer keeps its packages under python/; a SAM-built one has them at the top.
        dirs.append(base / "python" if (base / "python").is_dir() else base)
    return dirs


# ---------------------------------------------------------------------- HTTP API
def read_http_api(template: Template) -> HttpApiSpec:
    api_globals = template.globals.get("HttpApi") or {}
    apis = {r.logical_id: {**api_globals, **r.properties} for r in resources_of(template, HTTP_API_TYPE)}
    authorizers: dict[str, AuthorizerSpec] = {}
    defaults: dict[str, str | None] = {}
    cors: CorsSpec | None = None
    for api_id, props in apis.items():
        auth = props.get("Auth") or {}
        for name, raw in (auth.get("Authorizers") or {}).items():
            authorizers[name] = _authorizer(template, api_id, name, raw)
        defaults[api_id] = auth.get("DefaultAuthorizer")
        cors = cors or _cors(template.resolve(props.get("CorsConfiguration")))

    routes = []
    for function in resources_of(template, *FUNCTION_TYPES):
        for event_name, event in (function.properties.get("Events") or {}).items():
            if event.get("Type") != "HttpApi":
                continue
            props = event.get("Properties") or {}
            api_ref = props.get("ApiId")
            api_id = api_ref["Ref"] if isinstance(api_ref, dict) and "Ref" in api_ref else IMPLICIT_HTTP_API
            if api_id != IMPLICIT_HTTP_API and api_id not in apis:
                raise TemplateError(f"{function.logical_id}.{event_name}: ApiId {api_ref!r} is not an HttpApi")
            version = str(props.get("PayloadFormatVersion", "2.0"))
            if version != "2.0":
                raise TemplateError(f"{function.logical_id}.{event_name}: only payload format 2.0 runs locally")
            path = str(template.resolve(props.get("Path", "$default")))
            method = str(template.resolve(props.get("Method", "ANY"))).upper()
            if path != "$default" and not path.startswith("/"):
                raise TemplateError(f"{function.logical_id}.{event_name}: Path must start with /")
            route_auth = (props.get("Auth") or {}).get("Authorizer")
            authorizer = defaults.get(api_id) if route_auth is None else route_auth
            if authorizer == "NONE":
                authorizer = None
            if authorizer is not None and authorizer not in authorizers:
                raise TemplateError(f"{function.logical_id}.{event_name}: unknown authorizer {authorizer}")
            routes.append(Route(method, path, function.logical_id, authorizer, api_id))
    keys = [(route.method, route.path) for route in routes]
    duplicates = {key for key in keys if keys.count(key) > 1}
    if duplicates:
        raise TemplateError(f"routes defined twice: {sorted(duplicates)}")
    return HttpApiSpec(tuple(routes), authorizers, cors)


def _authorizer(template: Template, api_id: str, name: str, raw: Mapping[str, Any]) -> AuthorizerSpec:
    where = f"{api_id} authorizer {name}"
    if "FunctionArn" not in raw:
        raise TemplateError(f"{where}: only Lambda authorizers run locally")
    if str(raw.get("AuthorizerPayloadFormatVersion", "")) != "2.0":
        raise TemplateError(f"{where}: only AuthorizerPayloadFormatVersion 2.0 runs locally")
    function_id = _function_from_arn(template, raw["FunctionArn"], where)
    identity = raw.get("Identity") or {}
    return AuthorizerSpec(
        name=name,
        function_id=function_id,
        identity_headers=tuple(str(h) for h in identity.get("Headers") or ()),
        identity_query_strings=tuple(str(q) for q in identity.get("QueryStrings") or ()),
        ttl_seconds=int(template.resolve(identity.get("ReauthorizeEvery", 300))),
        simple_responses=bool(template.resolve(raw.get("EnableSimpleResponses", False))),
    )


def _cors(raw: Any) -> CorsSpec | None:
    if not raw:
        return None
    if raw is True:
        return CorsSpec(("*",), ("*",), ("*",), (), None, False)
    if isinstance(raw, str):
        return CorsSpec((raw.strip("'"),), ("*",), ("*",), (), None, False)
    return CorsSpec(
        allow_origins=tuple(raw.get("AllowOrigins") or ()),
        allow_methods=tuple(m.upper() for m in raw.get("AllowMethods") or ()),
        allow_headers=tuple(h.lower() for h in raw.get("AllowHeaders") or ()),
        expose_headers=tuple(raw.get("ExposeHeaders") or ()),
        max_age=int(raw["MaxAge"]) if "MaxAge" in raw else None,
        allow_credentials=bool(raw.get("AllowCredentials", False)),
    )


def _function_from_arn(template: Template, value: Any, where: str) -> str:
    """The logical id behind a function reference (!GetAtt F.Arn, !Ref F, or a resolved ARN)."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        logical_id = target[0] if isinstance(target, list) else str(target).partition(".")[0]
        if logical_id in template.resources:
            return str(logical_id)
    if isinstance(value, dict) and "Ref" in value and value["Ref"] in template.resources:
        return str(value["Ref"])
    resolved = str(template.resolve(value))
    for resource in resources_of(template, *FUNCTION_TYPES):
        if resolved in (template.physical_name(resource.logical_id), template.get_att(resource.logical_id, "Arn")):
            return resource.logical_id
    raise TemplateError(f"{where}: {resolved} is not a function of this template")


# ---------------------------------------------------------------------- schedules
def read_schedules(template: Template, override_seconds: float | None = None) -> list[ScheduleSpec]:
    schedules = []
    targets = resources_of(template, *FUNCTION_TYPES, *STATE_MACHINE_TYPES)
    for resource in targets:
        kind = "function" if resource.type in FUNCTION_TYPES else "statemachine"
        for event_name, event in (resource.properties.get("Events") or {}).items():
            style = event.get("Type")
            if style not in ("Schedule", "ScheduleV2"):
                if kind == "function" and style != "HttpApi":
                    print(
                        f"local stack: {resource.logical_id}.{event_name} ({style}) is not emulated",
                        file=sys.stderr,
                    )
                continue
            props = template.resolve(event.get("Properties") or {})
            if props.get("Enabled") is False or str(props.get("State", "ENABLED")).upper() == "DISABLED":
                continue
            expression = str(props["ScheduleExpression"])
            schedules.append(
                ScheduleSpec(
                    name=f"{resource.logical_id}.{event_name}",
                    target_kind=kind,
                    target_id=resource.logical_id,
                    expression=expression,
                    period_seconds=override_seconds or schedule_period_seconds(expression),
                    event_style=str(style),
                    input=_schedule_input(props.get("Input")),
                )
            )
    for resource in resources_of(template, "AWS::Events::Rule", "AWS::Scheduler::Schedule"):
        props = template.resolve(resource.properties)
        if "ScheduleExpression" not in props or str(props.get("State", "ENABLED")).upper() == "DISABLED":
            continue
        style = "Schedule" if resource.type == "AWS::Events::Rule" else "ScheduleV2"
        raw_targets = resource.properties.get("Targets") or [resource.properties.get("Target")]
        for index, raw_target in enumerate(t for t in raw_targets if t):
            target_id, kind = _schedule_target(template, raw_target.get("Arn"))
            if target_id is None:
                continue
            schedules.append(
                ScheduleSpec(
                    name=f"{resource.logical_id}.{index}",
                    target_kind=kind,
                    target_id=target_id,
                    expression=str(props["ScheduleExpression"]),
                    period_seconds=override_seconds or schedule_period_seconds(str(props["ScheduleExpression"])),
                    event_style=style,
                    input=_schedule_input(template.resolve(raw_target.get("Input"))),
                )
            )
    return schedules


def _schedule_target(template: Template, arn: Any) -> tuple[str | None, str]:
    resolved = str(template.resolve(arn))
    for resource in resources_of(template, *FUNCTION_TYPES):
        if resolved == template.get_att(resource.logical_id, "Arn"):
            return resource.logical_id, "function"
    for resource in resources_of(template, *STATE_MACHINE_TYPES):
        if resolved == template.get_att(resource.logical_id, "Arn"):
            return resource.logical_id, "statemachine"
    print(f"local stack: schedule target {resolved} is not emulated", file=sys.stderr)
    return None, ""


def _schedule_input(raw: Any) -> Any:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")


def schedule_period_seconds(expression: str) -> float:
    """rate(N unit) as seconds; cron(...) and at(...) tick every minute (close enough to exercise them)."""
    match = _RATE.fullmatch(expression.strip())
    if match:
        unit = match.group(2).rstrip("s")
        return int(match.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[unit]
    if expression.strip().startswith(("cron(", "at(")):
        return 60.0
    raise TemplateError(f"schedule expression {expression!r} is not rate(...) or cron(...)")


# ---------------------------------------------------------------------- data resources
def read_tables(template: Template) -> list[TableSpec]:
    tables = []
    for resource in resources_of(template, "AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"):
        props = template.resolve(resource.properties)
        name = template.physical_name(resource.logical_id)
        if resource.type == "AWS::Serverless::SimpleTable":
            key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
            attribute_type = {"String": "S", "Number": "N", "Binary": "B"}[key.get("Type", "String")]
            kwargs: dict[str, Any] = {
                "TableName": name,
                "KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": key["Name"], "AttributeType": attribute_type}],
            }
            _billing(kwargs, props, default="PAY_PER_REQUEST")
            tables.append(TableSpec(resource.logical_id, kwargs))
            continue
        kwargs = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
        }
        _billing(kwargs, props, default="PROVISIONED")
        for index_kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(index_kind):
                kwargs[index_kind] = [
                    {
                        k: v
                        for k, v in index.items()
                        if k in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")
                    }
                    for index in props[index_kind]
                ]
        if props.get("StreamSpecification"):
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        ttl = props.get("TimeToLiveSpecification") or {}
        ttl_attribute = ttl.get("AttributeName") if ttl.get("Enabled") in (True, "true") else None
        tables.append(TableSpec(resource.logical_id, kwargs, ttl_attribute))
    return tables


def _billing(kwargs: dict[str, Any], props: Mapping[str, Any], default: str) -> None:
    mode = props.get("BillingMode", default)
    kwargs["BillingMode"] = mode
    if mode == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = props.get(
            "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        )


def read_secrets(template: Template, fixed_values: Mapping[str, str]) -> list[SecretSpec]:
    specs = []
    for resource in resources_of(template, "AWS::SecretsManager::Secret"):
        props = template.resolve(resource.properties)
        if resource.logical_id in fixed_values:
            value = fixed_values[resource.logical_id]
        elif "SecretString" in props:
            value = str(props["SecretString"])
        else:
            value = _generated_secret(props.get("GenerateSecretString") or {}, secrets.token_urlsafe(48))
        specs.append(
            SecretSpec(
                resource.logical_id, template.physical_name(resource.logical_id), value, props.get("Description", "")
            )
        )
    return specs


def _generated_secret(spec: Mapping[str, Any], entropy: str) -> str:
    excluded = set(str(spec.get("ExcludeCharacters", "")))
    password = "".join(c for c in entropy if c.isalnum() and c not in excluded)[: int(spec.get("PasswordLength", 32))]
    if "SecretStringTemplate" in spec and "GenerateStringKey" in spec:
        document = json.loads(spec["SecretStringTemplate"])
        document[spec["GenerateStringKey"]] = password
        return json.dumps(document)
    return password


def read_topics(template: Template) -> list[TopicSpec]:
    specs = []
    for resource in resources_of(template, "AWS::SNS::Topic"):
        props = template.resolve(resource.properties)
        attributes = {"FifoTopic": "true"} if props.get("FifoTopic") else {}
        if props.get("DisplayName"):
            attributes["DisplayName"] = str(props["DisplayName"])
        specs.append(TopicSpec(resource.logical_id, template.physical_name(resource.logical_id), attributes))
    return specs


def read_queues(template: Template) -> list[QueueSpec]:
    specs = []
    for resource in resources_of(template, "AWS::SQS::Queue"):
        props = template.resolve(resource.properties)
        attributes = {
            key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
            for key in ("FifoQueue", "VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds")
            if key in props
        }
        specs.append(QueueSpec(resource.logical_id, template.physical_name(resource.logical_id), attributes))
    return specs


def read_state_machines(template: Template) -> list[StateMachineSpec]:
    specs = []
    for resource in resources_of(template, *STATE_MACHINE_TYPES):
        props = resource.properties
        where = resource.logical_id
        if "DefinitionUri" in props:
            uri = props["DefinitionUri"]
            if not isinstance(uri, str):
                raise TemplateError(f"{where}: DefinitionUri must be a local file")
            text = (template.root / uri).read_text(encoding="utf-8")
        elif "Definition" in props:
            text = json.dumps(template.resolve(props["Definition"]))
        elif "DefinitionString" in props:
            text = str(template.resolve(props["DefinitionString"]))
        else:
            raise TemplateError(f"{where}: no Definition or DefinitionUri")
        substitutions = template.resolve(props.get("DefinitionSubstitutions") or {})
        definition = substitute_definition(text, substitutions, where)
        specs.append(
            StateMachineSpec(
                logical_id=resource.logical_id,
                name=template.physical_name(resource.logical_id),
                arn=str(template.get_att(resource.logical_id, "Arn")),
                definition=definition,
                type=str(template.resolve(props.get("Type", "STANDARD"))),
            )
        )
    return specs


def substitute_definition(text: str, substitutions: Mapping[str, Any], where: str) -> str:
    """${Name} → its DefinitionSubstitutions value; a leftover ${...} would deploy broken, so it fails here."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in substitutions:
            raise TemplateError(f"{where}: ${{{name}}} has no DefinitionSubstitutions entry")
        value = substitutions[name]
        return ("true" if value else "false") if isinstance(value, bool) else str(value)

    return re.sub(r"\$\{([^}]+)\}", replace, text)
