"""README.md "A tour with curl", step by step, against the running stack (demo fleet, no simulated drivers)."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from tests.e2e.stack import DEMO_ADMIN_KEY, OFFER_LINK, ROOT_KEY, StackClient, free_port, wait_for

ADMIN = {"Authorization": f"Bearer {DEMO_ADMIN_KEY}"}
DANA = "+447700900123"
SAM = "+447700900999"


@contextmanager
def loopback_receiver(port: int, secret: str) -> Iterator[tuple[list[dict[str, Any]], list[bytes]]]:
    """The README's /tmp/ridecast_receiver.py in a thread: what it verified, and the bodies it answered 400."""
    verified: list[dict[str, Any]] = []
    rejected: list[bytes] = []
    webhook = Webhook(secret)

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            try:
                event = webhook.verify(body, dict(self.headers))
            except WebhookVerificationError:
                rejected.append(body)
                self.send_response(400)
            else:
                verified.append(event)
                self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the test reads what it verified
            return

    server = HTTPServer(("127.0.0.1", port), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield verified, rejected
    finally:
        server.shutdown()
        server.server_close()


def test_the_readme_tour_works_as_written(stack: StackClient) -> None:
    # Given the stack as `make run` starts it
    health = stack.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"

    # When a fleet of one's own is created with the root key
    fleet = stack.post(
        "/fleets",
        headers={"Authorization": f"Bearer {ROOT_KEY}"},
        json={"name": "Night Owls", "settings": {"driver_response_seconds": 20, "matching_timeout_seconds": 120}},
    )
    # Then it comes back with its id and its admin key, shown once
    assert fleet.status_code == 201, fleet.text
    assert fleet.json()["fleet_id"]
    assert fleet.json()["api_key"].startswith("rc_")
    assert fleet.json()["settings"]["driver_response_seconds"] == 20

    # When Dana joins the demo fleet
    dana = stack.post(
        "/drivers",
        headers=ADMIN,
        json={
            "name": "Dana",
            "phone": DANA,
            "channel": "sms",
            "vehicle": {"type": "Sedan", "plate": "AB12 CDE"},
            "rating": 4.9,
        },
    )
    assert dana.status_code == 201, dana.text
    assert dana.json()["status"] == "active"
    dana_id = dana.json()["driver_id"]

    # And a ride is requested with an Idempotency-Key
    ride_request = {
        "customer": {"name": "Sam", "phone": SAM},
        "pickup": {"address": "1 High St"},
        "dropoff": {"address": "Central Station"},
    }
    created = stack.post("/rides", headers={**ADMIN, "Idempotency-Key": "demo-1"}, json=ride_request)
    assert created.status_code == 201, created.text
    ride = created.json()
    assert ride["status"] == "searching"
    assert re.fullmatch(r"R-[0-9A-Z]{5}", ride["code"])

    # Then the same key gives back the same ride instead of a second one
    again = stack.post("/rides", headers={**ADMIN, "Idempotency-Key": "demo-1"}, json=ride_request)
    assert again.status_code == 201, again.text
    assert again.json()["ride_id"] == ride["ride_id"]

    # And Dana's offer is in the outbox, with her offer link, the README's way
    stack.wait_for_offer(DANA, ride)
    offer = stack.outbox(DANA)[-1]
    assert offer["channel"] == "sms"
    assert ride["code"] in offer["body"]
    found = OFFER_LINK.search(offer["body"])
    assert found is not None, offer["body"]
    token_text = found.group(1)
    assert f"{stack.base_url}/offers/{token_text}" in offer["body"]

    # When Dana opens the link
    page = stack.get(f"/offers/{token_text}")
    # Then she sees a page with the ride and Accept / Reject
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert ride["code"] in page.text
    assert "1 High St" in page.text
    assert ">Accept</button>" in page.text
    assert ">Reject</button>" in page.text

    # And a link that is not an offer is an HTML 404
    missing = stack.get(f"/offers/{token_text[:-3]}xyz")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "not found" in missing.text.lower()

    # When she accepts through the link
    accepted = stack.post(f"/offers/{token_text}/accept")
    # Then the ride is hers
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["result"] == "assigned"

    # And GET /rides/{id} shows the driver and every offer with its status
    seen = stack.get(f"/rides/{ride['ride_id']}", headers=ADMIN)
    assert seen.status_code == 200
    assert seen.json()["status"] == "assigned"
    assert seen.json()["driver_id"] == dana_id
    assert seen.json()["assigned_at"] is not None
    assert seen.json()["time_to_match_seconds"] is not None
    assert [(o["driver_id"], o["status"], o["channel"]) for o in seen.json()["offers"]] == [
        (dana_id, "accepted", "sms")
    ]
    assert seen.json()["offers"][0]["responded_at"] is not None

    # And Sam, the customer, is told who is coming
    told = wait_for(lambda: [m for m in stack.outbox(SAM) if "Dana" in m["body"]], "Sam hearing about Dana")
    assert DANA in told[-1]["body"]
    assert "AB12 CDE" in told[-1]["body"]
    # And the whole outbox lists every message with channel, recipient, body and time
    everything = stack.outbox()
    assert {"channel", "to", "body", "sent_at"} <= set(everything[-1])

    # When Ana's ride is pre-booked for an hour from now (the demo fleet matches 15 minutes before pickup)
    pickup = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ana = "+447700900777"
    booked = stack.post(
        "/rides",
        headers=ADMIN,
        json={
            "customer": {"name": "Ana", "phone": ana},
            "pickup": {"address": "2 Low St"},
            "dropoff": {"address": "Airport"},
            "pickup_time": pickup,
        },
    )
    # Then it is scheduled, listed as such, and Ana is told the booking
    assert booked.status_code == 201, booked.text
    assert booked.json()["status"] == "scheduled"
    scheduled = stack.get("/rides", params={"status": "scheduled"}, headers=ADMIN).json()["rides"]
    assert booked.json()["ride_id"] in [r["ride_id"] for r in scheduled]
    wait_for(lambda: [m for m in stack.outbox(ana) if "is booked for" in m["body"]], "Ana's booking confirmation")

    # When the desk sends a batch of a good booking and one with a bad phone
    batch = stack.post(
        "/rides/batch",
        headers={**ADMIN, "Idempotency-Key": f"paste-{pickup}"},
        json={
            "rides": [
                {
                    "customer": {"name": "Bo", "phone": "+447700900555"},
                    "pickup": {"address": "3 Mill Rd"},
                    "dropoff": {"address": "Docks"},
                },
                {
                    "customer": {"name": "Cy", "phone": "07700"},
                    "pickup": {"address": "4 Elm St"},
                    "dropoff": {"address": "Zoo"},
                },
            ]
        },
    )
    # Then the first is created and the second answered as POST /rides would answer it
    assert batch.status_code == 200, batch.text
    assert [(r["index"], r["status"]) for r in batch.json()["results"]] == [(0, 201), (1, 422)]
    assert "customer.phone" in batch.json()["results"][1]["error"]["message"]

    # When the demo fleet's webhook points at a receiver on loopback
    fleet_id = stack.get("/me", headers=ADMIN).json()["fleet_id"]
    port = free_port()
    hooked = stack.patch(
        f"/fleets/{fleet_id}", headers=ADMIN, json={"webhook": {"url": f"http://127.0.0.1:{port}/ridecast"}}
    )
    # Then the signing secret is in that answer
    assert hooked.status_code == 200, hooked.text
    secret = hooked.json()["webhook_secret"]
    assert secret.startswith("whsec_")
    # And with the receiver running on that secret, Eve's ride is requested and Dana accepts it
    with loopback_receiver(port, secret) as (verified, rejected):
        eve = stack.post(
            "/rides",
            headers=ADMIN,
            json={
                "customer": {"name": "Eve", "phone": "+447700900888"},
                "pickup": {"address": "5 Quay St"},
                "dropoff": {"address": "Museum"},
            },
        )
        assert eve.status_code == 201, eve.text
        assert stack.post(f"/offers/{stack.offer_token(DANA, eve.json())}/accept").status_code == 200

        def eves_events() -> list[tuple[str, str]]:
            return [(e["type"], e["data"]["status"]) for e in verified if e["data"]["ride_id"] == eve.json()["ride_id"]]

        # Then the receiver verifies ride.searching then ride.assigned, signed with the secret shown once
        wait_for(lambda: len(eves_events()) >= 2 or None, "Eve's ride.searching and ride.assigned, verified")
        time.sleep(2)  # past the local stack's 1 s first retry: a second delivery of an event would be here by now
        assert eves_events() == [("ride.searching", "searching"), ("ride.assigned", "assigned")]
        assert rejected == []
        # And each event came once: one delivery per webhook-id
        assert [webhook_id for webhook_id, times in Counter(e["id"] for e in verified).items() if times > 1] == []

        # When the webhook is taken off the fleet, before the receiver stops
        unhooked = stack.patch(f"/fleets/{fleet_id}", headers=ADMIN, json={"webhook": None})
        # Then the fleet has none
        assert unhooked.status_code == 200, unhooked.text
        assert unhooked.json()["webhook"] is None
