"""`make run`'s simulated demo drivers answer through the real doors: signed Twilio webhooks for SMS and
WhatsApp, Telegram callback queries for Telegram, never the offer link. One runtime over the repo's own
template.yaml for the module (one LocalRuntime per process at a time)."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from local_stack import LocalRuntime
from local_stack.simulator import DriverSimulator, SimulatedAnswer
from tests.fixtures import clear_cached_clients

REPO = Path(__file__).resolve().parents[3]
ADMIN = {"Authorization": "Bearer demo-admin-key"}
WEBHOOK_PATHS = {"twilio:sms", "twilio:whatsapp", "telegram:callback"}
CHANNEL_OF = {"twilio:sms": "sms", "twilio:whatsapp": "whatsapp", "telegram:callback": "telegram"}

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@dataclass
class Demo:
    runtime: LocalRuntime
    lines: list[str]

    @property
    def simulator(self) -> DriverSimulator:
        assert self.runtime.simulator is not None
        return self.runtime.simulator

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.runtime.base_url}{path}", headers=ADMIN, timeout=30, **kwargs)

    def create_ride(self, customer_phone: str) -> dict[str, Any]:
        answer = self.api(
            "POST",
            "/rides",
            json={
                "customer": {"name": "Sam", "phone": customer_phone},
                "pickup": {"address": "1 High St"},
                "dropoff": {"address": "Central Station"},
            },
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def ride(self, ride_id: str) -> dict[str, Any]:
        return dict(self.api("GET", f"/rides/{ride_id}").json())

    def answers_for(self, ride: dict[str, Any]) -> list[SimulatedAnswer]:
        return [a for a in self.simulator.answers if a.token.startswith(f"{ride['ride_id']}.")]


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    clear_cached_clients(drop_secrets_provider=True)  # built by another suite for its account
    lines: list[str] = []
    with LocalRuntime(REPO, simulated_drivers=3, seed_demo=True, log=lines.append) as runtime:
        assert runtime.simulator is not None
        runtime.simulator.delay_seconds = (0.2, 1.0)  # quicker than a person, still after the offer is stored
        yield Demo(runtime, lines)
    clear_cached_clients(drop_secrets_provider=True)  # built by another suite for its account


def wait_until(condition: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout}s")
        time.sleep(0.05)
    return value


def test_the_demo_fleet_has_a_driver_per_channel_and_telegram_ones_registered_through_the_bot(demo: Demo) -> None:
    seeded = demo.runtime.demo
    assert seeded is not None
    assert [d["channel"] for d in seeded["drivers"]] == ["sms", "whatsapp", "telegram"]
    telegram = seeded["drivers"][2]
    # The chat was bound by `/start <token>` on the fleet's webhook, and the bot welcomed the driver there
    assert f"POST /webhooks/telegram/{seeded['fleet_id']} → 200" in "\n".join(demo.lines)
    driver = demo.api("GET", f"/drivers/{telegram['driver_id']}").json()
    assert driver["telegram_registered"] is True
    welcome = demo.runtime.messages_to(telegram["telegram_chat_id"])
    assert [m["body"] for m in welcome] == [welcome[0]["body"]]
    assert welcome[0]["body"].startswith("Welcome Demo Driver 3!")


def test_a_ride_is_won_over_a_webhook_and_nobody_opens_an_offer_link(demo: Demo) -> None:
    # Given drivers who accept everything
    demo.simulator.accept_probability = 1.0
    requests_before = len(demo.lines)
    # When a ride is requested
    ride = demo.create_ride("+15558880001")
    code = ride["code"]
    answers = wait_until(lambda: len(demo.answers_for(ride)) == 3 and demo.answers_for(ride))
    done = wait_until(lambda: (r := demo.ride(ride["ride_id"]))["status"] == "assigned" and r)

    # Then each driver answered on their own channel's webhook, and one of them won the ride
    assert {a.result.via for a in answers if a.result} == WEBHOOK_PATHS
    assert all(a.result and a.result.status == 200 and a.kind == "offer" for a in answers)
    winners = [a for a in answers if a.result and a.result.reply.startswith(f"Ride {code} is yours")]
    assert [w.driver_id for w in winners] == [done["driver_id"]]
    [won] = [o for o in done["offers"] if o["driver_id"] == done["driver_id"]]
    assert won["status"] == "accepted"
    assert won["channel"] == CHANNEL_OF[winners[0].result.via]  # type: ignore[union-attr]
    # And the others were told it was taken, by TwiML or by the bot
    for loser in (a for a in answers if a not in winners):
        assert loser.result is not None
        assert loser.result.reply == f"Sorry, ride {code} was already taken by another driver.", loser
    served = "\n".join(demo.lines[requests_before:])
    assert "POST /webhooks/twilio → 200" in served
    assert "POST /webhooks/telegram/" in served
    assert "/offers/" not in served

    # And the "ride taken" news gets no answer
    wait_until(lambda: len([m for m in demo.runtime.outbox if f"Ride {code} has been taken" in m["body"]]) == 2)
    time.sleep(1.5)
    assert len(demo.answers_for(ride)) == 3


def test_rejections_travel_the_same_webhooks_and_cancellation_news_gets_no_answer(demo: Demo) -> None:
    # Given drivers who reject everything
    demo.simulator.accept_probability = 0.0
    # When a ride is requested
    ride = demo.create_ride("+15558880002")
    answers = wait_until(lambda: len(demo.answers_for(ride)) == 3 and demo.answers_for(ride))

    # Then every driver rejected it through their channel's webhook, and the ride says so
    assert {a.result.via for a in answers if a.result} == WEBHOOK_PATHS
    assert {a.result.reply for a in answers if a.result} == {f"OK, ride {ride['code']} rejected."}
    offers = wait_until(
        lambda: (o := demo.ride(ride["ride_id"])["offers"]) and {x["status"] for x in o} == {"rejected"} and o
    )
    assert sorted(o["channel"] for o in offers) == ["sms", "telegram", "whatsapp"]

    # When the dispatcher cancels it, the drivers are told, and nobody answers that
    assert demo.api("POST", f"/rides/{ride['ride_id']}/cancel", json={}).status_code == 200
    wait_until(lambda: len([m for m in demo.runtime.outbox if f"Ride {ride['code']} was cancelled" in m["body"]]) == 3)
    time.sleep(1.5)
    assert len(demo.answers_for(ride)) == 3


def test_with_two_rides_about_each_reply_answers_the_ride_it_was_meant_for(demo: Demo) -> None:
    demo.simulator.accept_probability = 0.0
    rides = [demo.create_ride("+15558880003"), demo.create_ride("+15558880004")]
    for ride in rides:
        answers = wait_until(lambda ride=ride: len(demo.answers_for(ride)) == 3 and demo.answers_for(ride))
        # A bare "2" would answer the newest ride; each reply names its own
        assert {a.result.reply for a in answers if a.result} == {f"OK, ride {ride['code']} rejected."}
        assert {a.result.sent for a in answers if a.result and a.result.via.startswith("twilio:")} == {
            f"2 {ride['code']}"
        }
    for ride in rides:
        assert demo.api("POST", f"/rides/{ride['ride_id']}/cancel", json={}).status_code == 200
    for ride in rides:  # the news is out before the stack stops
        wait_until(
            lambda ride=ride: (
                len([m for m in demo.runtime.outbox if f"Ride {ride['code']} was cancelled" in m["body"]]) == 3
            )
        )
