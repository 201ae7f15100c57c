"""POST /drivers/message over the drivers function (SPEC §3, §8): 202 at once with the count, the sending
handed to the messaging function as an asynchronous invoke; every bad input a 4xx naming the problem."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ridecast.adapters import jobs
from ridecast.domain.drivers.commands import NewDriver
from ridecast.domain.drivers.roster import register_driver
from ridecast.settings import get_settings
from ridecast.wiring import ports
from tests.fixtures import invoke, json_body, load_event, with_body, with_principal
from tests.unit.conftest import AwsStack, fleet_principal

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


class RecordingLambda:
    def __init__(self, error: Exception | None = None) -> None:
        self.invocations: list[dict[str, Any]] = []
        self._error = error

    def invoke(self, **call: Any) -> dict[str, Any]:
        if self._error is not None:
            raise self._error
        self.invocations.append(call)
        return {"StatusCode": 202}


@pytest.fixture(autouse=True)
def messaging_function(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What template.yaml gives the drivers function."""
    monkeypatch.setenv("MESSAGING_FUNCTION_NAME", "MessagingFunction")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def lambda_client(monkeypatch: pytest.MonkeyPatch) -> RecordingLambda:
    recorder = RecordingLambda()
    monkeypatch.setattr(jobs, "client", lambda: recorder)
    return recorder


@pytest.fixture
def fleet_with_drivers(make_fleet: Any) -> tuple[Any, list[Any]]:
    senders = [{"channel": "sms", "from": "+15005550006"}]
    fleet, _ = make_fleet(twilio={"account_sid": "AC" + "0" * 32, "auth_token": "token", "senders": senders})
    drivers = [
        register_driver(ports(), fleet.fleet_id, NewDriver(name=f"D{n}", phone=f"+44770090010{n}", channel="sms"))
        for n in range(2)
    ]
    return fleet, drivers


def _message(fleet_id: str, body: Any, role: str = "admin") -> dict[str, Any]:
    event = with_principal(load_event("drivers/message_drivers.json"), fleet_principal(fleet_id, role))
    return invoke("drivers", with_body(event, body))


def test_a_message_is_answered_202_with_its_recipients_and_handed_off_asynchronously(
    aws: AwsStack, fleet_with_drivers: tuple[Any, list[Any]], lambda_client: RecordingLambda
) -> None:
    fleet, _ = fleet_with_drivers
    # When an admin messages every driver of the fleet
    response = _message(fleet.fleet_id, {"text": "Road closed:\nuse the M1"})
    # Then the answer is 202 with the count, at once
    assert response["statusCode"] == 202, response["body"]
    answer = json_body(response)
    assert answer["recipients"] == 2
    # And the sending went to the messaging function as an Event (asynchronous) invoke, nothing sent here
    (call,) = lambda_client.invocations
    assert (call["FunctionName"], call["InvocationType"]) == ("MessagingFunction", "Event")
    assert json.loads(call["Payload"]) == {
        "fleet_id": fleet.fleet_id,
        "message_id": answer["message_id"],
        "text": "Road closed:\nuse the M1",
        "driver_ids": None,
    }


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"text": ""}, "text"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 1001}, "text"),
        ({"text": "carriage\r\nreturn"}, "U+000D"),
        ({"text": "a\ttab"}, "U+0009"),
        ({"text": "line\u2028separator"}, "U+2028"),
        ({"text": "bell\x07"}, "U+0007"),
        ({"text": 42}, "text"),
        ({}, "text"),
        ({"text": "hi", "driver_ids": []}, "driver_ids"),
        ({"text": "hi", "driver_ids": "d1"}, "driver_ids"),
        ({"text": "hi", "driver_ids": ["d1", "d1"]}, "d1 repeated"),
        ({"text": "hi", "driver_ids": ["not an id!"]}, "driver_ids"),
        ({"text": "hi", "driver_ids": ["d1"] * 1001}, "driver_ids"),
        ({"text": "hi", "urgent": True}, "urgent"),
    ],
)
def test_bad_messages_are_422_naming_the_problem_and_nothing_is_queued(
    aws: AwsStack,
    fleet_with_drivers: tuple[Any, list[Any]],
    lambda_client: RecordingLambda,
    body: dict[str, Any],
    words: str,
) -> None:
    fleet, _ = fleet_with_drivers
    response = _message(fleet.fleet_id, body)
    assert response["statusCode"] == 422, response["body"]
    assert words in json_body(response)["message"]
    assert lambda_client.invocations == []


def test_unknown_drivers_are_404_naming_them(
    aws: AwsStack, fleet_with_drivers: tuple[Any, list[Any]], lambda_client: RecordingLambda
) -> None:
    fleet, drivers = fleet_with_drivers
    response = _message(fleet.fleet_id, {"text": "hi", "driver_ids": [drivers[0].driver_id, "dmissing01"]})
    assert response["statusCode"] == 404, response["body"]
    assert json_body(response)["driver_ids"] == ["dmissing01"]
    assert lambda_client.invocations == []


def test_a_dispatcher_may_not_message_drivers(
    aws: AwsStack, fleet_with_drivers: tuple[Any, list[Any]], lambda_client: RecordingLambda
) -> None:
    fleet, _ = fleet_with_drivers
    assert _message(fleet.fleet_id, {"text": "hi"}, role="dispatcher")["statusCode"] == 403
    assert lambda_client.invocations == []


def test_when_lambda_refuses_the_invoke_the_caller_gets_503_and_may_retry(
    aws: AwsStack, fleet_with_drivers: tuple[Any, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet, _ = fleet_with_drivers
    throttled = ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}}, "Invoke")
    monkeypatch.setattr(jobs, "client", lambda: RecordingLambda(error=throttled))
    response = _message(fleet.fleet_id, {"text": "hi"})
    assert response["statusCode"] == 503
    assert json_body(response)["error"] == "background_unavailable"


def test_without_a_messaging_function_configured_it_is_503_not_a_silent_202(
    aws: AwsStack, fleet_with_drivers: tuple[Any, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet, _ = fleet_with_drivers
    monkeypatch.setenv("MESSAGING_FUNCTION_NAME", "")
    get_settings.cache_clear()
    response = _message(fleet.fleet_id, {"text": "hi"})
    assert (response["statusCode"], json_body(response)["error"]) == (503, "background_unavailable")
