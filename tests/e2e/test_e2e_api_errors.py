"""SPEC §3 status codes over HTTP: each refusal has the right status and a JSON message naming the problem."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from tests.e2e.stack import (
    DEMO_ADMIN_KEY,
    Fleet,
    StackClient,
    error_message,
    unique_phone,
)

RIDE_BODY = {
    "customer": {"name": "Ann", "phone": "+447700900555"},
    "pickup": {"address": "1 Error Road"},
    "dropoff": {"address": "2 Status Street"},
}


# ---------------------------------------------------------------------- 401 / 403
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/fleets", {"name": "No Key"}),
        ("GET", "/drivers", None),
        ("POST", "/drivers", {"name": "D", "phone": "+447700900001", "channel": "sms"}),
        ("POST", "/rides", RIDE_BODY),
        ("GET", "/rides", None),
    ],
)
def test_a_call_without_authorization_is_401(stack: StackClient, method: str, path: str, body: Any) -> None:
    # Given no Authorization header at all
    # When a protected route is called
    answer = stack.request(method, path, json=body)
    # Then it is refused as unauthenticated, in JSON
    assert answer.status_code == 401
    assert "unauthorized" in error_message(answer).lower()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/fleets", {"name": "Unknown Key"}),
        ("GET", "/drivers", None),
        ("POST", "/rides", RIDE_BODY),
        ("GET", "/fleets/fwhatever", None),
        ("GET", "/rides?status=searching", None),
    ],
)
@pytest.mark.parametrize("authorization", ["Bearer rc_not-a-real-key", "Basic dXNlcjpwYXNz", "Bearer "])
def test_an_unknown_key_is_401(stack: StackClient, method: str, path: str, body: Any, authorization: str) -> None:
    # Given a key the platform never issued (or not a Bearer key at all)
    # When a protected route is called
    answer = stack.request(method, path, json=body, headers={"Authorization": authorization})
    # Then it is 401 and the message says what to send
    assert answer.status_code == 401
    message = error_message(answer).lower()
    assert "key" in message or "unauthorized" in message


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/fleets", {"nam": "typo", "settings": {"driver_response_seconds": 0}}),
        ("POST", "/drivers", {"phone": "not a phone"}),
        ("POST", "/rides", {"customer": "nobody"}),
        ("GET", "/rides?limit=0&status=bogus", None),
    ],
)
def test_an_unknown_key_is_401_even_with_an_invalid_request(
    stack: StackClient, method: str, path: str, body: Any
) -> None:
    # Given a key the platform never issued, and a request that is also invalid
    answer = stack.request(method, path, json=body, headers={"Authorization": "Bearer rc_not-a-real-key"})
    # Then the caller learns it is not authenticated, not how our schema looks
    assert answer.status_code == 401, answer.text
    assert "key" in error_message(answer).lower()


def test_a_fleet_admin_key_cannot_create_fleets(stack: StackClient) -> None:
    # Given a fleet admin (the demo fleet's, and a fresh fleet's)
    fleet = stack.create_fleet()
    for key in (DEMO_ADMIN_KEY, fleet.api_key):
        # When it tries the root-only POST /fleets
        answer = stack.post("/fleets", json={"name": "Not Yours"}, headers={"Authorization": f"Bearer {key}"})
        # Then it is authenticated but forbidden
        assert answer.status_code == 403
        assert "root" in error_message(answer)


def _dispatcher(stack: StackClient, fleet: Fleet) -> dict[str, str]:
    issued = stack.post(f"/fleets/{fleet.fleet_id}/api-keys", json={"role": "dispatcher"}, headers=fleet.auth)
    assert issued.status_code == 201, issued.text
    return {"Authorization": f"Bearer {issued.json()['api_key']}"}


def test_a_dispatcher_may_handle_rides_but_not_drivers_fleets_or_keys(stack: StackClient) -> None:
    # Given a fleet with a driver and a dispatcher key issued by its admin
    fleet = stack.create_fleet()
    driver = stack.add_driver(fleet)
    dispatcher = _dispatcher(stack, fleet)
    # When the dispatcher books a ride and reads it back
    booked = stack.post("/rides", json=RIDE_BODY, headers=dispatcher)
    assert booked.status_code == 201, booked.text
    assert stack.get(f"/rides/{booked.json()['ride_id']}", headers=dispatcher).status_code == 200
    assert stack.get("/rides", headers=dispatcher).status_code == 200
    # Then everything that needs the admin role is forbidden, with the reason
    forbidden = [
        ("POST", "/drivers", {"name": "D", "phone": unique_phone(), "channel": "sms"}),
        ("GET", "/drivers", None),
        ("GET", f"/drivers/{driver.driver_id}", None),
        ("PATCH", f"/drivers/{driver.driver_id}", {"status": "blocked"}),
        ("GET", f"/drivers/{driver.driver_id}/telegram-link", None),
        ("GET", f"/fleets/{fleet.fleet_id}", None),
        ("PATCH", f"/fleets/{fleet.fleet_id}", {"name": "Dispatcher's Fleet"}),
        ("POST", f"/fleets/{fleet.fleet_id}/api-keys", {"role": "admin"}),
        ("POST", "/fleets", {"name": "Another"}),
    ]
    for method, path, body in forbidden:
        answer = stack.request(method, path, json=body, headers=dispatcher)
        assert answer.status_code == 403, f"{method} {path}: {answer.status_code} {answer.text}"
        message = error_message(answer)
        assert "admin" in message or "root" in message, f"{method} {path}: {message}"
    # And none of those attempts changed anything
    assert stack.driver(fleet, driver.driver_id)["status"] == "active"
    assert stack.get(f"/fleets/{fleet.fleet_id}", headers=fleet.auth).json()["name"] != "Dispatcher's Fleet"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/drivers", {"name": "D", "phone": "+447700900002", "channel": "sms"}),
        ("GET", "/drivers", None),
        ("POST", "/rides", RIDE_BODY),
        ("GET", "/rides", None),
    ],
)
def test_the_root_key_cannot_act_as_a_fleet(stack: StackClient, method: str, path: str, body: Any) -> None:
    # Given the platform root key, which belongs to no fleet
    answer = stack.request(method, path, json=body, headers=stack.root())
    # Then fleet routes are forbidden to it, with the reason
    assert answer.status_code == 403
    assert "fleet API key" in error_message(answer)


def test_a_wrong_role_is_403_even_with_an_invalid_body(stack: StackClient) -> None:
    # Given a dispatcher key and an admin key
    fleet = stack.create_fleet()
    dispatcher = _dispatcher(stack, fleet)
    # When each calls a route its role may not use, with an invalid body
    drivers = stack.post("/drivers", json={"phone": "not a phone"}, headers=dispatcher)
    fleets = stack.post("/fleets", json={"nam": "typo"}, headers=fleet.auth)
    # Then the role is refused first
    assert (drivers.status_code, fleets.status_code) == (403, 403)


def test_the_root_key_may_read_and_patch_any_fleet(stack: StackClient) -> None:
    # Given a fleet
    fleet = stack.create_fleet()
    # When root reads and patches it
    read = stack.get(f"/fleets/{fleet.fleet_id}", headers=stack.root())
    patched = stack.patch(f"/fleets/{fleet.fleet_id}", json={"name": "Renamed"}, headers=stack.root())
    # Then both work (the counterpart of the 403s above)
    assert read.status_code == 200
    assert patched.status_code == 200
    assert patched.json()["name"] == "Renamed"


def test_channel_secrets_are_never_returned(stack: StackClient) -> None:
    # Given a fleet created with a Twilio auth token, a Telegram bot token and a webhook secret
    fleet = stack.create_fleet(telegram=True)
    assert fleet.twilio is not None
    assert fleet.telegram is not None
    secrets_given = [fleet.twilio["auth_token"], fleet.telegram["bot_token"], fleet.telegram["webhook_secret"]]
    # When the fleet is created, read and patched, by its admin and by root
    answers = [
        fleet.raw,
        stack.get(f"/fleets/{fleet.fleet_id}", headers=fleet.auth).json(),
        stack.get(f"/fleets/{fleet.fleet_id}", headers=stack.root()).json(),
        stack.patch(f"/fleets/{fleet.fleet_id}", json={"name": "Renamed Again"}, headers=fleet.auth).json(),
    ]
    # Then no answer contains any of the secrets, and the public parts are there
    for answer in answers:
        text = json.dumps(answer)
        assert not [s for s in secrets_given if s in text], text
        assert answer["twilio"]["account_sid"] == fleet.twilio["account_sid"]
        assert answer["telegram"]["bot_username"] == fleet.telegram["bot_username"]


# ---------------------------------------------------------------------- 404: another fleet's things
def test_another_fleets_resources_are_not_found(stack: StackClient) -> None:
    # Given two fleets, the second with a driver and a ride
    mine, theirs = stack.create_fleet(), stack.create_fleet()
    their_driver = stack.add_driver(theirs)
    their_ride = stack.create_ride(theirs)
    probes = [
        ("GET", f"/rides/{their_ride['ride_id']}", None, "ride"),
        ("POST", f"/rides/{their_ride['ride_id']}/cancel", {}, "ride"),
        ("GET", f"/drivers/{their_driver.driver_id}", None, "driver"),
        ("PATCH", f"/drivers/{their_driver.driver_id}", {"status": "blocked"}, "driver"),
        ("GET", f"/drivers/{their_driver.driver_id}/telegram-link", None, "driver"),
        ("GET", f"/fleets/{theirs.fleet_id}", None, "fleet"),
        ("PATCH", f"/fleets/{theirs.fleet_id}", {"name": "Hijacked"}, "fleet"),
    ]
    for method, path, body, kind in probes:
        # When my admin key reaches for them
        answer = stack.request(method, path, json=body, headers=mine.auth)
        # Then they do not exist for me
        assert answer.status_code == 404, f"{method} {path}: {answer.status_code} {answer.text}"
        assert kind in error_message(answer), f"{method} {path}"
    # And nothing of theirs changed
    assert stack.driver(theirs, their_driver.driver_id)["status"] == "active"
    assert stack.ride(theirs, their_ride["ride_id"])["status"] != "cancelled"
    assert stack.get(f"/fleets/{theirs.fleet_id}", headers=theirs.auth).json()["name"] != "Hijacked"


def test_unknown_ids_are_not_found(stack: StackClient) -> None:
    fleet = stack.create_fleet()
    for path, kind in [("/rides/rnosuchride00", "ride"), ("/drivers/dnosuchdriver0", "driver")]:
        answer = stack.get(path, headers=fleet.auth)
        assert answer.status_code == 404
        assert kind in error_message(answer)


def test_an_unknown_route_is_404(stack: StackClient) -> None:
    fleet = stack.create_fleet()
    for method, path in [("GET", "/nope"), ("POST", "/rides/x/y/z"), ("DELETE", "/rides"), ("GET", "/")]:
        answer = stack.request(method, path, headers=fleet.auth)
        assert answer.status_code == 404, f"{method} {path}"
        assert "not found" in error_message(answer).lower()


# ---------------------------------------------------------------------- 409
def test_the_same_phone_twice_in_a_fleet_is_409_but_fine_in_another(stack: StackClient) -> None:
    # Given a driver in a fleet
    fleet, other = stack.create_fleet(), stack.create_fleet()
    driver = stack.add_driver(fleet)
    # When another driver is added with the same phone
    twice = stack.post("/drivers", json={"name": "Copy", "phone": driver.phone, "channel": "sms"}, headers=fleet.auth)
    # Then it conflicts, naming the phone
    assert twice.status_code == 409
    assert driver.phone in error_message(twice)
    # And a driver in another fleet may have that phone
    elsewhere = stack.post(
        "/drivers", json={"name": "Same Phone", "phone": driver.phone, "channel": "sms"}, headers=other.auth
    )
    assert elsewhere.status_code == 201, elsewhere.text


def test_a_twilio_sender_belongs_to_one_fleet(stack: StackClient) -> None:
    # Given a fleet with Twilio senders
    fleet = stack.create_fleet(twilio=True)
    assert fleet.twilio is not None
    # When a second fleet claims the same SMS sender
    body = {"name": "Copycat", "twilio": {**fleet.twilio, "account_sid": "AC" + "ab" * 16}}
    answer = stack.post("/fleets", json=body, headers=stack.root())
    # Then it is refused, naming the sender
    assert answer.status_code == 409
    assert fleet.sender("sms") in error_message(answer) or fleet.sender("whatsapp") in error_message(answer)


def test_cancelling_is_200_while_searching_and_409_once_ended(stack: StackClient) -> None:
    # Given a ride still searching
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=6)
    stack.add_driver(fleet)
    ride = stack.create_ride(fleet)
    # When it is cancelled
    cancelled = stack.post(f"/rides/{ride['ride_id']}/cancel", json={"reason": "customer left"}, headers=fleet.auth)
    # Then it is cancelled
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert stack.ride(fleet, ride["ride_id"])["status"] == "cancelled"
    # And cancelling again conflicts, saying why
    again = stack.post(f"/rides/{ride['ride_id']}/cancel", headers=fleet.auth)
    assert again.status_code == 409
    assert "cancelled" in error_message(again)


def test_cancelling_an_assigned_ride_is_409(stack: StackClient) -> None:
    # Given a ride a driver accepted
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=6)
    driver = stack.add_driver(fleet)
    ride = stack.create_ride(fleet)
    token = stack.offer_token(driver.phone, ride)
    assert stack.post(f"/offers/{token}/accept").json()["result"] == "assigned"
    # When the dispatcher tries to cancel it
    answer = stack.post(f"/rides/{ride['ride_id']}/cancel", json={}, headers=fleet.auth)
    # Then it conflicts and the ride stays assigned
    assert answer.status_code == 409
    assert "assigned" in error_message(answer)
    assert stack.ride(fleet, ride["ride_id"])["status"] == "assigned"


# ---------------------------------------------------------------------- offers by token
def test_answering_with_a_bad_token_is_404(stack: StackClient) -> None:
    # Given a real offer, so near-miss tokens can be made from it
    fleet = stack.create_fleet()
    driver = stack.add_driver(fleet)
    ride = stack.create_ride(fleet)
    token = stack.offer_token(driver.phone, ride)
    ride_id, driver_id, secret = token.split(".", 2)
    bad_tokens = [
        "bad",
        "a.b.c",
        f"{ride_id}.{driver_id}.{'x' * len(secret)}",  # right offer, wrong secret
        f"{ride_id}.dnosuchdriver0.{secret}",
        "x" * 200,
    ]
    for bad in bad_tokens:
        for action in ("accept", "reject"):
            # When someone answers with it
            answer = stack.post(f"/offers/{bad}/{action}")
            # Then there is no such offer
            assert answer.status_code == 404, f"{action} {bad}: {answer.text}"
            assert "offer" in error_message(answer)
    # And the real offer is untouched and still answerable
    assert stack.offer_of(stack.ride(fleet, ride["ride_id"]), driver)["responded_at"] is None
    assert stack.post(f"/offers/{token}/accept").status_code == 200


# ---------------------------------------------------------------------- 422 and 400
def _fleet_body(**overrides: Any) -> dict[str, Any]:
    return {"name": "Valid", "settings": {"driver_response_seconds": 2, "matching_timeout_seconds": 6}, **overrides}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"settings": {"driver_response_seconds": 2}}, "name"),
        (_fleet_body(colour="red"), "colour"),
        (
            _fleet_body(settings={"driver_response_seconds": 0, "matching_timeout_seconds": 6}),
            "driver_response_seconds",
        ),
        (
            _fleet_body(settings={"driver_response_seconds": 30, "matching_timeout_seconds": 10}),
            "matching_timeout_seconds",
        ),
        (_fleet_body(settings={"driver_response_seconds": 3601}), "driver_response_seconds"),
        (_fleet_body(timezone="Mars/Olympus"), "timezone"),
        (_fleet_body(admin_contacts=[{"name": "A", "phone": "0800 FLEET"}]), "phone"),
        (_fleet_body(twilio={"account_sid": "AC123", "auth_token": "x" * 20, "senders": []}), "twilio"),
        (
            _fleet_body(telegram={"bot_token": "nope", "bot_username": "b0t_ok", "webhook_secret": "s" * 20}),
            "bot_token",
        ),
    ],
)
def test_an_invalid_fleet_is_422_naming_the_field(stack: StackClient, body: dict[str, Any], field: str) -> None:
    answer = stack.post("/fleets", json=body, headers=stack.root())
    assert answer.status_code == 422, answer.text
    assert field in error_message(answer)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "D", "phone": "07700 900123", "channel": "sms"}, "phone"),
        ({"name": "D", "phone": "+0123", "channel": "sms"}, "phone"),
        ({"name": "D", "channel": "sms"}, "phone"),
        ({"phone": "+447700900777", "channel": "sms"}, "name"),
        ({"name": "D", "phone": "+447700900777", "channel": "pigeon"}, "channel"),
        ({"name": "D", "phone": "+447700900777", "channel": "sms", "shoe_size": 44}, "shoe_size"),
        ({"name": "D", "phone": "+447700900777", "channel": "sms", "rating": 7}, "rating"),
    ],
)
def test_an_invalid_driver_is_422_naming_the_field(stack: StackClient, body: dict[str, Any], field: str) -> None:
    fleet = stack.create_fleet()
    answer = stack.post("/drivers", json=body, headers=fleet.auth)
    assert answer.status_code == 422, answer.text
    assert field in error_message(answer)
    # And nothing was created
    assert stack.get("/drivers", headers=fleet.auth).json()["drivers"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**RIDE_BODY, "customer": {"name": "Ann", "phone": "12345"}}, "phone"),
        ({k: v for k, v in RIDE_BODY.items() if k != "pickup"}, "pickup"),
        ({**RIDE_BODY, "surge": 2.5}, "surge"),
        ({**RIDE_BODY, "pickup": {"address": "x", "lat": 123}}, "lat"),
        ({**RIDE_BODY, "pickup_time": "tomorrow-ish"}, "pickup_time"),
    ],
)
def test_an_invalid_ride_is_422_naming_the_field(stack: StackClient, body: dict[str, Any], field: str) -> None:
    fleet = stack.create_fleet()
    answer = stack.post("/rides", json=body, headers=fleet.auth)
    assert answer.status_code == 422, answer.text
    assert field in error_message(answer)
    assert stack.get("/rides", headers=fleet.auth).json()["rides"] == []


def test_invalid_patches_are_422_naming_the_field(stack: StackClient) -> None:
    fleet = stack.create_fleet()
    driver = stack.add_driver(fleet)
    cases = [
        (f"/drivers/{driver.driver_id}", {"status": "sleeping"}, "status"),
        (f"/drivers/{driver.driver_id}", {"phone": "123"}, "phone"),
        (f"/drivers/{driver.driver_id}", {}, "update"),
        (f"/fleets/{fleet.fleet_id}", {"settings": {"matching_timeout_seconds": 1}}, "matching_timeout_seconds"),
        (f"/fleets/{fleet.fleet_id}", {"settings": {"driver_response_seconds": 0}}, "driver_response_seconds"),
    ]
    for path, body, field in cases:
        answer = stack.patch(path, json=body, headers=fleet.auth)
        assert answer.status_code == 422, f"{path} {body}: {answer.text}"
        assert field in error_message(answer), f"{path} {body}"
    # And the fleet's settings did not move
    settings = stack.get(f"/fleets/{fleet.fleet_id}", headers=fleet.auth).json()["settings"]
    assert (settings["driver_response_seconds"], settings["matching_timeout_seconds"]) == (2, 6)


def test_unparseable_json_is_400(stack: StackClient) -> None:
    # Given a fleet with a driver and a ride, so every JSON route has something to aim at
    fleet = stack.create_fleet()
    driver = stack.add_driver(fleet)
    ride = stack.create_ride(fleet)
    routes = [
        ("POST", "/fleets", stack.root()),
        ("POST", "/drivers", fleet.auth),
        ("POST", "/rides", fleet.auth),
        ("PATCH", f"/drivers/{driver.driver_id}", fleet.auth),
        ("PATCH", f"/fleets/{fleet.fleet_id}", fleet.auth),
        ("POST", f"/rides/{ride['ride_id']}/cancel", fleet.auth),
    ]
    for method, path, key in routes:
        for raw in ('{"name": "unterminated', "{'single': 'quotes'}", "name=form", "{}}"):
            # When the body is not JSON at all
            answer = stack.request(method, path, data=raw, headers={**key, "Content-Type": "application/json"})
            # Then it is a 400 that says so
            assert answer.status_code == 400, f"{method} {path} {raw!r}: {answer.status_code} {answer.text}"
            assert "JSON" in error_message(answer)
    # And none of it touched the ride
    assert stack.ride(fleet, ride["ride_id"])["status"] != "cancelled"


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (b"\xff\xfe{}", "application/json", "UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "recursion"),
        (b"--x\r\n", "multipart/form-data", "boundary"),
    ],
    ids=["not-utf8", "nested-too-deep", "multipart-without-boundary"],
)
def test_a_body_that_cannot_be_read_is_400(stack: StackClient, body: bytes, content_type: str, problem: str) -> None:
    # Given a fleet admin
    fleet = stack.create_fleet()
    # When the body cannot even be read as JSON
    answer = stack.post("/rides", data=body, headers={**fleet.auth, "Content-Type": content_type})
    # Then it is the caller's error, saying what is wrong with it (not a 500)
    assert answer.status_code == 400, answer.text
    assert problem in error_message(answer)
    # And with an unknown key it is 401 first
    stranger = stack.post("/rides", data=body, headers={"Authorization": "Bearer rc_x", "Content-Type": content_type})
    assert stranger.status_code == 401


def test_a_body_that_is_not_json_at_all_is_415_naming_the_content_type(stack: StackClient) -> None:
    fleet = stack.create_fleet()
    answer = stack.post("/rides", data="pickup: here", headers={**fleet.auth, "Content-Type": "text/plain"})
    assert answer.status_code == 415, answer.text
    assert "application/json" in error_message(answer)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("status=bogus", "status"),
        ("since=notadate", "since"),
        ("since=0001-01-01T00:00:00%2B14:00", "since"),
        ("since=9999-12-31T23:59:59-14:00", "since"),
        ("next=not-a-cursor", "next"),
    ],
)
def test_bad_ride_list_parameters_are_422_naming_them(stack: StackClient, query: str, field: str) -> None:
    fleet = stack.create_fleet()
    answer = stack.get(f"/rides?{query}", headers=fleet.auth)
    assert answer.status_code == 422, answer.text
    assert field in error_message(answer)


def test_a_cursor_from_another_fleet_is_422(stack: StackClient) -> None:
    # Given a cursor of fleet A's ride list
    mine, theirs = stack.create_fleet(), stack.create_fleet()
    for _ in range(2):
        stack.create_ride(theirs)
    page = stack.get("/rides?limit=1", headers=theirs.auth).json()
    assert page.get("next")
    # When fleet B pages with it
    answer = stack.get("/rides", params={"next": page["next"]}, headers=mine.auth)
    # Then it is refused rather than leaking A's rides
    assert answer.status_code == 422
    assert "next" in error_message(answer)


# ---------------------------------------------------------------------- listing and paging
def test_rides_page_with_next_and_filter_by_status_and_since(stack: StackClient) -> None:
    # Given a fleet with no drivers: each ride times out at once (no eligible driver)
    fleet = stack.create_fleet()
    before = datetime.now(UTC) - timedelta(seconds=5)
    created = [stack.create_ride(fleet)["ride_id"] for _ in range(5)]
    for ride_id in created:
        stack.wait_for_ride(fleet, ride_id, lambda r: r["status"] == "timed_out", f"{ride_id} timed out")

    # When the rides are read two at a time, following `next`
    seen: list[str] = []
    pages = 0
    params: dict[str, Any] = {"status": "timed_out", "since": before.isoformat(), "limit": 2}
    while True:
        answer = stack.get("/rides", params=params, headers=fleet.auth)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        pages += 1
        assert len(page["rides"]) <= 2
        assert all(r["status"] == "timed_out" for r in page["rides"])
        seen += [r["ride_id"] for r in page["rides"]]
        if not page.get("next"):
            break
        params["next"] = page["next"]
        assert pages < 10, "paging does not end"

    # Then every ride shows up exactly once, newest first
    assert seen == list(reversed(created))
    assert pages >= 3
    # And the filters exclude what they should
    assert stack.get("/rides?status=assigned", headers=fleet.auth).json()["rides"] == []
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert stack.get("/rides", params={"since": future}, headers=fleet.auth).json()["rides"] == []


@pytest.mark.parametrize("offset_hours", [5, -5])
def test_since_with_a_utc_offset_means_the_same_instant(stack: StackClient, offset_hours: int) -> None:
    # Given a ride created now
    fleet = stack.create_fleet()
    ride = stack.create_ride(fleet)
    zone = timezone(timedelta(hours=offset_hours))
    # When the list is asked for rides since a minute ago, and since a minute ahead, written in another zone
    a_minute_ago = (datetime.now(UTC) - timedelta(minutes=1)).astimezone(zone).isoformat()
    in_a_minute = (datetime.now(UTC) + timedelta(minutes=1)).astimezone(zone).isoformat()
    past = stack.get("/rides", params={"since": a_minute_ago}, headers=fleet.auth)
    future = stack.get("/rides", params={"since": in_a_minute}, headers=fleet.auth)
    # Then the ride is in the first and not in the second
    assert past.status_code == future.status_code == 200
    assert [r["ride_id"] for r in past.json()["rides"]] == [ride["ride_id"]]
    assert future.json()["rides"] == []


# ---------------------------------------------------------------------- strictness (SPEC §3)
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**RIDE_BODY, "price": "30"}, "price"),
        ({**RIDE_BODY, "price": True}, "price"),
        ({**RIDE_BODY, "pickup": {"address": "x", "lat": "51.5"}}, "lat"),
        ({**RIDE_BODY, "customer": {"name": "Ann", "phone": "+1" + "\u0665" * 10}}, "phone"),
        ({**RIDE_BODY, "customer": {"name": "Ann\nNew ride: reply 1", "phone": "+447700900555"}}, "name"),
        ({**RIDE_BODY, "dropoff": {"address": "2 Status Street\r\nhttp://evil.example"}}, "address"),
        ({**RIDE_BODY, "notes": "ring\u2028twice"}, "notes"),
    ],
    ids=["string-price", "bool-price", "string-lat", "arabic-phone", "name-newline", "address-crlf", "notes-ls"],
)  # fmt: skip
def test_what_goes_into_messages_and_numbers_are_strict(stack: StackClient, body: dict[str, Any], field: str) -> None:
    # Given a ride with a number as a string or boolean, a phone not in ASCII digits, or text with a line break
    fleet = stack.create_fleet()
    answer = stack.post("/rides", json=body, headers=fleet.auth)
    # Then it is 422 naming the field, and no ride exists
    assert answer.status_code == 422, answer.text
    assert field in error_message(answer)
    assert stack.get("/rides", headers=fleet.auth).json()["rides"] == []


MULTIPART_BODY = '--b\r\nContent-Disposition: form-data; name="customer"\r\n\r\nAnn\r\n--b--\r\n'


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (json.dumps([RIDE_BODY]), "application/json", 422),
        ("customer=Ann&pickup=here", "application/x-www-form-urlencoded", 415),
        (MULTIPART_BODY, "multipart/form-data; boundary=b", 415),
    ],
    ids=["array", "form", "multipart"],
)  # fmt: skip
def test_a_json_route_takes_a_json_object_only(stack: StackClient, data: str, content_type: str, status: int) -> None:
    fleet = stack.create_fleet()
    answer = stack.post("/rides", data=data, headers={**fleet.auth, "Content-Type": content_type})
    assert answer.status_code == status, answer.text
    assert "JSON object" in error_message(answer) or "application/json" in error_message(answer)


def test_fleets_show_twilio_senders_as_from(stack: StackClient) -> None:
    fleet = stack.create_fleet(twilio=True)
    for answer in (fleet.raw, stack.get(f"/fleets/{fleet.fleet_id}", headers=fleet.auth).json()):
        assert [s["from"] for s in answer["twilio"]["senders"]] == [fleet.sender("sms"), fleet.sender("whatsapp")]
        assert "from_" not in json.dumps(answer)


def test_the_openapi_document_is_public(stack: StackClient) -> None:
    answer = stack.get("/openapi.json")
    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"].startswith("3.1")
    assert document["paths"]["/rides"]["post"]["security"] == [{"bearerAuth": []}]
