"""Matching over HTTP (SPEC §4): first accept wins, nobody answering times out and alerts the admins."""

from __future__ import annotations

import threading
from typing import Any

from tests.e2e.stack import Fleet, StackClient, unique_phone


def test_two_accepts_at_once_give_one_ride_to_one_driver(stack: StackClient) -> None:
    # Given a ride offered to two drivers
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=6)
    first, second = stack.add_driver(fleet), stack.add_driver(fleet)
    ride = stack.create_ride(fleet)
    tokens = {
        first.driver_id: stack.offer_token(first.phone, ride),
        second.driver_id: stack.offer_token(second.phone, ride),
    }
    # When both accept at the same moment
    start = threading.Barrier(2)
    answers: dict[str, Any] = {}

    def accept(driver_id: str) -> None:
        start.wait()
        answers[driver_id] = stack.post(f"/offers/{tokens[driver_id]}/accept")

    threads = [threading.Thread(target=accept, args=(d,)) for d in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one wins and the other is told it is taken
    outcomes = {d: (a.status_code, a.json()["result"]) for d, a in answers.items()}
    assert sorted(outcomes.values()) == [(200, "assigned"), (409, "already_taken")], outcomes
    winner = next(d for d, outcome in outcomes.items() if outcome[1] == "assigned")
    # And the ride belongs to the winner, whose offer is the only accepted one
    settled = _assigned_with_offers_settled(stack, fleet, ride["ride_id"])
    assert settled["driver_id"] == winner
    assert {o["driver_id"]: o["status"] for o in settled["offers"]} == {
        winner: "accepted",
        next(d for d in tokens if d != winner): "taken",
    }
    # And the loser, answering again, still cannot win
    loser = next(d for d in tokens if d != winner)
    late = stack.post(f"/offers/{tokens[loser]}/accept")
    assert late.status_code == 409
    assert late.json()["result"] == "already_taken"


def test_a_ride_nobody_answers_times_out_and_the_admin_is_alerted(stack: StackClient) -> None:
    # Given a fleet with a short matching timeout, an admin phone, and a driver who never answers
    fleet: Fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=3)
    driver = stack.add_driver(fleet)
    customer = unique_phone()
    ride = stack.create_ride(fleet, customer_phone=customer, notes="ring twice")
    stack.wait_for_offer(driver.phone, ride)
    # When the matching timeout passes
    ended = stack.wait_for_ride(fleet, ride["ride_id"], lambda r: r["status"] != "searching", "the ride to end")
    # Then the ride timed out and no offer is left open
    assert ended["status"] == "timed_out"
    assert ended["driver_id"] is None
    assert [o["status"] for o in ended["offers"]] == ["timeout"]
    # And the admin's phone got the alert with the customer's details, pickup and dropoff
    alert = stack.wait_for_message(
        fleet.admin_phone, lambda m: ride["code"] in m["body"] and "timed out" in m["body"], "the timed-out alert"
    )
    for detail in (customer, "E2E Customer", "1 Test Street", "2 Assert Avenue"):
        assert detail in alert["body"]
    # And the customer is told no driver took it
    stack.wait_for_message(customer, lambda m: "no driver accepted" in m["body"], "the customer told")
    # And an accept now is too late, and so is a cancel
    late = stack.post(f"/offers/{stack.offer_token(driver.phone, ride)}/accept")
    assert late.status_code == 409
    assert late.json()["result"] == "expired"
    cancel = stack.post(f"/rides/{ride['ride_id']}/cancel", headers=fleet.auth)
    assert cancel.status_code == 409
    assert "timed_out" in cancel.json()["message"]


def test_a_ride_with_no_active_driver_alerts_the_admin_at_once(stack: StackClient) -> None:
    # Given a fleet whose only driver is inactive
    fleet = stack.create_fleet()
    driver = stack.add_driver(fleet)
    assert stack.patch(f"/drivers/{driver.driver_id}", json={"status": "inactive"}, headers=fleet.auth).ok
    # When a ride comes in
    ride = stack.create_ride(fleet)
    # Then it ends timed out without an offer, and the admin hears about it
    ended = stack.wait_for_ride(fleet, ride["ride_id"], lambda r: r["status"] != "searching", "the ride to end")
    assert ended["status"] == "timed_out"
    assert ended["offers"] == []
    stack.wait_for_message(fleet.admin_phone, lambda m: ride["code"] in m["body"], "the admin alert")
    assert stack.outbox(driver.phone) == []


def test_a_crowd_of_simultaneous_accepts_has_exactly_one_winner(stack: StackClient) -> None:
    # Two accepts rarely overlap inside the stack; ten at once do, so this is the test that notices when
    # the winner is not decided by one conditional write (checked: it fails without the condition).
    # Given a ride offered to ten drivers
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=6)
    drivers = [stack.add_driver(fleet) for _ in range(10)]
    ride = stack.create_ride(fleet)
    tokens = {d.driver_id: stack.offer_token(d.phone, ride) for d in drivers}
    # When all of them accept at the same moment
    start = threading.Barrier(len(tokens))
    answers: dict[str, tuple[int, str]] = {}

    def accept(driver_id: str) -> None:
        start.wait()
        answer = stack.post(f"/offers/{tokens[driver_id]}/accept")
        answers[driver_id] = (answer.status_code, answer.json()["result"])

    threads = [threading.Thread(target=accept, args=(d,)) for d in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly one is assigned and nine are told it is taken, with no error
    assert sorted(answers.values()) == [(200, "assigned")] + [(409, "already_taken")] * 9, answers
    winner = next(d for d, (_, result) in answers.items() if result == "assigned")
    # And the ride records that one winner, every other offer settled as taken
    settled = _assigned_with_offers_settled(stack, fleet, ride["ride_id"])
    assert settled["driver_id"] == winner
    assert sorted(o["status"] for o in settled["offers"]) == ["accepted"] + ["taken"] * 9


def test_the_offer_link_rejects_and_a_cancelled_ride_cannot_be_accepted(stack: StackClient) -> None:
    # Given a ride offered to two drivers
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=6)
    first, second = stack.add_driver(fleet), stack.add_driver(fleet)
    ride = stack.create_ride(fleet)
    first_token, second_token = stack.offer_token(first.phone, ride), stack.offer_token(second.phone, ride)
    # When the first driver rejects through the link
    rejected = stack.post(f"/offers/{first_token}/reject")
    # Then the answer and the offer say so
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["result"] == "rejected"
    assert stack.offer_of(stack.ride(fleet, ride["ride_id"]), first)["status"] == "rejected"
    # When the dispatcher cancels the ride and the second driver then accepts
    assert stack.post(f"/rides/{ride['ride_id']}/cancel", headers=fleet.auth).status_code == 200
    accepted = stack.post(f"/offers/{second_token}/accept")
    # Then the driver is told it was cancelled, and nobody gets the ride
    assert accepted.status_code == 409
    assert accepted.json()["result"] == "cancelled"
    assert stack.ride(fleet, ride["ride_id"])["driver_id"] is None
    # And the driver who still had the offer hears about the cancellation
    stack.wait_for_message(second.phone, lambda m: "cancelled" in m["body"], "the cancellation news")


def _assigned_with_offers_settled(stack: StackClient, fleet: Fleet, ride_id: str) -> dict[str, Any]:
    return stack.wait_for_ride(
        fleet,
        ride_id,
        lambda r: r["status"] == "assigned" and all(o["status"] != "sent" for o in r["offers"]),
        "the ride assigned with every offer settled",
    )
