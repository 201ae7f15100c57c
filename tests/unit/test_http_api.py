"""The HTTP answers of the API functions for the events API Gateway sends (SPEC §3 status codes).

Handlers are called exactly as Lambda calls them (events from events/, a Lambda context) against
moto; creating a ride starts a real (moto) execution of the matching state machine, which moto
registers but does not run.
"""

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ridecast.domain.drivers.commands import NewDriver
from ridecast.domain.drivers.roster import register_driver
from ridecast.domain.fleets.accounts import create_fleet
from ridecast.domain.fleets.commands import NewFleet
from ridecast.wiring import ports
from tests.fixtures import invoke, json_body, load_event, with_body, with_path, with_principal, with_query
from tests.unit.conftest import AwsStack, fleet_principal

# Handlers without metrics to publish warn on every call; that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def _as(event_path: str, fleet_id: str, role: str = "dispatcher") -> dict[str, Any]:
    return with_principal(load_event(event_path), fleet_principal(fleet_id, role))


def _create_ride(fleet_id: str, **changes: Any) -> dict[str, Any]:
    event = _as("rides/create_ride.json", fleet_id)
    event["headers"].pop("idempotency-key")
    if changes:
        event = with_body(event, {**json.loads(event["body"]), **changes})
    response = invoke("rides", event)
    assert response["statusCode"] == 201, response["body"]
    created: dict[str, Any] = json_body(response)
    return created


def _assert_json_error(response: dict[str, Any], status: int) -> dict[str, Any]:
    assert response["statusCode"] == status, response["body"]
    assert response["headers"]["Content-Type"] == "application/json"
    body: dict[str, Any] = json_body(response)
    assert body["message"]
    return body


# ----- 401 / 403 / 404: who may call ------------------------------------------------------------------------


def test_a_request_whose_key_the_authorizer_did_not_know_is_401(fleet: Any) -> None:
    # Given a valid ride request that the authorizer passed on as anonymous (unknown or missing key)
    event = with_principal(load_event("rides/create_ride.json"), {"principal": "anonymous"})
    # When it reaches the rides function
    response = invoke("rides", event)
    # Then it is a JSON 401, and no ride was created
    assert _assert_json_error(response, 401)["error"] == "unauthenticated"
    assert ports().stores.rides.for_fleet(fleet.fleet_id, None, None, 10, None)[0] == []


def test_a_request_without_any_authorizer_context_is_401_too(aws: AwsStack) -> None:
    response = invoke("rides", with_principal(load_event("rides/get_ride.json"), None))
    _assert_json_error(response, 401)


def test_a_dispatcher_may_not_manage_drivers(fleet: Any) -> None:
    # Given a dispatcher key of the fleet
    event = _as("drivers/create_driver.json", fleet.fleet_id, role="dispatcher")
    # When it registers a driver, Then 403 and no driver exists
    assert _assert_json_error(invoke("drivers", event), 403)["error"] == "forbidden"
    assert ports().stores.drivers.for_fleet(fleet.fleet_id) == []


def test_the_root_key_may_not_create_rides(fleet: Any) -> None:
    event = with_principal(load_event("rides/create_ride.json"), {"principal": "root"})
    _assert_json_error(invoke("rides", event), 403)


def test_only_root_creates_fleets(fleet: Any) -> None:
    event = _as("fleets/create_fleet.json", fleet.fleet_id, role="admin")
    _assert_json_error(invoke("fleets", event), 403)


def test_an_unknown_ride_is_404(fleet: Any) -> None:
    event = with_path(_as("rides/get_ride.json", fleet.fleet_id), ride_id="rzzzzzzzzzzzz")
    assert _assert_json_error(invoke("rides", event), 404)["error"] == "not_found"


