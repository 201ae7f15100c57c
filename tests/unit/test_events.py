"""events/ holds what AWS really sends each function; these tests keep it true to template.yaml,
the request models, the state machine and the handlers as they change."""

import base64
import inspect
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from pydantic import BaseModel
from twilio.request_validator import RequestValidator

from ridecast.api.models.dispatch import SetModeRequest
from ridecast.api.models.drivers import CreateDriverRequest, MessageDriversRequest, UpdateDriverRequest
from ridecast.api.models.fleets import CreateApiKeyRequest, CreateFleetRequest, UpdateFleetRequest
from ridecast.api.models.rides import BatchRidesRequest, CancelRideRequest, CreateRideRequest, ReassignRideRequest
from ridecast.domain.drivers.messaging import queue_driver_message
from ridecast.domain.matching.tasks import TASKS
from tests.fakes import Fakes
from tests.fixtures import (
    ASL_PATH,
    EVENTS_DIR,
    event_files,
    http_api_routes,
    invoke,
    load_event,
    load_template,
)
from tests.unit.conftest import AwsStack
from tests.unit.domain.conftest import a_fleet, drivers_of

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

# The request model behind each route that takes a JSON body (the handlers' `body:` parameter).
BODY_MODELS: dict[str, type[BaseModel]] = {
    "POST /fleets": CreateFleetRequest,
    "POST /fleets/{fleet_id}/api-keys": CreateApiKeyRequest,
    "PATCH /fleets/{fleet_id}": UpdateFleetRequest,
    "POST /drivers": CreateDriverRequest,
    "PATCH /drivers/{driver_id}": UpdateDriverRequest,
    "POST /drivers/message": MessageDriversRequest,
    "POST /rides": CreateRideRequest,
    "POST /rides/batch": BatchRidesRequest,
    "POST /rides/{ride_id}/cancel": CancelRideRequest,
    "POST /rides/{ride_id}/reassign": ReassignRideRequest,
    "POST /dispatch/mode": SetModeRequest,
}


def _http_events() -> list[Path]:
    """Events API Gateway sends to a route (the authorizer's REQUEST event is not one)."""
    return [
        path
        for path in event_files()
        if (data := json.loads(path.read_text())).get("version") == "2.0" and data.get("type") != "REQUEST"
    ]


def _name(path: Path) -> str:
    return str(path.relative_to(EVENTS_DIR))


def _route_functions() -> dict[str, str]:
    """`METHOD /path` -> the functions/<dir> that serves it, per template.yaml."""
    served: dict[str, str] = {}
    for resource in load_template()["Resources"].values():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        folder = Path(resource["Properties"]["CodeUri"]).name
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") == "HttpApi":
                served[f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}"] = folder
    return served


def _public_routes() -> set[str]:
    public = set()
    for resource in load_template()["Resources"].values():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") == "HttpApi" and (event["Properties"].get("Auth") or {}).get("Authorizer") == "NONE":
                public.add(f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}")
    return public


def _body_text(event: dict[str, Any]) -> str:
    body = event.get("body") or ""
    return base64.b64decode(body).decode() if event.get("isBase64Encoded") else body


# ----- HTTP API events ---------------------------------------------------------------------------------------


def test_every_route_in_the_template_has_a_sample_event() -> None:
    covered = {json.loads(p.read_text())["routeKey"] for p in _http_events()}
    missing = sorted(f"{method} {path}" for method, path in http_api_routes() if f"{method} {path}" not in covered)
    assert missing == [], "add an event under events/ for each new route"


def test_every_http_event_names_a_route_that_exists() -> None:
    routes = {f"{method} {path}" for method, path in http_api_routes()}
    unknown = sorted(key for p in _http_events() if (key := json.loads(p.read_text())["routeKey"]) not in routes)
    assert unknown == []


@pytest.mark.parametrize("path", _http_events(), ids=_name)
def test_http_events_are_consistent_payload_v2(path: Path) -> None:
    event = json.loads(path.read_text())
    method, route = event["routeKey"].split(" ", 1)
    context = event["requestContext"]
    # Route, method and path agree everywhere API Gateway repeats them
    assert context["routeKey"] == event["routeKey"]
    assert context["http"]["method"] == method
    assert context["http"]["path"] == event["rawPath"]
    assert context["stage"] == "$default"
    filled = route
    for name, value in (event.get("pathParameters") or {}).items():
        filled = filled.replace("{" + name + "}", value)
    assert filled == event["rawPath"], "pathParameters do not fill the route to rawPath"
    assert "{" not in filled
    # Query string and its parsed form agree
    assert dict(parse_qsl(event["rawQueryString"])) == (event.get("queryStringParameters") or {})
    # HTTP APIs lower-case header names
    assert all(name == name.lower() for name in event["headers"])
    if "body" in event and not event["isBase64Encoded"]:
        assert event["headers"]["content-length"] == str(len(event["body"].encode()))


@pytest.mark.parametrize("path", _http_events(), ids=_name)
def test_authorizer_context_is_what_the_authorizer_produces(path: Path) -> None:
    event = json.loads(path.read_text())
    authorizer = event["requestContext"].get("authorizer")
    if event["routeKey"] in _public_routes():
        # Routes with `Auth: {Authorizer: NONE}` never see an authorizer context
        assert authorizer is None
        return
    context = authorizer["lambda"]
    assert set(context) == {"principal", "fleet_id", "role", "key_id"}
    assert event["headers"]["authorization"].startswith("Bearer ")
    if context["principal"] == "root":
        assert context == {"principal": "root", "fleet_id": "", "role": "", "key_id": ""}
    else:
        assert context["principal"] == "fleet"
        assert context["role"] in ("admin", "dispatcher")
        assert context["fleet_id"]
        assert context["key_id"]


