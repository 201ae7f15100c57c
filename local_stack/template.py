"""template.yaml as data: CloudFormation short-form tags, parameters, conditions and the intrinsic
functions the local stack needs to know what to run.

Physical names are deterministic (`Name`-like property, else `<stack>-<LogicalId>`), except where
moto picks them (secret ARNs): those are registered after the resource exists.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "ridecast-local"

PSEUDO_PARAMETERS: dict[str, Any] = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::StackName": STACK_NAME,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/"
    "00000000-0000-4000-8000-000000000000",
    "AWS::NotificationARNs": [],
}


class TemplateError(Exception):
    """The template cannot be run locally as written; the message names the resource or parameter."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()

_SHORT_TAGS = (
    "Ref",
    "Condition",
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "And",
    "Equals",
    "If",
    "Not",
    "Or",
    "Length",
    "ToJsonString",
)


class _TemplateLoader(yaml.SafeLoader):  # type: ignore[misc]
    """SafeLoader plus the `!Tag` short forms; YAML timestamps stay strings, as CloudFormation reads them."""


_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _node_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    assert isinstance(node, yaml.MappingNode)
    return loader.construct_mapping(node, deep=True)


def _short_form(name: str) -> Any:
    key = name if name in ("Ref", "Condition") else f"Fn::{name}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {key: _node_value(loader, node)}

    return construct


def _get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _node_value(loader, node)
    if isinstance(value, str):
        logical_id, _, attribute = value.partition(".")
        value = [logical_id, attribute]
    return {"Fn::GetAtt": value}


for _tag in _SHORT_TAGS:
    _TemplateLoader.add_constructor(f"!{_tag}", _short_form(_tag))
_TemplateLoader.add_constructor("!GetAtt", _get_att)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    properties: dict[str, Any]
    raw: dict[str, Any]