def test_another_fleets_ride_is_404_not_403(aws: AwsStack) -> None:
    # Given a ride of fleet A
    fleet_a, _, _ = create_fleet(ports(), NewFleet(name="A Cabs"))
    fleet_b, _, _ = create_fleet(ports(), NewFleet(name="B Cabs"))
    ride = _create_ride(fleet_a.fleet_id)
    # When fleet B's dispatcher asks for it or tries to cancel it
    read = invoke("rides", with_path(_as("rides/get_ride.json", fleet_b.fleet_id), ride_id=ride["ride_id"]))
    cancel = invoke("rides", with_path(_as("rides/cancel_ride.json", fleet_b.fleet_id), ride_id=ride["ride_id"]))
    # Then the ride does not exist for them, and it is still searching
    _assert_json_error(read, 404)
    _assert_json_error(cancel, 404)
    stored = ports().stores.rides.get(ride["ride_id"])
    assert stored is not None
    assert stored.status == "searching"


def test_another_fleets_settings_are_404(aws: AwsStack) -> None:
    fleet_a, _, _ = create_fleet(ports(), NewFleet(name="A Cabs"))
    fleet_b, _, _ = create_fleet(ports(), NewFleet(name="B Cabs"))
    event = with_path(_as("fleets/get_fleet.json", fleet_b.fleet_id, role="admin"), fleet_id=fleet_a.fleet_id)
    _assert_json_error(invoke("fleets", event), 404)


# ----- 422 / 400: what may be sent --------------------------------------------------------------------------


def test_an_invalid_body_is_422_naming_the_field(fleet: Any) -> None:
    # Given a ride request whose customer phone is not E.164
    event = _as("rides/create_ride.json", fleet.fleet_id)
    body = json.loads(event["body"])
    body["customer"]["phone"] = "07700 900123"
    # When it is sent
    response = invoke("rides", with_body(event, body))
    # Then the answer says which field is wrong
    error = _assert_json_error(response, 422)
    assert error["error"] == "invalid_input"
    assert "customer.phone" in error["message"]
    assert [e["field"] for e in error["errors"]] == ["customer.phone"]


def test_a_missing_field_is_422_naming_it(fleet: Any) -> None:
    event = _as("rides/create_ride.json", fleet.fleet_id)
    body = json.loads(event["body"])
    del body["pickup"]
    error = _assert_json_error(invoke("rides", with_body(event, body)), 422)
    assert "pickup" in error["message"]


def test_an_unknown_field_is_422_naming_it(fleet: Any) -> None:
    event = _as("rides/create_ride.json", fleet.fleet_id)
    body = {**json.loads(event["body"]), "priority": "high"}
    error = _assert_json_error(invoke("rides", with_body(event, body)), 422)
    assert "priority" in error["message"]


def test_unparseable_json_is_400(fleet: Any) -> None:
    event = with_body(_as("rides/create_ride.json", fleet.fleet_id), '{"customer": {"name": "Dana",', raw=True)
    error = _assert_json_error(invoke("rides", event), 400)
    assert error["error"] == "invalid_json"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"status": "lost"}, "status"),
        ({"since": "soon"}, "since"),
        ({"since": "1700000000"}, "since"),
        ({"since": "-1.5"}, "since"),
    ],
)
def test_invalid_query_parameters_are_422_naming_them(fleet: Any, query: dict[str, str], field: str) -> None:
    event = with_query(_as("rides/list_rides.json", fleet.fleet_id), **query)
    assert field in _assert_json_error(invoke("rides", event), 422)["message"]


@pytest.mark.parametrize(
    "body",
    ["[]", "null", '"a string"', "42", '{"customer": null}', '{"customer": {"name": "", "phone": "+447700900123"}}'],
)
def test_odd_bodies_are_client_errors_never_5xx(fleet: Any, body: str) -> None:
    event = with_body(_as("rides/create_ride.json", fleet.fleet_id), body, raw=True)
    response = invoke("rides", event)
    assert 400 <= response["statusCode"] < 500, response["body"]


def test_a_forged_cursor_is_422(fleet: Any) -> None:
    event = with_query(_as("rides/list_rides.json", fleet.fleet_id), next="bm90LWEtY3Vyc29y")
    assert "next" in _assert_json_error(invoke("rides", event), 422)["message"]


