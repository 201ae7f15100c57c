"""Cold start (SPEC §7, issue 14).

Handlers import only what they use: importing a function's handler, in a fresh interpreter with Lambda's
environment, loads none of the heavy modules its cold start must not pay for. Each of these is imported on
the code path that needs it (boto3 by `ridecast.wiring` on first use, the Twilio SDK when a message goes
out, segno when a QR code is drawn...). And the functions on the ride's hot path start from a SnapStart
snapshot, reached through the alias that points at it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ridecast.domain.entities import DomainModel
from ridecast.wiring import build_loaded_models
from tests.fixtures import REPO_ROOT, load_template

HANDLERS = sorted((REPO_ROOT / "functions").glob("*/app.py"))
HEAVY = (
    "boto3",  # ~270 ms alone, and the target is 1.3 times that for the whole handler
    "botocore.session",
    "aws_xray_sdk",  # Powertools Tracer: patches botocore and requests at import
    "pydantic_settings",
    "twilio",
    "aiohttp",
    "yarl",  # aiohttp's URL library, for the Twilio adapter's form bodies
    "requests",
    "segno",
    "babel",
)
# Routing, validation and the OpenAPI machinery are for HTTP functions only. The package itself is always
# there, registered lazily by ridecast/__init__.py (ridecast.lazy_packages): its resolver module is what costs.
EVENT_HANDLER = "aws_lambda_powertools.event_handler.api_gateway"
# What Powertools' package __init__ files would load and an HTTP API function never uses: the other resolvers
# (AppSync's and the HTTP resolver import asyncio, with ssl and socket), other event sources' data classes.
UNUSED_BY_HTTP = (
    "asyncio",
    "aws_lambda_powertools.event_handler.appsync",
    "aws_lambda_powertools.event_handler.bedrock_agent",
    "aws_lambda_powertools.event_handler.http_resolver",
    "aws_lambda_powertools.utilities.data_classes.code_pipeline_job_event",
    "aws_lambda_powertools.utilities.data_classes.sqs_event",
    # Another area's models: each function loads its own (ridecast/api/models/__init__.py imports none).
    "ridecast.api.models.fleets",
)
# What one function's rare routes import when they run: rides' reassign reaches the whole broadcast.
ON_THEIR_ROUTE = {"rides": ("ridecast.domain.matching.broadcast",)}
# Made by the first request (ridecast.api.routing._validation), or before the snapshot under SnapStart.
VALIDATION = "aws_lambda_powertools.event_handler.middlewares.openapi_validation"


def _functions() -> dict[str, dict[str, Any]]:
    """template.yaml's functions by their folder under functions/."""
    resources = load_template()["Resources"]
    return {
        Path(r["Properties"]["CodeUri"]).name: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Serverless::Function"
    }


def _serves_http(properties: dict[str, Any]) -> bool:
    return any(event["Type"] == "HttpApi" for event in (properties.get("Events") or {}).values())


HTTP_FUNCTIONS = {name for name, properties in _functions().items() if _serves_http(properties)}
# The ride's hot path, where a customer or driver waits on every call: the authorizer in front of the API,
# creating and reading rides, the offer page, drivers' replies, and the matching tasks. SnapStart keeps a
# cached snapshot per function (billed per GB-second, README "Cold start and SnapStart"), so the admin and
# operator routes, the documents and the scheduled functions start cold instead.
SNAPSTART = {"authorizer", "rides", "offers", "twilio_webhook", "telegram_webhook", "matching"}

_PROBE = """
import importlib.util, json, sys
sys.path.insert(0, {layer!r})
spec = importlib.util.spec_from_file_location("handler_under_test", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(sorted(sys.modules)))
"""


def _modules_loaded_by(app: Path, initialization_type: str = "on-demand") -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS", "AWS_"))} | {
        "TABLE_NAME": "ridecast-test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_FUNCTION_NAME": app.parent.name,
        "LAMBDA_TASK_ROOT": str(REPO_ROOT),
        "POWERTOOLS_SERVICE_NAME": app.parent.name,
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type,
    }
    code = _PROBE.format(layer=str(REPO_ROOT / "layers" / "common"), path=str(app))
    answer = subprocess.run(  # noqa: S603 - this interpreter running our own probe
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=REPO_ROOT
    )
    return set(json.loads(answer.stdout.strip().splitlines()[-1]))


def _loaded(modules: set[str], prefix: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for name in modules)


