"""Accepts of one ride racing each other: exactly one driver gets it, every other is told it is taken."""

from collections import Counter
from typing import Any

import requests

from tests.integration.helpers import Customer, Stack, run_together, unique_phone


def _answer(response: requests.Response) -> tuple[int, Any]:
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else None
    return response.status_code, (body or {}).get("result")


def test_two_accepts_at_once_one_wins_the_other_is_told_taken(stack: Stack) -> None:
    # Given a ride offered to two drivers
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=6)
    first, second = stack.add_driver(fleet), stack.add_driver(fleet)
    customer = Customer("Rae Race", unique_phone("+1888"))
    ride = stack.start_ride(fleet, customer)
    links = [stack.offer_link(first, ride), stack.offer_link(second, ride)]
    stack.wait_for_searching_message(customer.phone, ride)

    # When both accept at the same instant
    answers = run_together(*(lambda link=link: stack.accept(link) for link in links))

    # Then exactly one is assigned and the other is told the ride is already taken
    results = [_answer(a) for a in answers]
    assert sorted(results) == [(200, "assigned"), (409, "already_taken")]
    winner = (first, second)[results.index((200, "assigned"))]

    # And the ride, its offers and the execution agree on the winner
    assert stack.wait_for_execution(ride["ride_id"])["status"] == "SUCCEEDED"
    settled = stack.get_ride(fleet, ride["ride_id"])
    assert settled["status"] == "assigned"
    assert settled["driver_id"] == winner["driver_id"]
    assert sorted(o["status"] for o in settled["offers"]) == ["accepted", "taken"]
    assert len(stack.messages_to(customer.phone, "Your driver")) == 1


def test_hundred_accepts_at_once_make_one_assignment_and_no_errors(stack: Stack) -> None:
    # Given a ride offered to a hundred drivers
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=6)
    drivers = [stack.add_driver(fleet) for _ in range(100)]
    customer = Customer("Hana Hundred", unique_phone("+1888"))
    ride = stack.start_ride(fleet, customer)
    stack.wait_for_searching_message(customer.phone, ride)
    links = [stack.offer_link(d, ride) for d in drivers]

    # When every one of them accepts at the same instant
    answers = run_together(*(lambda link=link: stack.accept(link) for link in links))

    # Then exactly one is assigned, 99 are told it is already taken, and nothing answers 5xx
    results = Counter(_answer(a) for a in answers)
    assert results == {(200, "assigned"): 1, (409, "already_taken"): 99}
    winner = next(d for d, a in zip(drivers, answers, strict=True) if a.status_code == 200)

    # And the ride is the winner's, with one accepted offer and 99 taken, none left sent
    assert stack.wait_for_execution(ride["ride_id"])["status"] == "SUCCEEDED"
    settled = stack.get_ride(fleet, ride["ride_id"])
    assert settled["status"] == "assigned"
    assert settled["driver_id"] == winner["driver_id"]
    statuses = Counter(o["status"] for o in settled["offers"])
    assert statuses == {"accepted": 1, "taken": 99}
    accepted = next(o for o in settled["offers"] if o["status"] == "accepted")
    assert accepted["driver_id"] == winner["driver_id"]

    # And the customer hears of one driver, the 99 others that the ride is taken
    assert len(stack.messages_to(customer.phone, "Your driver")) == 1
    told_taken = [d for d in drivers if stack.messages_to(d["phone"], f"Ride {ride['code']} has been taken")]
    assert len(told_taken) == 99
    assert winner not in told_taken