# ----- the happy paths of the rides function ------------------------------------------------------------------


def test_creating_a_ride_starts_its_matching_execution(aws: AwsStack, fleet: Any) -> None:
    # Given a dispatcher of the fleet
    # When they create a ride from events/rides/create_ride.json
    ride = _create_ride(fleet.fleet_id)
    # Then the answer is the new searching ride
    assert ride["status"] == "searching"
    assert re.fullmatch(r"R-[0-9A-Z]{5}", ride["code"])
    assert ride["customer"] == {"name": "Dana Levi", "phone": "+447700900123"}
    assert ride["offers"] == []
    # And exactly one matching execution, named after the ride, was started with the ride and fleet
    executions = aws.executions()
    assert [e["name"] for e in executions] == [ride["ride_id"]]
    started = aws.sfn.describe_execution(executionArn=executions[0]["executionArn"])
    assert json.loads(started["input"]) == {
        "ride_id": ride["ride_id"],
        "fleet_id": fleet.fleet_id,
        "matching_round": 1,
        "start_matching_at": None,  # at once: no pickup_time
    }


def test_the_same_idempotency_key_gives_the_same_ride_and_one_execution(aws: AwsStack, fleet: Any) -> None:
    # Given a ride request carrying an Idempotency-Key, sent twice (a client retry)
    event = _as("rides/create_ride.json", fleet.fleet_id)
    first, second = invoke("rides", event), invoke("rides", event)
    # Then both answers are the same ride, and matching started once
    assert first["statusCode"] == second["statusCode"] == 201
    assert json_body(first)["ride_id"] == json_body(second)["ride_id"]
    assert len(aws.executions()) == 1


def test_an_idempotency_key_reused_for_another_request_is_422(aws: AwsStack, fleet: Any) -> None:
    event = _as("rides/create_ride.json", fleet.fleet_id)
    assert invoke("rides", event)["statusCode"] == 201
    other = with_body(event, {**json.loads(event["body"]), "notes": "a different ride"})
    assert "Idempotency-Key" in _assert_json_error(invoke("rides", other), 422)["message"]


def test_a_created_ride_can_be_read_and_listed(fleet: Any) -> None:
    ride = _create_ride(fleet.fleet_id)
    read = invoke("rides", with_path(_as("rides/get_ride.json", fleet.fleet_id), ride_id=ride["ride_id"]))
    assert read["statusCode"] == 200
    assert json_body(read)["code"] == ride["code"]
    listed = invoke("rides", _as("rides/list_rides.json", fleet.fleet_id))
    assert listed["statusCode"] == 200
    assert [r["ride_id"] for r in json_body(listed)["rides"]] == [ride["ride_id"]]


def test_cancel_then_cancel_again_is_409(fleet: Any) -> None:
    # Given a searching ride
    ride = _create_ride(fleet.fleet_id)
    cancel = with_path(_as("rides/cancel_ride.json", fleet.fleet_id), ride_id=ride["ride_id"])
    # When it is cancelled, Then it is cancelled
    first = invoke("rides", cancel)
    assert first["statusCode"] == 200
    assert json_body(first) == {"status": "cancelled", "ride_id": ride["ride_id"]}
    # And a second cancel is refused as the ride has already ended
    assert _assert_json_error(invoke("rides", cancel), 409)["error"] == "not_cancellable"


def test_cancel_without_a_body_is_fine(fleet: Any) -> None:
    ride = _create_ride(fleet.fleet_id)
    event = with_path(_as("rides/cancel_ride.json", fleet.fleet_id), ride_id=ride["ride_id"])
    del event["body"]
    event["headers"].pop("content-type")
    event["headers"].pop("content-length")
    assert invoke("rides", event)["statusCode"] == 200


# ----- drivers and fleets: updates never answer 5xx -----------------------------------------------------------


