"""Fleets' webhooks over HTTP on the local stack (SPEC §10): a receiver on loopback gets each ride event
signed per Standard Webhooks, checks it with the `standardwebhooks` package, and a failing receiver is
retried while the fleet sees its failures in GET /fleets/{id}."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook

from tests.e2e.stack import Fleet, StackClient, wait_for


@dataclass
class Receiver:
    url: str
    statuses: list[int]  # what the next requests are answered, then 204
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def verified_events(self, secret: str) -> list[dict[str, Any]]:
        """Every request that passed verification, as the receiver's code would check it."""
        return [Webhook(secret).verify(body, headers) for headers, body in self.received]


@contextmanager
def receiver(*statuses: int) -> Iterator[Receiver]:
    """A fleet's system on loopback http (the local stack allows it; deployed, webhooks are https only)."""
    state = Receiver(url="", statuses=list(statuses))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.statuses.pop(0) if state.statuses else 204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the test reads what it received
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/ridecast"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _fleet_with_webhook(stack: StackClient, url: str, **webhook: Any) -> tuple[Fleet, str]:
    fleet = stack.create_fleet(driver_response_seconds=10, matching_timeout_seconds=30, webhook={"url": url, **webhook})
    secret = fleet.raw["webhook_secret"]
    assert secret.startswith("whsec_")
    return fleet, secret


def test_a_receiver_verifies_searching_then_assigned(stack: StackClient) -> None:
    with receiver() as fleets_system:
        # Given a fleet whose webhook points at its receiver, and a driver
        fleet, secret = _fleet_with_webhook(stack, fleets_system.url)
        driver = stack.add_driver(fleet)
        # When a ride is created and the driver accepts it
        ride = stack.create_ride(fleet)
        token = stack.offer_token(driver.phone, ride)
        assert stack.post(f"/offers/{token}/accept").status_code == 200
        # Then the receiver verifies ride.searching then ride.assigned, signed with the secret it was shown
        wait_for(lambda: len(fleets_system.received) >= 2 or None, "two ride events")
        events = fleets_system.verified_events(secret)
        assert [(e["type"], e["data"]["ride_id"]) for e in events] == [
            ("ride.searching", ride["ride_id"]),
            ("ride.assigned", ride["ride_id"]),
        ]
        assert events[1]["data"]["driver_id"] == driver.driver_id
        headers = [h for h, _ in fleets_system.received]
        assert [h["webhook-id"] for h in headers] == [e["id"] for e in events]
        assert len({h["webhook-id"] for h in headers}) == 2
    # And the secret is never shown again
    shown = stack.get(f"/fleets/{fleet.fleet_id}", headers=fleet.auth).json()
    assert "webhook_secret" not in shown
    assert secret not in json.dumps(shown)
    assert shown["webhook"]["failures"] == 0


def test_a_failing_receiver_gets_ride_assigned_once_after_a_retry_and_the_fleet_sees_it(stack: StackClient) -> None:
    with receiver(500) as fleets_system:
        # Given a fleet subscribed to ride.assigned only, whose receiver answers 500 once
        fleet, secret = _fleet_with_webhook(stack, fleets_system.url, events=["ride.assigned"])
        driver = stack.add_driver(fleet)
        # When a driver accepts a ride
        ride = stack.create_ride(fleet)
        assert stack.post(f"/offers/{stack.offer_token(driver.phone, ride)}/accept").status_code == 200
        # Then ride.assigned is tried again after the failure, with the same webhook-id, and verifies
        wait_for(lambda: len(fleets_system.received) >= 2 or None, "a retry after the 500")
        time.sleep(3)  # several backoff steps of the local stack's 1 s first retry: nothing more may come
        assert len(fleets_system.received) == 2
        first, second = (h["webhook-id"] for h, _ in fleets_system.received)
        assert first == second
        verified = fleets_system.verified_events(secret)
        assert [(e["type"], e["data"]["ride_id"]) for e in verified] == [("ride.assigned", ride["ride_id"])] * 2
        # And the fleet sees the failed delivery
        webhook = stack.get(f"/fleets/{fleet.fleet_id}", headers=fleet.auth).json()["webhook"]
        assert (webhook["url"], webhook["events"]) == (fleets_system.url, ["ride.assigned"])
        assert webhook["failures"] == 1
        assert webhook["last_error"] == "HTTP 500"
        assert webhook["last_failure_at"] is not None


def test_a_ride_back_to_matching_is_ride_reassigned(stack: StackClient) -> None:
    with receiver() as fleets_system:
        # Given a fleet subscribed to ride.reassigned, and a ride its driver accepted
        fleet, secret = _fleet_with_webhook(stack, fleets_system.url, events=["ride.reassigned"])
        driver = stack.add_driver(fleet)
        stack.add_driver(fleet)
        ride = stack.create_ride(fleet)
        assert stack.post(f"/offers/{stack.offer_token(driver.phone, ride)}/accept").status_code == 200
        # When the admin sends it back to matching
        answer = stack.post(f"/rides/{ride['ride_id']}/reassign", json={"reason": "car broke down"}, headers=fleet.auth)
        assert answer.status_code == 200, answer.text
        # Then the receiver gets ride.reassigned alone, the ride searching again
        wait_for(lambda: fleets_system.received or None, "ride.reassigned")
        events = fleets_system.verified_events(secret)
        assert [(e["type"], e["data"]["status"]) for e in events] == [("ride.reassigned", "searching")]


def test_a_webhook_must_be_https(stack: StackClient) -> None:
    # When a fleet names a plain http webhook that is not loopback
    answer = stack.post(
        "/fleets", json={"name": "Plain Cabs", "webhook": {"url": "http://example.com/hook"}}, headers=stack.root()
    )
    # Then it is refused, naming the field
    assert answer.status_code == 422, answer.text
    assert "url" in answer.text
