"""Helpers for the integration tests: the running stack as a fleet, its drivers and its engineers see it
(a fresh fleet per test created through the HTTP API), and ways to read what happened (outbox, table,
executions).

Tests drive the system the way a fleet and its drivers do: HTTP for API behaviour, offer links taken from
the SMS bodies in the outbox. Short fleet settings keep each flow to a few seconds.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests

from local_stack import LocalRuntime

# Execution status is polled, never slept on; a flow with these settings ends in a few seconds.
FLOW_TIMEOUT = 30.0
# Numbers nobody else in the process uses: E.164, unique per test run.
_numbers = itertools.count(1)


def unique_phone(prefix: str = "+1555") -> str:
    return f"{prefix}{next(_numbers):07d}"


@dataclass
class Fleet:
    fleet_id: str
    api_key: str
    admin_phone: str
    sender: str
    drivers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@dataclass
class Customer:
    name: str
    phone: str


class Stack:
    """The running system as a fleet operator, its drivers and its on-call engineer see it."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        self.base_url = runtime.base_url
        self.http = requests.Session()
        self._fleets: list[Fleet] = []
        self._offer_link = re.compile(re.escape(self.base_url) + r"/offers/([A-Za-z0-9_.\-]+)")
        self.state_machine_arn = str(runtime.ref("MatchingStateMachine"))
        # The state machine's ARN names the region the template was resolved for.
        self.sfn = boto3.client("stepfunctions", region_name=self.state_machine_arn.split(":")[3])

    # ----------------------------------------------------------------- fleets and drivers
    def create_fleet(
        self, *, driver_response_seconds: int = 1, matching_timeout_seconds: int = 3, prebook_lead_minutes: int = 15
    ) -> Fleet:
        admin_phone, sender = unique_phone("+1666"), unique_phone("+1777")
        answer = self.http.post(
            f"{self.base_url}/fleets",
            headers={"Authorization": f"Bearer {self.runtime.root_key}"},
            json={
                "name": f"Fleet {sender}",
                "admin_contacts": [{"name": "Olu Admin", "phone": admin_phone}],
                "settings": {
                    "driver_response_seconds": driver_response_seconds,
                    "matching_timeout_seconds": matching_timeout_seconds,
                    "prebook_lead_minutes": prebook_lead_minutes,
                },
                "twilio": {
                    "account_sid": "AC" + "5" * 32,
                    "auth_token": "local-stand-in-auth-token",
                    "senders": [{"channel": "sms", "from": sender}],
                },
            },
        )
        assert answer.status_code == 201, answer.text
        fleet = Fleet(answer.json()["fleet_id"], answer.json()["api_key"], admin_phone, sender)
        self._fleets.append(fleet)
        return fleet

    def add_driver(self, fleet: Fleet, name: str | None = None, status: str = "active") -> dict[str, Any]:
        phone = unique_phone()
        name = name or f"Driver {phone[-4:]}"
        answer = self.http.post(
            f"{self.base_url}/drivers",
            headers=fleet.headers,
            json={
                "name": name,
                "phone": phone,
                "channel": "sms",
                "vehicle": {"type": "Sedan", "plate": f"RC-{phone[-4:]}"},
                "rating": 4.7,
            },
        )
        assert answer.status_code == 201, answer.text
        driver: dict[str, Any] = answer.json()
        if status != "active":
            driver = self.set_driver_status(fleet, driver, status)
        fleet.drivers.append(driver)
        return driver

    def set_driver_status(self, fleet: Fleet, driver: dict[str, Any], status: str) -> dict[str, Any]:
        answer = self.http.patch(
            f"{self.base_url}/drivers/{driver['driver_id']}", headers=fleet.headers, json={"status": status}
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == status
        updated: dict[str, Any] = answer.json()
        return updated

    # ----------------------------------------------------------------- rides
    def create_ride(
        self, fleet: Fleet, customer: Customer | None = None, idempotency_key: str | None = None, **extra: Any
    ) -> requests.Response:
        customer = customer or Customer("Cleo Customer", unique_phone("+1888"))
        headers = dict(fleet.headers)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        body = {
            "customer": {"name": customer.name, "phone": customer.phone},
            "pickup": {"address": "12 Pickup Lane"},
            "dropoff": {"address": "34 Dropoff Road"},
            **extra,
        }
        return self.http.post(f"{self.base_url}/rides", headers=headers, json=body)

    def start_ride(self, fleet: Fleet, customer: Customer | None = None) -> dict[str, Any]:
        answer = self.create_ride(fleet, customer)
        assert answer.status_code == 201, answer.text
        ride: dict[str, Any] = answer.json()
        assert ride["status"] == "searching"
        return ride

    def get_ride(self, fleet: Fleet, ride_id: str) -> dict[str, Any]:
        answer = self.http.get(f"{self.base_url}/rides/{ride_id}", headers=fleet.headers)
        assert answer.status_code == 200, answer.text
        ride: dict[str, Any] = answer.json()
        return ride

    def cancel(self, fleet: Fleet, ride_id: str, reason: str | None = None) -> requests.Response:
        body = {"reason": reason} if reason else None
        return requests.post(f"{self.base_url}/rides/{ride_id}/cancel", headers=fleet.headers, json=body, timeout=30)

    # ----------------------------------------------------------------- drivers' phones
    def messages_to(self, phone: str, containing: str = "") -> list[dict[str, Any]]:
        return [m for m in self.runtime.messages_to(phone) if containing in m["body"]]

    def offer_link(self, driver: dict[str, Any], ride: dict[str, Any], timeout: float = 10.0) -> str:
        """The link in the driver's first offer SMS for this ride, waiting for it to arrive."""
        found = self.runtime.wait_for_messages(
            to=driver["phone"], timeout=timeout, where=lambda m: f"New ride {ride['code']}" in m["body"]
        )
        match = self._offer_link.search(found[0]["body"])
        assert match, f"no offer link in {found[0]['body']!r}"
        return f"{self.base_url}/offers/{match.group(1)}"

    @staticmethod
    def token_of(link: str) -> str:
        return link.rsplit("/", 1)[1]

    @staticmethod
    def accept(link: str) -> requests.Response:
        return requests.post(f"{link}/accept", timeout=30)

    @staticmethod
    def reject(link: str) -> requests.Response:
        return requests.post(f"{link}/reject", timeout=30)

    def wait_for_searching_message(self, customer_phone: str, ride: dict[str, Any]) -> str:
        """The customer hears "N drivers notified" once the first wave has gone out and been counted."""
        found = self.runtime.wait_for_messages(
            to=customer_phone, where=lambda m: "finding you a driver" in m["body"] and ride["code"] in m["body"]
        )
        return str(found[0]["body"])

    # ----------------------------------------------------------------- executions
    def execution_arn(self, ride_id: str) -> str:
        return self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{ride_id}"

    def wait_for_execution(self, ride_id: str, timeout: float = FLOW_TIMEOUT) -> dict[str, Any]:
        """The execution once it has ended; a flow still running after `timeout` fails the test."""
        deadline = time.monotonic() + timeout
        while True:
            described = dict(self.sfn.describe_execution(executionArn=self.execution_arn(ride_id)))
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise AssertionError(f"execution {ride_id} still RUNNING after {timeout}s")
            time.sleep(0.05)

    def states_entered(self, ride_id: str) -> list[str]:
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": self.execution_arn(ride_id), "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events.extend(dict(e) for e in page["events"])
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]

    # ----------------------------------------------------------------- cleanup
    def settle_leftovers(self) -> None:
        """Cancel what a test left searching, so its flows stop competing with the next test for the CPU."""
        for fleet in self._fleets:
            for status in ("scheduled", "searching"):
                answer = self.http.get(f"{self.base_url}/rides", headers=fleet.headers, params={"status": status})
                if answer.status_code != 200:
                    continue
                for ride in answer.json()["rides"]:
                    self.cancel(fleet, ride["ride_id"], "test finished")
        self._fleets.clear()


def wait_until(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll `condition` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached after {timeout}s (last: {value!r})")
        time.sleep(0.02)


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Start every call at the same instant (a barrier) on its own thread; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results