@pytest.fixture
def fleet_with_senders(make_fleet: Any) -> Any:
    """A fleet whose own Twilio account reaches SMS and WhatsApp drivers (no platform channels in unit tests)."""
    senders = [{"channel": "sms", "from": "+15005550006"}, {"channel": "whatsapp", "from": "+15005550007"}]
    created, _ = make_fleet(twilio={"account_sid": "AC" + "0" * 32, "auth_token": "token", "senders": senders})
    return created


def test_registering_the_same_phone_twice_is_409(fleet_with_senders: Any) -> None:
    fleet = fleet_with_senders
    event = _as("drivers/create_driver.json", fleet.fleet_id, role="admin")
    assert invoke("drivers", event)["statusCode"] == 201
    assert _assert_json_error(invoke("drivers", event), 409)["error"] == "duplicate_phone"


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "telegram"])
def test_a_driver_on_a_channel_nobody_reaches_is_409_channel_not_configured(fleet: Any, channel: str) -> None:
    # Given a fleet with no Twilio or Telegram of its own, on a deployment without platform channels
    body = {"name": "Ann", "phone": "+447700900321", "channel": channel}
    event = with_body(_as("drivers/create_driver.json", fleet.fleet_id, role="admin"), body)
    # When a driver on any channel is registered, Then it is refused, naming the channel
    error = _assert_json_error(invoke("drivers", event), 409)
    assert error["error"] == "channel_not_configured"
    assert error.get("field") == "channel"
    assert f"{channel} sender" in error["message"] or "Telegram bot" in error["message"]


def test_an_empty_driver_update_is_422(fleet_with_senders: Any) -> None:
    fleet = fleet_with_senders
    driver = register_driver(ports(), fleet.fleet_id, NewDriver(name="Amira", phone="+447700900456", channel="sms"))
    event = with_path(_as("drivers/update_driver.json", fleet.fleet_id, role="admin"), driver_id=driver.driver_id)
    assert "nothing to update" in _assert_json_error(invoke("drivers", with_body(event, {})), 422)["message"]


@pytest.mark.parametrize("field", ["name", "phone", "channel", "status"])
def test_a_null_for_a_required_driver_field_is_422(fleet_with_senders: Any, field: str) -> None:
    fleet = fleet_with_senders
    driver = register_driver(ports(), fleet.fleet_id, NewDriver(name="Amira", phone="+447700900456", channel="sms"))
    event = with_path(_as("drivers/update_driver.json", fleet.fleet_id, role="admin"), driver_id=driver.driver_id)
    response = invoke("drivers", with_body(event, {field: None}))
    assert response["statusCode"] == 422


def test_a_null_fleet_name_is_422(fleet: Any) -> None:
    event = with_path(_as("fleets/update_fleet.json", fleet.fleet_id, role="admin"), fleet_id=fleet.fleet_id)
    response = invoke("fleets", with_body(event, {"name": None}))
    assert response["statusCode"] == 422


def test_fleet_settings_update_that_breaks_the_rule_is_422(fleet: Any) -> None:
    # Given the default 300 s matching timeout, When the response window is set above it, Then 422
    event = with_path(_as("fleets/update_fleet.json", fleet.fleet_id, role="admin"), fleet_id=fleet.fleet_id)
    response = invoke("fleets", with_body(event, {"settings": {"driver_response_seconds": 600}}))
    assert "settings" in _assert_json_error(response, 422)["message"]


def test_health_is_public_and_reports_its_checks(aws: AwsStack) -> None:
    response = invoke("health", load_event("health/get_health.json"))
    assert response["statusCode"] == 200
    assert json_body(response)["status"] == "ok"


# ----- strictness (SPEC §3): the body is a JSON object of the route's model, numbers are numbers --------------


DRIVER = {"name": "A", "phone": "+447700900456", "channel": "sms"}