@pytest.mark.parametrize("app", HANDLERS, ids=lambda app: app.parent.name)
def test_handler_imports_no_heavy_module(app: Path) -> None:
    # Given a fresh interpreter in Lambda's environment
    # When only the handler module is imported, as Lambda's init does
    modules = _modules_loaded_by(app)
    # Then none of the heavy modules is loaded, nor the Event Handler outside HTTP functions
    heavy = [prefix for prefix in HEAVY if _loaded(modules, prefix)]
    if app.parent.name not in HTTP_FUNCTIONS:
        heavy += [EVENT_HANDLER] if _loaded(modules, EVENT_HANDLER) else []
    assert heavy == [], f"{app.parent.name} imports {heavy} at cold start"
    # And it did import its own package (the probe really loaded the handler)
    assert "ridecast" in modules


@pytest.mark.parametrize("name", sorted(HTTP_FUNCTIONS - {"fleets"}))
def test_an_http_function_loads_only_its_own_resolver_events_and_models(name: str) -> None:
    # Given a fresh interpreter in Lambda's environment
    # When an HTTP function's handler is imported
    modules = _modules_loaded_by(REPO_ROOT / "functions" / name / "app.py")
    # Then its resolver is loaded, and none of what only the package __init__ files or other areas would bring
    assert EVENT_HANDLER in modules
    assert [prefix for prefix in UNUSED_BY_HTTP + ON_THEIR_ROUTE.get(name, ()) if _loaded(modules, prefix)] == []
    # And the validation waits for the first request
    assert VALIDATION not in modules


@pytest.mark.parametrize("name", sorted(SNAPSTART & HTTP_FUNCTIONS))
def test_a_snapshot_init_imports_the_adapters_ahead_of_callers(name: str) -> None:
    # Given an HTTP function of the hot path initialised for a SnapStart snapshot
    # When its handler is imported (the probe fails if warming its routes raises: so would the snapshot)
    modules = _modules_loaded_by(REPO_ROOT / "functions" / name / "app.py", "snap-start")
    # Then the ports are built then, so boto3 and the repositories are in the snapshot, not paid after restore
    assert _loaded(modules, "boto3")
    assert "ridecast.repositories.rides" in modules
    # And so is what the first request would make: the validation and the routes' parameters and models
    assert VALIDATION in modules
    assert "aws_lambda_powertools.event_handler.openapi.dependant" in modules


def test_every_handler_is_a_template_function() -> None:
    # Given the handlers on disk and the functions template.yaml deploys
    # Then they are the same set, so the import check above covers every deployed function
    assert {app.parent.name for app in HANDLERS} == set(_functions())
    assert {"rides", "offers", "twilio_webhook"} <= HTTP_FUNCTIONS


@pytest.mark.parametrize("name", sorted(_functions()))
def test_the_hot_path_starts_from_a_snapshot_and_only_it(name: str) -> None:
    # Given a deployed function
    properties = _functions()[name]
    # Then it is published with SnapStart behind an alias exactly when it is on the ride's hot path
    snapstart = properties.get("SnapStart") == {"ApplyOn": "PublishedVersions"}
    assert (snapstart, bool(properties.get("AutoPublishAlias"))) == (name in SNAPSTART, name in SNAPSTART)


def test_callers_outside_sam_events_invoke_the_alias() -> None:
    # Given the two invokers that name a function themselves (SAM points HttpApi events at the alias)
    resources = load_template()["Resources"]
    authorizer = resources["HttpApi"]["Properties"]["Auth"]["Authorizers"]["ApiKeyAuthorizer"]
    substitutions = resources["MatchingStateMachine"]["Properties"]["DefinitionSubstitutions"]
    # Then both invoke the published alias (SnapStart), not $LATEST (initialised from scratch)
    assert authorizer["FunctionArn"] == {"Ref": "AuthorizerFunction.Alias"}
    assert substitutions["MatchingFunctionArn"] == {"Ref": "MatchingFunction.Alias"}


def test_a_snapshot_builds_every_deferred_model_of_ridecast() -> None:
    # Given a Ridecast model whose validators are deferred to first use, as every domain model's are
    probe = type(
        "SnapshotProbe", (DomainModel,), {"__module__": "ridecast.domain.probe", "__annotations__": {"x": int}}
    )
    assert not probe.__pydantic_complete__
    # When the models loaded so far are built, as initialisation ahead of callers does
    build_loaded_models()
    # Then its validators are there before any caller uses it
    assert probe.__pydantic_complete__
    assert probe(x=1).x == 1