class Template:
    """The parsed template with parameters applied and conditions decided; `resolve` evaluates intrinsics."""

    def __init__(self, path: Path, parameter_overrides: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.root = path.parent
        document = load_yaml(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
            raise TemplateError(f"{path}: no Resources section")
        self.document: dict[str, Any] = document
        self.globals: dict[str, Any] = document.get("Globals") or {}
        self._mappings: dict[str, Any] = document.get("Mappings") or {}
        self.parameters = self._read_parameters(document.get("Parameters") or {}, parameter_overrides or {})
        self._condition_definitions: dict[str, Any] = document.get("Conditions") or {}
        self._conditions: dict[str, bool] = {}
        self._refs: dict[str, Any] = {}
        self._attributes: dict[tuple[str, str], Any] = {}
        self._resolving: set[str] = set()
        self.resources: dict[str, Resource] = {}
        for logical_id, raw in document["Resources"].items():
            if not isinstance(raw, dict) or "Type" not in raw:
                raise TemplateError(f"resource {logical_id}: no Type")
            if "Condition" in raw and not self.condition(raw["Condition"]):
                continue
            properties = raw.get("Properties") or {}
            self.resources[logical_id] = Resource(logical_id, str(raw["Type"]), properties, raw)

    # ------------------------------------------------------------------ parameters and conditions
    @staticmethod
    def _read_parameters(declared: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            spec = spec or {}
            if name in overrides:
                value: Any = overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no Default and no local override")
            value = "" if value is None else str(value) if not isinstance(value, list) else value
            _check_parameter(name, spec, value)
            kind = str(spec.get("Type", "String"))
            if (kind.startswith("List<") or kind == "CommaDelimitedList") and isinstance(value, str):
                value = [item.strip() for item in value.split(",")] if value else []
            values[name] = value
        return values

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self._condition_definitions:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = bool(self._evaluate_condition(self._condition_definitions[name]))
        return self._conditions[name]

    def _evaluate_condition(self, expression: Any) -> Any:
        if isinstance(expression, dict) and list(expression) == ["Condition"]:
            return self.condition(expression["Condition"])
        if isinstance(expression, dict) and len(expression) == 1:
            ((function, argument),) = expression.items()
            if function == "Fn::Equals":
                left, right = (self._evaluate_condition(item) for item in argument)
                return _scalar_text(left) == _scalar_text(right)
            if function == "Fn::Not":
                return not self._evaluate_condition(argument[0])
            if function == "Fn::And":
                return all(self._evaluate_condition(item) for item in argument)
            if function == "Fn::Or":
                return any(self._evaluate_condition(item) for item in argument)
        return self.resolve(expression)

    # ------------------------------------------------------------------ physical ids
    def register(self, logical_id: str, ref: Any, **attributes: Any) -> None:
        """Record a value only known once the resource exists (e.g. the ARN moto gave a secret)."""
        self._refs[logical_id] = ref
        for name, value in attributes.items():
            self._attributes[(logical_id, name)] = value

    def ref(self, logical_id: str) -> Any:
        if logical_id in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[logical_id]
        if logical_id == "AWS::NoValue":
            return NO_VALUE
        if logical_id in self.parameters:
            return self.parameters[logical_id]
        if logical_id in self._refs:
            return self._refs[logical_id]
        ref, _ = self._physical(logical_id)
        return ref

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if (logical_id, attribute) in self._attributes:
            return self._attributes[(logical_id, attribute)]
        _, attributes = self._physical(logical_id)
        if attribute not in attributes:
            raise TemplateError(f"!GetAtt {logical_id}.{attribute}: the local stack does not know this attribute")
        return attributes[attribute]

    def physical_name(self, logical_id: str) -> str:
        """The resource's name as the local stack creates it."""
        resource = self._resource_or_implicit(logical_id)
        name_property = _NAME_PROPERTIES.get(resource.type)
        if name_property and resource.properties.get(name_property) not in (None, ""):
            if logical_id in self._resolving:
                raise TemplateError(f"{logical_id}: its {name_property} refers to itself")
            self._resolving.add(logical_id)
            try:
                return str(self.resolve(resource.properties[name_property]))
            finally:
                self._resolving.discard(logical_id)
        if resource.type in _NAMED_BY_LOGICAL_ID:
            return logical_id
        return f"{STACK_NAME}-{logical_id}"

    def _resource_or_implicit(self, logical_id: str) -> Resource:
        if logical_id in self.resources:
            return self.resources[logical_id]
        # SAM creates these without them being in Resources.
        if logical_id.endswith("Role") and logical_id[: -len("Role")] in self.resources:
            return Resource(logical_id, "AWS::IAM::Role", {}, {})
        if logical_id == "ServerlessHttpApi":
            return Resource(logical_id, "AWS::Serverless::HttpApi", {}, {})
        raise TemplateError(f"unknown resource {logical_id}")

    def _physical(self, logical_id: str) -> tuple[Any, dict[str, Any]]:
        resource = self._resource_or_implicit(logical_id)
        name = self.physical_name(logical_id)
        prefix = f"arn:aws:{{service}}:{REGION}:{ACCOUNT_ID}"
        kind = resource.type
        if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            arn = f"{prefix.format(service='lambda')}:function:{name}"
            return name, {"Arn": arn}
        if kind in ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"):
            arn = f"{prefix.format(service='dynamodb')}:table/{name}"
            return name, {"Arn": arn, "StreamArn": f"{arn}/stream/1970-01-01T00:00:00.000"}
        if kind in ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"):
            arn = f"{prefix.format(service='states')}:stateMachine:{name}"
            return arn, {"Arn": arn, "Name": name}
        if kind == "AWS::SNS::Topic":
            arn = f"{prefix.format(service='sns')}:{name}"
            return arn, {"TopicArn": arn, "TopicName": name}
        if kind == "AWS::SQS::Queue":
            url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"
            return url, {"Arn": f"{prefix.format(service='sqs')}:{name}", "QueueName": name, "QueueUrl": url}
        if kind == "AWS::SecretsManager::Secret":
            arn = f"{prefix.format(service='secretsmanager')}:secret:{name}"
            return arn, {"Id": arn}
        if kind in ("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api"):
            return "local", {"ApiId": "local", "ApiEndpoint": f"https://local.execute-api.{REGION}.amazonaws.com"}
        if kind in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            return f"{prefix.format(service='lambda')}:layer:{name}:1", {}
        if kind == "AWS::IAM::Role":
            return name, {"Arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}", "RoleId": f"AROA{name.upper()[:17]}"}
        if kind == "AWS::Logs::LogGroup":
            return name, {"Arn": f"{prefix.format(service='logs')}:log-group:{name}:*"}
        service = kind.split("::")[1].lower() if kind.count("::") >= 2 else "unknown"
        return name, {"Arn": f"{prefix.format(service=service)}:{name}"}

    # ------------------------------------------------------------------ intrinsic functions
    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function evaluated and AWS::NoValue dropped."""
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(str(argument))
            if key.startswith("Fn::"):
                return self._function(key, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _function(self, name: str, argument: Any) -> Any:
        if name == "Fn::GetAtt":
            logical_id, attribute = self.resolve(argument) if isinstance(argument, list) else argument
            return self.get_att(str(logical_id), str(attribute))
        if name == "Fn::Sub":
            return self._sub(argument)
        if name == "Fn::If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"):
            return self._evaluate_condition({name: argument})
        if name == "Fn::Join":
            delimiter, items = argument
            return str(delimiter).join(_scalar_text(item) for item in self.resolve(items))
        if name == "Fn::Select":
            index, items = self.resolve(argument)
            return items[int(index)]
        if name == "Fn::Split":
            delimiter, text = self.resolve(argument)
            return str(text).split(str(delimiter))
        if name == "Fn::FindInMap":
            map_name, top, second = (str(item) for item in self.resolve(argument))
            try:
                return self._mappings[map_name][top][second]
            except KeyError:
                raise TemplateError(f"!FindInMap [{map_name}, {top}, {second}]: no such entry") from None
        if name == "Fn::Base64":
            return base64.b64encode(str(self.resolve(argument)).encode()).decode()
        if name == "Fn::GetAZs":
            return [f"{REGION}{zone}" for zone in "abcdef"]
        if name == "Fn::Length":
            return len(self.resolve(argument))
        if name == "Fn::ToJsonString":
            return json.dumps(self.resolve(argument), separators=(",", ":"))
        raise TemplateError(f"{name} is not supported by the local stack")

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], {key: self.resolve(item) for key, item in argument[1].items()}
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _scalar_text(variables[name])
            if "." in name and name not in PSEUDO_PARAMETERS:
                logical_id, _, attribute = name.partition(".")
                return _scalar_text(self.get_att(logical_id, attribute))
            return _scalar_text(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))


_NAME_PROPERTIES = {
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Serverless::SimpleTable": "TableName",
    "AWS::Serverless::StateMachine": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Serverless::LayerVersion": "LayerName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
}
# Lambda ARNs name the logical id locally, so a log line or an ASL Resource reads like the template.
_NAMED_BY_LOGICAL_ID = frozenset({"AWS::Serverless::Function", "AWS::Lambda::Function"})


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise TemplateError(f"expected a scalar, got {value!r}")
    return str(value)


def _check_parameter(name: str, spec: Mapping[str, Any], value: Any) -> None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and str(value) not in [str(item) for item in allowed]:
        raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and isinstance(value, str) and not re.fullmatch(str(pattern), value):
        raise TemplateError(f"parameter {name}={value!r} does not match {pattern}")
    if str(spec.get("Type", "String")) == "Number":
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TemplateError(f"parameter {name}={value!r} is not a number") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise TemplateError(f"parameter {name}={value!r} is below {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise TemplateError(f"parameter {name}={value!r} is above {spec['MaxValue']}")