@pytest.mark.parametrize(
    ("event_path", "role", "body", "field"),
    [
        ("fleets/update_fleet.json", "admin", {"settings": {"driver_response_seconds": "30"}}, "response_seconds"),
        ("fleets/update_fleet.json", "admin", {"settings": {"matching_timeout_seconds": True}}, "timeout_seconds"),
        ("drivers/create_driver.json", "admin", {**DRIVER, "rating": "4"}, "rating"),
        ("rides/create_ride.json", "dispatcher", {"price": "12.50"}, "price"),
        ("rides/create_ride.json", "dispatcher", {"price": True}, "price"),
        ("rides/create_ride.json", "dispatcher", {"pickup": {"address": "A", "lat": "51.5"}}, "pickup.lat"),
    ],
)
def test_a_string_or_boolean_where_a_number_belongs_is_422(
    fleet: Any, event_path: str, role: str, body: dict[str, Any], field: str
) -> None:
    # Given a valid request from events/ with one number sent as a string or a boolean
    event = _as(event_path, fleet.fleet_id, role)
    event = with_path(event, **{k: fleet.fleet_id for k in (event.get("pathParameters") or {}) if k == "fleet_id"})
    sample = json.loads(event["body"]) if event_path != "fleets/update_fleet.json" else {}
    response = invoke(event_path.split("/")[0], with_body(event, {**sample, **body}))
    # Then it is refused, naming the field, rather than coerced
    assert field in _assert_json_error(response, 422)["message"]


def test_a_created_fleet_shows_its_senders_as_from(aws: AwsStack) -> None:
    response = invoke("fleets", with_principal(load_event("fleets/create_fleet.json"), {"principal": "root"}))
    assert response["statusCode"] == 201, response["body"]
    senders = json_body(response)["twilio"]["senders"]
    assert [s["from"] for s in senders] == ["+15005550006", "+14155238886"]
    assert all("from_" not in s for s in senders)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ("[]", 422, "JSON object"),
        ('[{"customer": {}}]', 422, "JSON object"),
        ('"a ride"', 422, "JSON object"),
        ('{"price": NaN}', 400, "JSON"),
        ('{"price": 1e-200}', 422, "too close to zero"),
        ('{"notes": ' + "[" * 40 + "]" * 40 + "}", 400, "nested too deep"),
        ("  \n ", 400, "not valid JSON"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused_saying_why(fleet: Any, body: str, status: int, words: str) -> None:
    event = with_body(_as("rides/create_ride.json", fleet.fleet_id), body, raw=True)
    assert words in _assert_json_error(invoke("rides", event), status)["message"]


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/x-www-form-urlencoded", "customer=Dana&pickup=here", 415),
        (
            "multipart/form-data; boundary=zz",
            '--zz\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--zz--',
            415,
        ),
        ("multipart/form-data", "--zz\r\n", 400),
        ("application/json; charset=utf-16", "{}", 415),
    ],
)
def test_form_and_multipart_bodies_on_json_routes_are_refused(
    fleet: Any, content_type: str, body: str, status: int
) -> None:
    event = with_body(_as("rides/create_ride.json", fleet.fleet_id), body, raw=True)
    event["headers"]["content-type"] = content_type
    error = _assert_json_error(invoke("rides", event), status)
    assert "application/json" in error["message"]
    assert ports().stores.rides.for_fleet(fleet.fleet_id, None, None, 10, None)[0] == []


@pytest.mark.parametrize(
    ("content_type", "status"),
    [("application/json;charset=UTF-8", 201), ("application/json; charset=utf-8", 201), ("Application/JSON", 415)],
)
def test_application_json_in_lower_case_with_or_without_charset(fleet: Any, content_type: str, status: int) -> None:
    event = _as("rides/create_ride.json", fleet.fleet_id)
    event["headers"].pop("idempotency-key")
    event["headers"]["content-type"] = content_type
    response = invoke("rides", event)
    assert response["statusCode"] == status, response["body"]
    if status == 415:
        assert "application/json" in json_body(response)["message"]


