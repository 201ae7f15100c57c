"""Test helpers shared by every suite: the table and state machine as template.yaml declares them,
events from events/, and the function handlers loaded from their files.

Plain functions (no pytest fixtures) so unit, integration and e2e suites can all build on them.
"""

import copy
import importlib.util
import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from local_stack.template import LocalTemplate, substitute_definition

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
EVENTS_DIR = REPO_ROOT / "events"
ASL_PATH = REPO_ROOT / "statemachines" / "matching.asl.json"

ACCOUNT_ID = "123456789012"  # moto's default account
REGION = "eu-west-1"


# ----- caches that outlive a test -----------------------------------------------------------------


def clear_cached_clients(*, drop_secrets_provider: bool = False) -> None:
    """Forget every lru_cache'd settings object and AWS client in ridecast, and Powertools' secret cache.

    The adapters cache their boto3 clients for the life of a Lambda container; in tests each moto session
    is a new "account", so a client or a cached secret must not outlive it. Powertools' secrets provider
    stays unless `drop_secrets_provider`: it holds no account state, but one built by another suite holds
    a boto3 session for that suite's region.
    """
    for name, module in list(sys.modules.items()):
        if name != "ridecast" and not name.startswith("ridecast."):
            continue
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == name:
                clear()
    from aws_lambda_powertools.utilities.parameters import base

    if drop_secrets_provider:
        base.DEFAULT_PROVIDERS.pop("secrets", None)
    for provider in base.DEFAULT_PROVIDERS.values():
        provider.clear_cache()


# ----- template.yaml, read the way the local stack reads it (aws-sam-cli, local_stack.template) ----------


@cache
def _template() -> LocalTemplate:
    return LocalTemplate(TEMPLATE_PATH)


def load_template() -> dict[str, Any]:
    """template.yaml as data (intrinsics in long form); a fresh copy each call so a test cannot change another's."""
    return copy.deepcopy(_template().document)


def table_properties(logical_id: str = "RidecastTable") -> dict[str, Any]:
    """The table's Properties, intrinsics resolved."""
    return copy.deepcopy(_template().resources_of("AWS::DynamoDB::Table")[logical_id])


def create_table_from_template(dynamodb_client: Any, table_name: str, logical_id: str = "RidecastTable") -> None:
    """Create `table_name` with the keys, indexes and TTL that template.yaml declares for `logical_id` (a property
    the local stack would not apply fails there, so a new property is never silently dropped)."""
    kwargs, ttl_attribute = _template().table_create_kwargs(logical_id)
    dynamodb_client.create_table(**{**kwargs, "TableName": table_name})
    if ttl_attribute:
        dynamodb_client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"AttributeName": ttl_attribute, "Enabled": True}
        )


def http_api_routes() -> set[tuple[str, str]]:
    """Every (METHOD, path) that template.yaml wires to a function through the HTTP API."""
    return {(route.method, route.path) for route in _template().routes()}


# ----- the state machine ----------------------------------------------------------------------------

DUMMY_MATCHING_FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:ridecast-test-matching"


def matching_definition(function_arn: str = DUMMY_MATCHING_FUNCTION_ARN) -> str:
    """The ASL that deploys, with the template's DefinitionSubstitutions applied (the function ARN swapped for
    `function_arn`)."""
    props = _template().resources_of("AWS::Serverless::StateMachine")["MatchingStateMachine"]
    substitutions = {**props["DefinitionSubstitutions"], "MatchingFunctionArn": function_arn}
    text = (REPO_ROOT / props["DefinitionUri"]).read_text()
    return substitute_definition(text, substitutions, "MatchingStateMachine")


def create_matching_state_machine(sfn_client: Any, name: str) -> str:
    """Register the matching state machine (moto does not run it unless told to) and return its ARN."""
    answer = sfn_client.create_state_machine(
        name=name,
        definition=matching_definition(),
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/ridecast-test-matching",
        type="STANDARD",
    )
    return str(answer["stateMachineArn"])


# ----- events ---------------------------------------------------------------------------------------


def load_event(relative_path: str) -> dict[str, Any]:
    """A fresh copy of events/<relative_path>, safe to modify."""
    data: dict[str, Any] = json.loads((EVENTS_DIR / relative_path).read_text())
    return data


def event_files(folder: str = "") -> list[Path]:
    return sorted((EVENTS_DIR / folder).rglob("*.json"))


def with_principal(event: dict[str, Any], principal: dict[str, str] | None) -> dict[str, Any]:
    """The event as the authorizer would have passed it for `principal` (None: no authorizer context)."""
    changed = copy.deepcopy(event)
    context = changed["requestContext"]
    if principal is None:
        context.pop("authorizer", None)
    else:
        context["authorizer"] = {"lambda": principal}
    return changed


def with_body(event: dict[str, Any], body: Any, *, raw: bool = False) -> dict[str, Any]:
    """The event with another body: JSON-encoded unless `raw` (then sent exactly as given)."""
    changed = copy.deepcopy(event)
    changed["body"] = body if raw else json.dumps(body)
    changed["headers"]["content-length"] = str(len(changed["body"].encode()))
    return changed


def with_path(event: dict[str, Any], **path_parameters: str) -> dict[str, Any]:
    """The event for other path parameters, keeping rawPath and requestContext.http.path consistent."""
    changed = copy.deepcopy(event)
    route = changed["routeKey"].split(" ", 1)[1]
    path = route
    for name, value in path_parameters.items():
        path = path.replace("{" + name + "}", value)
    changed["pathParameters"] = {**changed.get("pathParameters", {}), **path_parameters}
    changed["rawPath"] = path
    changed["requestContext"]["http"]["path"] = path
    return changed


def with_query(event: dict[str, Any], **query: str) -> dict[str, Any]:
    changed = copy.deepcopy(event)
    if query:
        changed["queryStringParameters"] = dict(query)
    else:
        changed.pop("queryStringParameters", None)
    changed["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    return changed


# ----- Lambda handlers -------------------------------------------------------------------------------


@dataclass
class FakeLambdaContext:
    """What Powertools reads from the Lambda context object."""

    function_name: str = "ridecast-test"
    function_version: str = "$LATEST"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:ridecast-test"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "7f2b8c1e-0d3a-4e5f-9a6b-1c2d3e4f5a6b"
    log_group_name: str = "/aws/lambda/ridecast-test"
    log_stream_name: str = "2025/03/14/[$LATEST]0123456789abcdef"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def load_function(name: str) -> ModuleType:
    """functions/<name>/app.py as its own module: every function file is called app.py."""
    module_name = f"ridecast_function_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = REPO_ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module


def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
    """Call functions/<function>/app.py's lambda_handler the way Lambda would."""
    answer: dict[str, Any] = load_function(function).lambda_handler(copy.deepcopy(event), FakeLambdaContext())
    return answer


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
