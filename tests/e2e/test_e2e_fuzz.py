"""Nothing ever answers 5xx to bad input (SPEC §3): seeded garbage against every POST and PATCH route.

Bodies, content types and headers are drawn from a seeded random generator, so a failure names a case
that replays exactly (FUZZ_SEED, route, case number). Some cases carry valid credentials, a valid Twilio
signature or the Telegram secret, so the garbage reaches the handlers instead of stopping at the door.
"""

from __future__ import annotations

import json
import os
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.e2e.stack import Fleet, StackClient, message_sid

FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20261123"))
CASES_PER_ROUTE = 30

FIELD_NAMES = [
    "name", "phone", "channel", "status", "settings", "driver_response_seconds", "matching_timeout_seconds",
    "customer", "pickup", "dropoff", "address", "lat", "lng", "pickup_time", "price", "notes", "reason",
    "vehicle", "type", "plate", "rating", "twilio", "telegram", "account_sid", "auth_token", "senders", "from",
    "bot_token", "bot_username", "webhook_secret", "admin_contacts", "timezone", "language", "role", "label",
    "update_id", "message", "callback_query", "chat", "id", "text", "data", "message_id",
]  # fmt: skip
NASTY_STRINGS = [
    "", " ", "\u0000", "null", "{}", "[]", "\ufeff", "😀" * 50, "x" * 5000, "'; DROP TABLE rides; --",
    "<script>alert(1)</script>", "../../etc/passwd", "%00", "\\", '"', "+447700900123", "+1", "R-ZZZZZ",
    "2026-02-30T25:61:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "NaN", "1e999",
    "a:r.d.s", "r:" + "x" * 62, "/start " + "A" * 64, "/online", "/offline", "whatsapp:+15005550006",
]  # fmt: skip
CONTENT_TYPES = [
    "application/json", "application/json; charset=utf-8", "application/json; charset=utf-16", "text/plain",
    "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=zz",
    "application/xml", "", "application/vnd.api+json", "*/*",
]  # fmt: skip


def _value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(10 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 2, 3600, 3601, 86401, 2**31, 2**63, 10**30, -(10**30)])
    if kind == 3:
        return rng.choice([0.5, -0.0, 1e308, -1e308, 3.14159, 90.0000001])
    if kind in (4, 5):
        if rng.random() < 0.5:
            return rng.choice(NASTY_STRINGS)
        return "".join(rng.choice(string.printable + "éßЖ中") for _ in range(rng.randrange(0, 40)))
    if kind in (6, 7):
        return [_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return _object(rng, depth + 1)


def _object(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    keys = rng.sample(FIELD_NAMES, rng.randrange(0, 6)) + (
        ["".join(rng.choices(string.printable, k=5))] * (rng.random() < 0.2)
    )
    return {key: _value(rng, depth) for key in keys}


def _raw_body(rng: random.Random) -> bytes:
    kind = rng.randrange(8)
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 200))
    if kind == 1:
        text = json.dumps(_object(rng))
        return text[: rng.randrange(0, len(text) + 1)].encode()
    if kind == 2:
        return rng.choice([b"null", b"[]", b'"text"', b"1e999", b"NaN", b"-Infinity", b"{}", b"", b"true"])
    if kind == 3:
        depth = rng.choice([50, 1000, 100_000])
        return b"[" * depth + b"]" * depth
    if kind == 4:
        return urlencode({k: str(_value(rng)) for k in rng.sample(FIELD_NAMES, 3)}).encode()
    if kind == 5:
        return json.dumps(_object(rng)).encode("utf-16")
    return json.dumps(_object(rng), allow_nan=True).encode()


@dataclass
class Target:
    """One route, and how to reach deeper than its front door."""

    method: str
    path: str
    credentials: Callable[[random.Random], dict[str, str]]


@pytest.fixture
def world(stack: StackClient) -> dict[str, Any]:
    fleet = stack.create_fleet(telegram=True)
    driver = stack.add_driver(fleet)
    ride = stack.create_ride(fleet)
    token = stack.offer_token(driver.phone, ride)
    dispatcher = stack.post(f"/fleets/{fleet.fleet_id}/api-keys", json={"role": "dispatcher"}, headers=fleet.auth)
    assert dispatcher.status_code == 201, dispatcher.text
    return {
        "fleet": fleet,
        "driver": driver,
        "ride": ride,
        "token": token,
        "dispatcher": dispatcher.json()["api_key"],
    }