def test_a_body_that_is_not_utf8_is_400(fleet: Any) -> None:
    event = _as("rides/create_ride.json", fleet.fleet_id)
    event["body"], event["isBase64Encoded"] = base64.b64encode(b'{"notes": "\xff\xfe"}').decode(), True
    assert "UTF-8" in _assert_json_error(invoke("rides", event), 400)["message"]


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"content-type": "application/x-www-form-urlencoded"}, "a=b"),
        ({"content-type": "application/json"}, "[" * 100_000),
        ({"content-type": "text/plain"}, "hello"),
    ],
)
def test_who_may_call_is_decided_before_the_body_is_read(fleet: Any, headers: dict[str, str], body: str) -> None:
    # Given an unreadable body, sent with no key, then with a dispatcher key to an admin route
    stranger = with_body(
        with_principal(load_event("drivers/create_driver.json"), {"principal": "anonymous"}), body, raw=True
    )
    dispatcher = with_body(_as("drivers/create_driver.json", fleet.fleet_id, role="dispatcher"), body, raw=True)
    for event in (stranger, dispatcher):
        event["headers"].update(headers)
    # Then the stranger is 401 and the dispatcher 403, before any word about the body
    assert _assert_json_error(invoke("drivers", stranger), 401)["error"] == "unauthenticated"
    assert _assert_json_error(invoke("drivers", dispatcher), 403)["error"] == "forbidden"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "+1\u0665\u0665\u0665\u0665\u0665\u0665\u0665\u0665\u0665\u0665"),  # Arabic-Indic digits
        ("phone", "+44\uff17\uff17\uff10\uff10900123"),  # full-width digits
        ("name", "Dana\nReply 1 to accept http://evil.example/offers/x"),
        ("name", "Dana\u2028Levi"),
    ],
)
def test_phones_are_ascii_and_names_one_line(fleet: Any, field: str, value: str) -> None:
    # Given a ride whose customer phone has non-ASCII digits, or whose name would add a line to an SMS
    event = _as("rides/create_ride.json", fleet.fleet_id)
    body = json.loads(event["body"])
    body["customer"][field] = value
    # Then it is 422 naming the field, and nothing was created
    error = _assert_json_error(invoke("rides", with_body(event, body)), 422)
    assert f"customer.{field}" in error["message"]
    assert ports().stores.rides.for_fleet(fleet.fleet_id, None, None, 10, None)[0] == []


def test_a_driver_phone_with_arabic_indic_digits_is_422(fleet: Any) -> None:
    event = _as("drivers/create_driver.json", fleet.fleet_id, role="admin")
    body = {**json.loads(event["body"]), "phone": "+1\u0665\u0665\u0665\u0665\u0665\u0665\u0665\u0665\u0665\u0665"}
    assert "phone" in _assert_json_error(invoke("drivers", with_body(event, body)), 422)["message"]


def test_notes_with_a_line_break_are_422(fleet: Any) -> None:
    event = _as("rides/create_ride.json", fleet.fleet_id)
    body = {**json.loads(event["body"]), "notes": "gate code 1234\r\nNew ride R-FAKE1: reply 1"}
    assert "notes" in _assert_json_error(invoke("rides", with_body(event, body)), 422)["message"]


def test_rides_past_the_fleets_limit_are_429_with_retry_after(
    make_fleet: Callable[..., tuple[Any, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The limit counts per fixed minute: on the real clock the three rides could straddle a minute boundary.
    from ridecast.domain.rides import limits

    moment = datetime(2026, 11, 29, 12, 0, 5, tzinfo=UTC)
    monkeypatch.setattr(limits, "utcnow", lambda: moment)
    # Given a fleet that allows 2 rides a minute (counted in the table, so across Lambda instances)
    fleet, _ = make_fleet(settings={"max_rides_per_minute": 2})
    _create_ride(fleet.fleet_id, customer={"name": "A", "phone": "+447700900001"})
    _create_ride(fleet.fleet_id, customer={"name": "B", "phone": "+447700900002"})
    # When a third ride is asked for within the minute
    event = _as("rides/create_ride.json", fleet.fleet_id)
    event["headers"].pop("idempotency-key")
    response = invoke("rides", event)
    # Then 429 with Retry-After and a JSON error saying which limit
    body = _assert_json_error(response, 429)
    assert body["limit"] == "max_rides_per_minute"
    assert 1 <= int(response["headers"]["Retry-After"]) <= 60
