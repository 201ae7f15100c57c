"""GET /openapi.json describes every route of template.yaml, as the functions really serve them (SPEC §3)."""

import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from ridecast.api.routes.openapi import document
from tests.fixtures import http_api_routes, invoke, json_body, load_event, load_function, load_template

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def _operations(openapi: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{method.upper()} {path}": op for path, item in openapi["paths"].items() for method, op in item.items()}


def _template_routes() -> dict[str, tuple[str, bool]]:
    """`METHOD /path` -> (functions/<dir> serving it, whether the authorizer runs before it)."""
    routes: dict[str, tuple[str, bool]] = {}
    for resource in load_template()["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") == "HttpApi":
                properties = event["Properties"]
                public = (properties.get("Auth") or {}).get("Authorizer") == "NONE"
                key = f"{properties['Method'].upper()} {properties['Path']}"
                routes[key] = (Path(resource["Properties"]["CodeUri"]).name, not public)
    return routes


def test_the_document_lists_every_route_of_the_template_and_no_other() -> None:
    # Given the routes template.yaml wires to functions, When the document is generated
    described = set(_operations(json.loads(document())))
    # Then it describes exactly those
    expected = {f"{method} {path}" for method, path in http_api_routes()}
    assert sorted(expected - described) == [], "routes of template.yaml missing from GET /openapi.json"
    assert sorted(described - expected) == [], "documented routes that template.yaml does not wire"


def test_each_function_serves_exactly_the_routes_the_template_sends_it(aws: Any) -> None:
    by_function: dict[str, set[str]] = {}
    for key, (function, _) in _template_routes().items():
        by_function.setdefault(function, set()).add(key)
    for function, keys in by_function.items():
        app = load_function(function).app
        served = set(
            _operations(json.loads(app.get_openapi_json_schema(security_schemes={"bearerAuth": HTTPBearer()})))
        )
        assert served == keys, function


def test_the_bearer_key_is_asked_exactly_where_the_authorizer_runs() -> None:
    # The authorizer runs on every route but those marked `Authorizer: NONE`; the document must agree
    operations = _operations(json.loads(document()))
    for key, (_, behind_authorizer) in _template_routes().items():
        assert bool(operations[key].get("security")) == behind_authorizer, key
        if behind_authorizer:
            assert operations[key]["security"] == [{"bearerAuth": []}]
            assert {"401", "403"} <= set(operations[key]["responses"]), key


def test_every_error_answer_is_documented_with_its_body() -> None:
    openapi = json.loads(document())
    error_body = openapi["components"]["schemas"]["ErrorOut"]
    assert error_body["required"] == ["message"]
    for key, operation in _operations(openapi).items():
        for status, response in operation["responses"].items():
            if status.startswith("4") and "application/json" in response.get("content", {}):
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}, (
                    key
                )


def test_get_openapi_json_is_public_and_serves_openapi_3_1(aws: Any) -> None:
    # Given the sample event API Gateway sends for GET /openapi.json (no authorizer context)
    response = invoke("openapi", load_event("openapi/get_openapi.json"))
    # Then the answer is the document, with the Bearer scheme
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"
    served = json_body(response)
    assert served["openapi"] == "3.1.0"
    assert served["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A fleet API key, or the platform root key",
    }
    assert served == json.loads(document())


def test_webhooks_describe_the_bodies_they_read_themselves() -> None:
    operations = _operations(json.loads(document()))
    for key in ("POST /webhooks/twilio", "POST /webhooks/twilio/status"):
        assert "application/x-www-form-urlencoded" in operations[key]["requestBody"]["content"], key
    telegram = operations["POST /webhooks/telegram/{fleet_id}"]["requestBody"]["content"]["application/json"]
    assert telegram["schema"]["required"] == ["update_id"]


def test_fleet_answers_show_twilio_senders_as_from() -> None:
    sender = json.loads(document())["components"]["schemas"]["TwilioSenderOut"]
    assert "from" in sender["properties"]
    assert "from_" not in sender["properties"]
