"""The local stack as a separate process, and a small HTTP client for it.

Everything here talks to the stack the way a dispatcher, a driver's phone, Twilio or Telegram would:
over HTTP on 127.0.0.1. Nothing imports product code, so these tests see what a user sees.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests
from twilio.request_validator import RequestValidator

REPO_ROOT = Path(__file__).resolve().parents[2]
ROOT_KEY = "local-root-key"
DEMO_ADMIN_KEY = "demo-admin-key"
STARTUP_TIMEOUT = 90.0
# How long a condition may take to come true. Waiting is not asserting on time: a slow machine only
# makes the tests slower, and a condition that never holds fails with what was seen instead.
WAIT_TIMEOUT = 30.0
POLL_INTERVAL = 0.05
HTTP_TIMEOUT = 30.0

OFFER_LINK = re.compile(r"/offers/([^\s]+)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class StackProcess:
    """`python -m local_stack` on a free port with no simulated drivers; its output goes to a file so a
    chatty stack can never block on a full pipe."""

    def __init__(self, log_path: Path, simulated_drivers: int = 0) -> None:
        self.simulated_drivers = simulated_drivers  # the demo fleet's drivers who answer offers by themselves
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log: IO[bytes] | None = None
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "PORT": str(self.port),
            "LOCAL_SIMULATED_DRIVERS": str(self.simulated_drivers),
            # Schedules tick every 2 s, so the channel probe's recovery is seen within a test.
            "LOCAL_SCHEDULE_SECONDS": "2",
            # A webhook receiver that failed is tried again within a test, not a minute later.
            "WEBHOOK_FIRST_RETRY_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
            "SAM_CLI_TELEMETRY": "0",
        }
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local_stack"],
            cwd=REPO_ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self) -> None:
        """Up means /health answers 200 and the demo fleet is seeded (its admin key works)."""
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"local stack exited with {self.process.returncode}:\n{self.output()}")
            try:
                health = requests.get(f"{self.base_url}/health", timeout=10)
                seeded = requests.get(
                    f"{self.base_url}/drivers", headers={"Authorization": f"Bearer {DEMO_ADMIN_KEY}"}, timeout=10
                )
                if health.status_code == 200 and seeded.status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"local stack not ready after {STARTUP_TIMEOUT}s:\n{self.output()}")

    def stop(self) -> int | None:
        """SIGINT (the stack's own clean shutdown), then SIGKILL if it does not go."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
                print(f"local stack ignored SIGINT and was killed:\n{self.output()[-4000:]}", file=sys.stderr)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.process.returncode

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def output(self, since: int = 0) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as log:
            log.seek(since)
            return log.read().decode("utf-8", errors="replace")


# ---------------------------------------------------------------------- unique values
_numbers = itertools.count(1)
# A per-session prefix: phone numbers, senders and chat ids never collide with the demo fleet's
# (+1555000…, +15005550006/7, +15550009999) nor with each other, so `?to=` filters are exact.
_SESSION = secrets.randbelow(900) + 100


def unique_phone() -> str:
    """A fresh E.164 number; also used for Twilio senders, which belong to one fleet only."""
    return f"+4479{_SESSION:03d}{next(_numbers):05d}"


def unique_chat_id() -> int:
    return 900_000_000 + _SESSION * 10_000 + next(_numbers)


def unique_update_id() -> int:
    return 500_000_000 + _SESSION * 100_000 + next(_numbers)


def message_sid() -> str:
    return "SM" + secrets.token_hex(16)


# ---------------------------------------------------------------------- fleets and drivers
@dataclass
class Fleet:
    fleet_id: str
    api_key: str
    admin_phone: str
    twilio: dict[str, Any] | None = None
    telegram: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def sender(self, channel: str) -> str:
        assert self.twilio is not None, "this fleet has no twilio block"
        return next(s["from"] for s in self.twilio["senders"] if s["channel"] == channel)


@dataclass
class Driver:
    driver_id: str
    phone: str
    channel: str
    name: str


class StackClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()

    # ------------------------------------------------------------------ raw HTTP
    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return self.http.request(method, self.url(path), **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    @staticmethod
    def root() -> dict[str, str]:
        return {"Authorization": f"Bearer {ROOT_KEY}"}

    # ------------------------------------------------------------------ building blocks
    def create_fleet(
        self,
        *,
        driver_response_seconds: int = 2,
        matching_timeout_seconds: int = 6,
        twilio: bool = True,
        telegram: bool = False,
        **extra: Any,
    ) -> Fleet:
        admin_phone = unique_phone()
        body: dict[str, Any] = {
            "name": f"E2E Fleet {next(_numbers)}",
            "admin_contacts": [{"name": "E2E Admin", "phone": admin_phone}],
            "settings": {
                "driver_response_seconds": driver_response_seconds,
                "matching_timeout_seconds": matching_timeout_seconds,
            },
            **extra,
        }
        twilio_block = telegram_block = None
        if twilio:
            twilio_block = {
                "account_sid": "AC" + secrets.token_hex(16),
                "auth_token": secrets.token_urlsafe(24),
                "senders": [
                    {"channel": "sms", "from": unique_phone()},
                    {"channel": "whatsapp", "from": unique_phone()},
                ],
            }
            body["twilio"] = twilio_block
        if telegram:
            telegram_block = {
                "bot_token": f"{700000 + next(_numbers)}:{secrets.token_urlsafe(27)}",
                "bot_username": f"e2e_fleet_{next(_numbers)}_bot",
                "webhook_secret": secrets.token_urlsafe(24),
            }
            body["telegram"] = telegram_block
        answer = self.post("/fleets", json=body, headers=self.root())
        assert answer.status_code == 201, answer.text
        created = answer.json()
        return Fleet(
            fleet_id=created["fleet_id"],
            api_key=created["api_key"],
            admin_phone=admin_phone,
            twilio=twilio_block,
            telegram=telegram_block,
            raw=created,
        )

    def add_driver(self, fleet: Fleet, channel: str = "sms", name: str = "E2E Driver") -> Driver:
        phone = unique_phone()
        answer = self.post(
            "/drivers",
            json={"name": name, "phone": phone, "channel": channel, "vehicle": {"type": "Sedan", "plate": "E2E 1"}},
            headers=fleet.auth,
        )
        assert answer.status_code == 201, answer.text
        return Driver(driver_id=answer.json()["driver_id"], phone=phone, channel=channel, name=name)

    def create_ride(self, fleet: Fleet, customer_phone: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {
            "customer": {"name": "E2E Customer", "phone": customer_phone or unique_phone()},
            "pickup": {"address": "1 Test Street"},
            "dropoff": {"address": "2 Assert Avenue"},
            **extra,
        }
        answer = self.post("/rides", json=body, headers=fleet.auth)
        assert answer.status_code == 201, answer.text
        ride: dict[str, Any] = answer.json()
        return ride

    def ride(self, fleet: Fleet, ride_id: str) -> dict[str, Any]:
        answer = self.get(f"/rides/{ride_id}", headers=fleet.auth)
        assert answer.status_code == 200, answer.text
        ride: dict[str, Any] = answer.json()
        return ride

    def driver(self, fleet: Fleet, driver_id: str) -> dict[str, Any]:
        answer = self.get(f"/drivers/{driver_id}", headers=fleet.auth)
        assert answer.status_code == 200, answer.text
        driver: dict[str, Any] = answer.json()
        return driver

    def offer_of(self, ride: Mapping[str, Any], driver: Driver) -> dict[str, Any]:
        offers = [o for o in ride["offers"] if o["driver_id"] == driver.driver_id]
        assert len(offers) == 1, f"expected one offer to {driver.driver_id}: {ride['offers']}"
        return offers[0]

    # ------------------------------------------------------------------ outbox
    def outbox(self, to: str | int | None = None) -> list[dict[str, Any]]:
        params = {"to": str(to)} if to is not None else None
        answer = self.get("/_local/outbox", params=params)
        assert answer.status_code == 200, answer.text
        messages: list[dict[str, Any]] = answer.json()["messages"]
        return messages

    def wait_for_message(
        self, to: str | int, where: Callable[[dict[str, Any]], bool] = lambda m: True, what: str = "a message"
    ) -> dict[str, Any]:
        found = wait_for(lambda: [m for m in self.outbox(to) if where(m)], f"{what} to {to}")
        return found[-1]

    def wait_for_offer(self, to: str | int, ride: Mapping[str, Any]) -> dict[str, Any]:
        code = ride["code"]
        return self.wait_for_message(
            to, lambda m: code in m["body"] and m["body"].startswith("New ride") and not m.get("edited"), "the offer"
        )

    def offer_token(self, to: str, ride: Mapping[str, Any]) -> str:
        match = OFFER_LINK.search(self.wait_for_offer(to, ride)["body"])
        assert match, f"no offer link in the offer to {to}"
        return match.group(1)

    def wait_for_ride(
        self, fleet: Fleet, ride_id: str, where: Callable[[dict[str, Any]], bool], what: str
    ) -> dict[str, Any]:
        return wait_for(lambda: (lambda r: r if where(r) else None)(self.ride(fleet, ride_id)), what)

    # ------------------------------------------------------------------ webhooks
    def twilio_webhook(
        self,
        fleet: Fleet,
        params: Mapping[str, str],
        *,
        auth_token: str | None = None,
        signature: str | None = "sign",
        path: str = "/webhooks/twilio",
        sign_url: str | None = None,
        sign_params: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """POST form-encoded like Twilio. By default signed as Twilio signs: the fleet's auth token over the
        full URL (query included) and the form parameters; `sign_*` sign something else, to forge."""
        url = self.url(path)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature == "sign":
            token = auth_token if auth_token is not None else (fleet.twilio or {})["auth_token"]
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(
                sign_url or url, dict(sign_params if sign_params is not None else params)
            )
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return self.http.post(url, data=dict(params), headers=headers, timeout=HTTP_TIMEOUT)

    def driver_reply(
        self, fleet: Fleet, driver: Driver, body: str, sid: str | None = None, **options: Any
    ) -> requests.Response:
        prefix = "whatsapp:" if driver.channel == "whatsapp" else ""
        sender = fleet.sender("whatsapp" if driver.channel == "whatsapp" else "sms")
        params = {
            "MessageSid": sid or message_sid(),
            "AccountSid": (fleet.twilio or {})["account_sid"],
            "From": prefix + driver.phone,
            "To": prefix + sender,
            "Body": body,
            "NumMedia": "0",
        }
        return self.twilio_webhook(fleet, params, **options)

    def telegram_update(self, fleet: Fleet, update: Mapping[str, Any], secret: str | None = None) -> requests.Response:
        token = secret if secret is not None else (fleet.telegram or {})["webhook_secret"]
        return self.post(
            f"/webhooks/telegram/{fleet.fleet_id}",
            json=dict(update),
            headers={"X-Telegram-Bot-Api-Secret-Token": token},
        )

    def telegram_text(self, fleet: Fleet, chat_id: int, text: str, update_id: int | None = None) -> requests.Response:
        return self.telegram_update(fleet, text_update(chat_id, text, update_id))


def text_update(chat_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
    return {
        "update_id": update_id if update_id is not None else unique_update_id(),
        "message": {
            "message_id": next(_numbers),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "D"},
            "date": 0,
            "text": text,
        },
    }


def wait_for(probe: Callable[[], Any], what: str, timeout: float = WAIT_TIMEOUT) -> Any:
    """Poll until `probe` returns something truthy; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout}s (last seen: {last!r})")
        time.sleep(POLL_INTERVAL)


def error_message(answer: requests.Response) -> str:
    """The `message` of a JSON error body; fails if the body is not JSON with a message."""
    assert answer.headers.get("content-type", "").startswith("application/json"), (
        f"{answer.status_code} is not JSON: {answer.headers.get('content-type')} {answer.text[:200]}"
    )
    body = answer.json()
    assert isinstance(body, dict), f"not an object: {body}"
    assert isinstance(body.get("message"), str), f"no message in {body}"
    return str(body["message"])
