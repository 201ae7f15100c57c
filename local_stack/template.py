"""template.yaml read through aws-sam-cli: its loader, SAM transform (Globals merged), intrinsic resolver, function
and HttpApi providers. Ours is only what `sam local` leaves out: the physical names the local stack gives resources
and the moto-side reading of the resource types template.yaml declares (tables, secrets, topics, state machines...)."""

import copy
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samcli.commands._utils.template import get_template_data  # type: ignore[import-untyped]
from samcli.lib.intrinsic_resolver.intrinsic_property_resolver import IntrinsicResolver  # type: ignore[import-untyped]
from samcli.lib.intrinsic_resolver.intrinsics_symbol_table import IntrinsicsSymbolTable  # type: ignore[import-untyped]
from samcli.lib.providers.api_provider import ApiProvider  # type: ignore[import-untyped]
from samcli.lib.providers.provider import Stack  # type: ignore[import-untyped]
from samcli.lib.providers.sam_function_provider import SamFunctionProvider  # type: ignore[import-untyped]
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider  # type: ignore[import-untyped]
from samcli.local.apigw.authorizers.lambda_authorizer import LambdaAuthorizer  # type: ignore[import-untyped]

# aws-sam-cli warns on every read that local authorizers may differ from AWS: the gateway tests ours.
logging.getLogger("samcli.lib.providers.api_collector").setLevel(logging.ERROR)

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "ridecast-local"
PSEUDO_PARAMETERS = IntrinsicsSymbolTable.DEFAULT_PSEUDO_PARAM_VALUES | {"AWS::URLSuffix": "amazonaws.com"}
PSEUDO_PARAMETERS |= {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, "AWS::StackName": STACK_NAME}
_ARN = f"arn:aws:{{}}:{REGION}:{ACCOUNT_ID}:{{}}"
_RATE = re.compile(r"rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)")


class TemplateError(Exception):
    """The template cannot be run locally as written; the message names the resource."""


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
    snap_start: bool = False  # SnapStart: {ApplyOn: PublishedVersions}


@dataclass(frozen=True)
class Authorizer:
    """A Lambda REQUEST authorizer as aws-sam-cli reads it, plus its ReauthorizeEvery (which it ignores)."""

    name: str
    function_id: str
    ttl_seconds: int
    sam: LambdaAuthorizer


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in the template: /rides/{ride_id}
    function_id: str
    authorizer: Authorizer | None  # None: public (Auth: {Authorizer: NONE})

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class ScheduleSpec:
    name: str  # Function.EventName
    target_id: str
    period_seconds: float


@dataclass(frozen=True)
class StateMachineSpec:
    logical_id: str
    name: str
    arn: str
    definition: str