@pytest.mark.parametrize("path", _http_events(), ids=_name)
def test_json_bodies_are_valid_requests(path: Path) -> None:
    event = json.loads(path.read_text())
    if event["headers"].get("content-type") != "application/json" or event["routeKey"].startswith("POST /webhooks/"):
        assert event["routeKey"] not in BODY_MODELS, "a route that takes a JSON body needs a body in its event"
        return
    model = BODY_MODELS[event["routeKey"]]
    model.model_validate_json(event["body"])


def test_form_posts_arrive_base64_encoded_as_http_apis_send_them() -> None:
    for path in event_files("webhooks"):
        event = json.loads(path.read_text())
        if event["headers"].get("content-type") == "application/x-www-form-urlencoded":
            assert event["isBase64Encoded"] is True
            assert parse_qsl(_body_text(event))


def test_twilio_events_are_signed_for_the_template_public_url() -> None:
    # Twilio signs the URL it posts to with the fleet's auth token (events/fleets/create_fleet.json)
    auth_token = json.loads(load_event("fleets/create_fleet.json")["body"])["twilio"]["auth_token"]
    public_url = load_template()["Parameters"]["PublicBaseUrl"]["Default"]
    for name in ("webhooks/twilio_reply.json", "webhooks/twilio_status.json"):
        event = load_event(name)
        url = public_url + event["rawPath"] + (f"?{event['rawQueryString']}" if event["rawQueryString"] else "")
        params = dict(parse_qsl(_body_text(event), keep_blank_values=True))
        assert RequestValidator(auth_token).validate(url, params, event["headers"]["x-twilio-signature"]), name


# ----- non-HTTP events ----------------------------------------------------------------------------------------


def test_the_authorizer_event_is_a_v2_request_with_the_identity_source() -> None:
    event = load_event("authorizer/request.json")
    authorizer = load_template()["Resources"]["HttpApi"]["Properties"]["Auth"]["Authorizers"]["ApiKeyAuthorizer"]
    assert authorizer["AuthorizerPayloadFormatVersion"] == event["version"] == "2.0"
    assert event["type"] == "REQUEST"
    identity = [event["headers"][header.lower()] for header in authorizer["Identity"]["Headers"]]
    assert event["identitySource"] == identity
    assert re.fullmatch(r"arn:aws:execute-api:[a-z0-9-]+:\d{12}:\w+/\$default/[A-Z]+/.*", event["routeArn"])


def _asl_lambda_payloads() -> dict[str, dict[str, Any]]:
    definition = json.loads(ASL_PATH.read_text())
    payloads = {}
    for state in definition["States"].values():
        payload = (state.get("Parameters") or {}).get("Payload")
        if state.get("Type") == "Task" and payload:
            payloads[payload["task"]] = payload
    return payloads


def test_every_task_the_state_machine_calls_exists_and_has_an_event() -> None:
    called = set(_asl_lambda_payloads())
    assert called <= set(TASKS), "the ASL calls a task functions/matching does not know"
    samples = {json.loads(p.read_text())["task"] for p in event_files("matching")}
    assert samples == set(TASKS)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_matching_events_carry_what_the_asl_passes_and_the_task_accepts(task: str) -> None:
    event = load_event(f"matching/{task}.json")
    arguments = {k: v for k, v in event.items() if k != "task"}
    payload = _asl_lambda_payloads().get(task)
    if payload is not None:
        # The same keys the state machine sends (`key.$` in the ASL is `key` in the event)
        assert set(event) == {key.removesuffix(".$") for key in payload}
    # And the task function takes exactly these arguments
    inspect.signature(TASKS[task]).bind(None, **arguments)  # the ports come first


def test_the_sweeper_event_is_the_scheduler_default_notification() -> None:
    event = load_event("sweeper/scheduled.json")
    schedules = [
        e
        for e in load_template()["Resources"]["SweeperFunction"]["Properties"]["Events"].values()
        if e["Type"] == "ScheduleV2"
    ]
    assert schedules
    assert all("Input" not in s["Properties"] for s in schedules)
    assert (event["source"], event["detail-type"]) == ("aws.scheduler", "Scheduled Event")
    assert event["resources"][0].startswith("arn:aws:scheduler:")


def test_the_messaging_event_is_what_the_drivers_api_queues() -> None:
    fakes = Fakes()
    # Given a fleet with a driver, When an admin messages them, Then the queued job has the sample's keys
    fleet = a_fleet(fakes)
    (driver,) = drivers_of(fakes, fleet, 1)
    queue_driver_message(fakes.ports, fleet.fleet_id, "Hi", [driver.driver_id])
    (job,) = fakes.jobs.driver_messages
    sample = load_event("messaging/deliver_message.json")
    assert set(job) == set(sample)
    assert {k: type(v) for k, v in job.items()} == {k: type(v) for k, v in sample.items()}


# ----- the handlers take them -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", _http_events(), ids=_name)
def test_no_sample_event_makes_its_function_fail(aws: AwsStack, path: Path) -> None:
    # Given an empty stack (the ids in the events exist nowhere)
    event = json.loads(path.read_text())
    function = _route_functions()[event["routeKey"]]
    # When the event reaches its function, Then the answer is an HTTP answer below 500
    response = invoke(function, event)
    assert response["statusCode"] < 500, response.get("body")


def test_the_sweeper_takes_its_event(aws: AwsStack) -> None:
    assert invoke("sweeper", load_event("sweeper/scheduled.json")) == {"settled": 0}