def _authorization(stack: StackClient, world: dict[str, Any]) -> Callable[[random.Random], dict[str, str]]:
    fleet: Fleet = world["fleet"]
    choices = [
        {"Authorization": f"Bearer {fleet.api_key}"},
        {"Authorization": f"Bearer {world['dispatcher']}"},
        stack.root(),
        {"Authorization": "Bearer rc_garbage"},
        {"Authorization": "Bearer " + "k" * 5000},
        {"Authorization": "Basic Og=="},
        {"Authorization": "bearer\t" + fleet.api_key},
        {},
    ]
    return lambda rng: dict(rng.choice(choices))


def _twilio_headers(stack: StackClient, world: dict[str, Any], path: str) -> Callable[[random.Random], dict[str, str]]:
    return lambda rng: {"X-Twilio-Signature": rng.choice(["", "garbage", "=" * 28, "é"])}


def _telegram_headers(world: dict[str, Any]) -> Callable[[random.Random], dict[str, str]]:
    fleet: Fleet = world["fleet"]
    secret = (fleet.telegram or {})["webhook_secret"]
    return lambda rng: {"X-Telegram-Bot-Api-Secret-Token": rng.choice([secret, secret, "", "wrong"])}


def _targets(stack: StackClient, world: dict[str, Any]) -> list[Target]:
    fleet: Fleet = world["fleet"]
    auth = _authorization(stack, world)
    token = world["token"]
    ride_id = world["ride"]["ride_id"]
    driver_id = world["driver"].driver_id
    status_path = f"/webhooks/twilio/status?ride_id={ride_id}&driver_id={driver_id}"
    return [
        Target("POST", "/fleets", auth),
        Target("PATCH", f"/fleets/{fleet.fleet_id}", auth),
        Target("POST", f"/fleets/{fleet.fleet_id}/api-keys", auth),
        Target("POST", "/drivers", auth),
        Target("PATCH", f"/drivers/{driver_id}", auth),
        Target(
            "POST", "/rides", lambda rng: {**auth(rng), "Idempotency-Key": rng.choice(["k1", "é", "a b", "x" * 300])}
        ),
        Target("POST", f"/rides/{ride_id}/cancel", auth),
        Target("POST", f"/offers/{token}/accept", lambda rng: {}),
        Target("POST", f"/offers/{token}/reject", lambda rng: {}),
        Target("POST", "/webhooks/twilio", _twilio_headers(stack, world, "/webhooks/twilio")),
        Target("POST", status_path, _twilio_headers(stack, world, status_path)),
        Target("POST", f"/webhooks/telegram/{fleet.fleet_id}", _telegram_headers(world)),
    ]