class LocalTemplate:
    """template.yaml with local parameter values and physical ids; resolved by aws-sam-cli on demand."""

    def __init__(self, path: Path, parameter_overrides: Mapping[str, str] | None = None) -> None:
        self.path = Path(path).resolve()
        self.root = self.path.parent
        self.document: dict[str, Any] = get_template_data(str(self.path))
        # Overrides, pseudo parameters and physical ids: aws-sam-cli's resolver looks them up here first, then
        # takes the parameters' defaults from the template.
        self._translator: dict[str, Any] = {**PSEUDO_PARAMETERS, **(parameter_overrides or {})}
        self._stack: Stack | None = None
        for logical_id, resource in self.raw_resources.items():
            physical = _physical(logical_id, resource, self._resolve)
            if physical is not None:
                self._translator[logical_id] = physical
            # `!Ref Fn.Alias` is AutoPublishAlias's alias (for SnapStart); locally, without versions, the function.
            if (resource.get("Properties") or {}).get("AutoPublishAlias") and physical is not None:
                self._translator[f"{logical_id}.Alias"] = physical["Arn"]

    @property
    def raw_resources(self) -> dict[str, Any]:
        return dict(self.document.get("Resources") or {})

    @property
    def stack(self) -> Stack:
        """The SAM-transformed, resolved template (re-read after `register`). aws-sam-cli's providers change
        the stacks they are given: they get copies."""
        if self._stack is None:
            stacks, _ = SamLocalStackProvider.get_stacks(
                str(self.path), parameter_overrides=dict(self._translator), template_dictionary=self.document
            )
            self._stack = stacks[0]
        return self._stack

    def resources_of(self, kind: str) -> dict[str, dict[str, Any]]:
        # aws-sam-cli's resolver renames resources to what their logical ids translate to: name them back.
        logical = {self.ref(name): name for name in self.raw_resources if name in self._translator}
        resources = (self.stack.resources or {}).items()
        return {logical.get(key, key): r.get("Properties") or {} for key, r in resources if r["Type"] == kind}

    def _resolve(self, value: Any) -> Any:
        symbols = IntrinsicsSymbolTable(template=self.document, logical_id_translator=self._translator)
        resolver = IntrinsicResolver(template=self.document, symbol_resolver=symbols)
        return resolver.intrinsic_property_resolver(value, ignore_errors=False)

    def register(self, logical_id: str, ref: str, **attributes: str) -> None:
        """A value only known once the resource exists in moto (a secret's ARN)."""
        self._translator[logical_id] = {"Ref": ref, **attributes}
        self._stack = None

    def ref(self, logical_id: str) -> Any:
        if (value := self._translator.get(logical_id)) is None:
            raise TemplateError(f"unknown resource or parameter {logical_id}")
        return value["Ref"] if isinstance(value, dict) else value

    def functions(self) -> list[FunctionSpec]:
        specs = []
        for function in SamFunctionProvider([copy.deepcopy(self.stack)]).get_all():
            variables = (function.environment or {}).get("Variables") or {}
            snap_start = (self.raw_resources[function.name].get("Properties") or {}).get("SnapStart") or {}
            spec = FunctionSpec(
                *(function.name, function.functionname, self._translator[function.name]["Arn"]),
                *((self.root / function.codeuri).resolve(), function.handler),
                {name: _text(value, f"{function.name}.{name}") for name, value in variables.items()},
                *(int(function.timeout or 3), int(function.memory or 128)),
                # Public layer ARNs (e.g. Powertools) are installed in the venv; only our own layers add code.
                tuple((self.root / layer.codeuri).resolve() for layer in function.layers if layer.codeuri),
                snap_start=snap_start.get("ApplyOn") == "PublishedVersions",
            )
            specs.append(spec)
        return specs

    def routes(self) -> list[Route]:
        ttl = {
            name: int(authorizer.get("Identity", {}).get("ReauthorizeEvery", 300))
            for api in self.resources_of("AWS::Serverless::HttpApi").values()
            for name, authorizer in ((api.get("Auth") or {}).get("Authorizers") or {}).items()
        }
        routes: list[Route] = []
        # template.yaml has HttpApi events (payload 2.0) and one Lambda REQUEST authorizer, as the gateway serves.
        for route in ApiProvider([copy.deepcopy(self.stack)]).routes:
            sam = route.authorizer_object
            authorizer = sam and Authorizer(sam.authorizer_name, sam.lambda_name, ttl[sam.authorizer_name], sam)
            routes.extend(Route(method, route.path, route.function_name, authorizer) for method in route.methods)
        return routes

    def _function_events(self, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(function logical id, event name, event properties) of the functions' events of one Type."""
        functions = self.resources_of("AWS::Serverless::Function").items()
        events = ((logical_id, props.get("Events") or {}) for logical_id, props in functions)
        return [(i, name, e["Properties"]) for i, named in events for name, e in named.items() if e.get("Type") == kind]

    def schedules(self, override_seconds: float | None = None) -> list[ScheduleSpec]:
        """EventBridge Scheduler (ScheduleV2) events of functions: the only schedules template.yaml has."""
        return [
            ScheduleSpec(f"{i}.{name}", i, override_seconds or schedule_period_seconds(props["ScheduleExpression"]))
            for i, name, props in self._function_events("ScheduleV2")
        ]

    def queue_consumers(self) -> list[tuple[str, str, int]]:
        """(queue URL, function logical id, batch size) of functions' SQS events."""
        queues = {v["Arn"]: v["Ref"] for v in self._translator.values() if isinstance(v, dict) and "Arn" in v}
        return [(queues[p["Queue"]], i, int(p.get("BatchSize", 10))) for i, _, p in self._function_events("SQS")]

    def table_create_kwargs(self, logical_id: str) -> tuple[dict[str, Any], str | None]:
        """CreateTable arguments and the TTL attribute of a table, as template.yaml declares it."""
        props = self.resources_of("AWS::DynamoDB::Table")[logical_id]
        kwargs = {key: props[key] for key in _TABLE_API_PROPERTIES if key in props}
        if unknown := set(props) - set(_TABLE_API_PROPERTIES) - _TABLE_PROPERTIES_INVISIBLE_TO_CODE:
            raise TemplateError(f"{logical_id}: {sorted(unknown)} would not be applied locally")
        ttl = props.get("TimeToLiveSpecification") or {}
        return {**kwargs, "TableName": self.ref(logical_id)}, ttl.get("AttributeName") if ttl.get("Enabled") else None

    def state_machines(self) -> list[StateMachineSpec]:
        specs = []
        for logical_id, props in self.resources_of("AWS::Serverless::StateMachine").items():
            text = (self.root / str(props["DefinitionUri"])).read_text(encoding="utf-8")
            definition = substitute_definition(text, props.get("DefinitionSubstitutions") or {}, logical_id)
            arn = self.ref(logical_id)
            specs.append(StateMachineSpec(logical_id, arn.rpartition(":")[2], arn, definition))
        return specs


# Properties with the same name and shape in CloudFormation and in the CreateTable API.
_TABLE_API_PROPERTIES = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
# Anything else must be listed here as invisible to the code, so a new property is never silently dropped.
# (TimeToLiveSpecification is applied by UpdateTimeToLive.)
_TABLE_PROPERTIES_INVISIBLE_TO_CODE = {"TableName", "TimeToLiveSpecification", "Tags", "DeletionProtectionEnabled"}
_TABLE_PROPERTIES_INVISIBLE_TO_CODE |= {"PointInTimeRecoverySpecification", "SSESpecification"}
# The name properties template.yaml sets; any other resource takes the default name.
_NAME_PROPERTIES = {"AWS::DynamoDB::Table": "TableName", "AWS::Serverless::StateMachine": "Name"}


def _physical(logical_id: str, resource: Mapping[str, Any], resolve: Any) -> Any:
    """What !Ref and !GetAtt give for the resource locally (None: left to aws-sam-cli's defaults)."""
    kind, props = resource.get("Type"), resource.get("Properties") or {}
    # Lambda names are the logical ids locally, so a log line or an ASL Resource reads like the template.
    default = logical_id if kind == "AWS::Serverless::Function" else f"{STACK_NAME}-{logical_id}"
    name_property = _NAME_PROPERTIES.get(str(kind), "")
    name = str(resolve(props[name_property])) if props.get(name_property) else default
    if kind == "AWS::Serverless::Function":
        return {"Ref": name, "Arn": _ARN.format("lambda", f"function:{name}")}
    if kind == "AWS::DynamoDB::Table":
        return {"Ref": name, "Arn": _ARN.format("dynamodb", f"table/{name}")}
    if kind == "AWS::Serverless::StateMachine":
        arn = _ARN.format("states", f"stateMachine:{name}")
        return {"Ref": arn, "Arn": arn, "Name": name}
    if kind == "AWS::SNS::Topic":
        return {"Ref": _ARN.format("sns", name), "TopicArn": _ARN.format("sns", name), "TopicName": name}
    if kind == "AWS::SQS::Queue":
        url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"
        return {"Ref": url, "Arn": _ARN.format("sqs", name), "QueueName": name}
    if kind == "AWS::SecretsManager::Secret":  # the ARN moto gives it is registered once it exists
        return {"Ref": name}
    return {"Ref": "local", "ApiId": "local"} if kind == "AWS::Serverless::HttpApi" else None


def _text(value: Any, where: str) -> str:
    if isinstance(value, (dict, list)):
        raise TemplateError(f"{where}: environment variable is not a scalar after resolution: {value!r}")
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def substitute_definition(text: str, substitutions: Mapping[str, Any], where: str) -> str:
    """${Name} → its DefinitionSubstitutions value; a leftover ${...} would deploy broken, so it fails here."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1) not in substitutions:
            raise TemplateError(f"{where}: ${{{match.group(1)}}} has no DefinitionSubstitutions entry")
        return _text(substitutions[match.group(1)], where)

    return re.sub(r"\$\{([^}]+)\}", replace, text)


def schedule_period_seconds(expression: str) -> float:
    """rate(N unit) as seconds: the only kind of schedule template.yaml has."""
    if not (match := _RATE.fullmatch(expression.strip())):
        raise TemplateError(f"schedule expression {expression!r} is not rate(...)")
    return int(match.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