def _signed_twilio_case(
    stack: StackClient, world: dict[str, Any], path: str, rng: random.Random
) -> tuple[bytes, dict[str, str]]:
    """Random form fields, validly signed for the fleet: the handler gets past the signature."""
    fleet: Fleet = world["fleet"]
    assert fleet.twilio is not None
    params = {
        "AccountSid": fleet.twilio["account_sid"],
        "To": rng.choice([fleet.sender("sms"), "whatsapp:" + fleet.sender("whatsapp"), fleet.sender("sms") + " "]),
        "From": rng.choice([world["driver"].phone, "whatsapp:" + world["driver"].phone, "", "+1", "é"]),
        "Body": str(rng.choice([*NASTY_STRINGS, "1", "2", "yes", "no", f"1 {world['ride']['code']}"])),
        "MessageStatus": rng.choice(["failed", "undelivered", "delivered", "", "é" * 3]),
    }
    if rng.random() < 0.8:
        params["MessageSid"] = rng.choice([message_sid(), "", "é"])
    for key in rng.sample(FIELD_NAMES, rng.randrange(0, 3)):
        params[key] = str(_value(rng))
    signature = RequestValidator(fleet.twilio["auth_token"]).compute_signature(stack.url(path), params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return urlencode(params).encode(), headers


def _telegram_update(rng: random.Random, world: dict[str, Any]) -> bytes:
    update: dict[str, Any] = {"update_id": rng.choice([1, -1, 2**70, "x", None, rng.randrange(10**9)])}
    if rng.random() < 0.5:
        update["message"] = {
            "message_id": rng.choice([1, "1", None]),
            "chat": rng.choice([{"id": rng.randrange(10**12)}, {"id": "x"}, {}, None]),
            "text": rng.choice([*NASTY_STRINGS, "/start", "/help", "/start " + "é" * 10]),
        }
    else:
        update["callback_query"] = {
            "id": rng.choice(["cb", "", None]),
            "from": rng.choice([{"id": 1}, {}, None]),
            "data": rng.choice(
                [f"a:{world['token']}", f"r:{world['token']}x", "a:", "z:zz", "", None, rng.choice(NASTY_STRINGS)]
            ),
            "message": rng.choice([None, {"message_id": 1, "chat": {"id": 1}}, {"message_id": "x"}]),
        }
    return json.dumps(update).encode()


def test_garbage_never_gets_a_5xx(stack: StackClient, world: dict[str, Any]) -> None:
    # Given every POST and PATCH route, a fleet with a driver, a ride and an open offer to aim at
    rng = random.Random(FUZZ_SEED)
    failures: list[str] = []
    answered = 0
    for target in _targets(stack, world):
        for case in range(CASES_PER_ROUTE):
            # When it is sent garbage: random bodies, content types and headers, some with valid credentials
            headers = target.credentials(rng)
            roll = rng.random()
            if target.path.startswith("/webhooks/twilio") and roll < 0.4:
                body, signed = _signed_twilio_case(stack, world, target.path, rng)
                headers.update(signed)
            elif target.path.startswith("/webhooks/telegram") and roll < 0.5:
                body = _telegram_update(rng, world)
                headers["Content-Type"] = "application/json"
            else:
                body = _raw_body(rng) if roll < 0.7 else json.dumps(_object(rng)).encode()
                content_type = rng.choice(CONTENT_TYPES)
                if content_type:
                    headers["Content-Type"] = content_type
            try:
                answer = stack.request(target.method, target.path, data=body, headers=headers)
            except requests.RequestException as error:
                failures.append(f"{target.method} {target.path} case {case}: no answer ({error})")
                continue
            answered += 1
            # Then the answer is never a server error
            if answer.status_code >= 500:
                failures.append(
                    f"{target.method} {target.path} case {case}: {answer.status_code} {answer.text[:120]} "
                    f"for headers={ {k: v[:40] for k, v in headers.items()} } body={body[:120]!r}"
                )
    assert not failures, f"FUZZ_SEED={FUZZ_SEED}: {len(failures)} server errors:\n" + "\n".join(failures)
    assert answered == len(_targets(stack, world)) * CASES_PER_ROUTE


def test_bad_query_strings_never_get_a_5xx(stack: StackClient, world: dict[str, Any]) -> None:
    # Given the ride list, whose parameters are parsed into dates, numbers and cursors
    fleet: Fleet = world["fleet"]
    rng = random.Random(FUZZ_SEED + 1)
    values = [*NASTY_STRINGS, "-1", "0", "201", "1.5", "searching", "eyJ4IjogMX0=", "e30=", "%%%", "2026-01-01"]
    failures = []
    for case in range(60):
        params = {name: rng.choice(values) for name in rng.sample(["status", "since", "limit", "next", "x"], 3)}
        # When it is asked with garbage parameters
        answer = stack.get("/rides", params=params, headers=fleet.auth)
        # Then it answers 200 or 422, never a server error
        if answer.status_code >= 500:
            failures.append(f"case {case}: {params} → {answer.status_code}")
        elif answer.status_code not in (200, 422):
            failures.append(f"case {case}: {params} → unexpected {answer.status_code} {answer.text[:100]}")
    assert not failures, f"FUZZ_SEED={FUZZ_SEED}:\n" + "\n".join(failures)
