"""SPEC §5 dispatch pause on the real ASL: a paused fleet's new rides wait in AwaitResume (not broadcast, not
timed out), resume sends them on in the order they came with their deadline from the resume, and a held
ride can be cancelled, its flow ending cleanly."""

import time
from datetime import datetime
from typing import Any

from tests.integration.helpers import Fleet, Stack, wait_until


def _dispatch(stack: Stack, fleet: Fleet, action: str) -> dict[str, Any]:
    answer = stack.http.post(f"{stack.base_url}/dispatch/{action}", headers=fleet.headers)
    assert answer.status_code == 200, answer.text
    status: dict[str, Any] = answer.json()
    return status


def _held(stack: Stack, fleet: Fleet, ride: dict[str, Any]) -> dict[str, Any]:
    """The ride once its flow waits in AwaitResume."""
    wait_until(lambda: stack.get_ride(fleet, ride["ride_id"])["held"], what=f"ride {ride['code']} held")
    assert stack.states_entered(ride["ride_id"])[-1] == "AwaitResume"
    return stack.get_ride(fleet, ride["ride_id"])


def test_held_rides_wait_past_their_deadline_and_go_out_in_order_on_resume(stack: Stack) -> None:
    # Given a paused fleet with one driver, and a matching timeout of 3 s
    fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=3)
    driver = stack.add_driver(fleet)
    assert _dispatch(stack, fleet, "pause")["paused"] is True
    # When two rides come in
    first, second = stack.start_ride(fleet), stack.start_ride(fleet)
    # Then both wait in AwaitResume, searching and held, past their original deadline, with no offer sent
    for ride in (first, second):
        _held(stack, fleet, ride)
    time.sleep(3.5)
    for ride in (first, second):
        waiting = stack.get_ride(fleet, ride["ride_id"])
        assert (waiting["status"], waiting["held"], waiting["offers"]) == ("searching", True, [])
    assert stack.messages_to(driver["phone"]) == []
    status = stack.http.get(f"{stack.base_url}/dispatch/status", headers=fleet.headers).json()
    assert (status["paused"], status["held_rides"]) == (True, 2)

    # When dispatch resumes
    resumed_at = datetime.now().astimezone()
    status = _dispatch(stack, fleet, "resume")

    # Then nothing is held any more and each ride is offered, the older one first
    assert (status["paused"], status["held_rides"]) == (False, 0)
    links = [stack.offer_link(driver, ride) for ride in (first, second)]
    offers = stack.messages_to(driver["phone"], "New ride")
    assert [first["code"] in offers[0]["body"], second["code"] in offers[1]["body"]] == [True, True]
    # And each deadline counts from the resume, so the driver can still win the older ride
    for ride in (first, second):
        released = stack.get_ride(fleet, ride["ride_id"])
        assert released["held"] is False
        assert 3 <= (datetime.fromisoformat(released["deadline_at"]) - resumed_at).total_seconds() < 5
    assert stack.accept(links[0]).json()["result"] == "assigned"
    assert stack.wait_for_execution(first["ride_id"])["status"] == "SUCCEEDED"
    assert stack.states_entered(first["ride_id"])[:4] == ["Broadcast", "AwaitAcceptance", "AwaitResume", "Broadcast"]
    assert stack.states_entered(first["ride_id"])[-1] == "NotifyMatched"
    # And the other ride, unanswered, times out on its new deadline
    assert stack.wait_for_execution(second["ride_id"])["status"] == "SUCCEEDED"
    assert stack.get_ride(fleet, second["ride_id"])["status"] == "timed_out"


def test_cancelling_a_held_ride_ends_its_flow_cleanly(stack: Stack) -> None:
    # Given a held ride
    fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=3)
    driver = stack.add_driver(fleet)
    _dispatch(stack, fleet, "pause")
    ride = stack.start_ride(fleet)
    _held(stack, fleet, ride)
    # When the dispatcher cancels it
    assert stack.cancel(fleet, ride["ride_id"], "customer left").status_code == 200
    # Then its flow leaves AwaitResume through NotifyCancelled and ends, nothing is held, the driver heard nothing
    assert stack.wait_for_execution(ride["ride_id"])["status"] == "SUCCEEDED"
    assert stack.states_entered(ride["ride_id"])[-2:] == ["AwaitResume", "NotifyCancelled"]
    cancelled = stack.get_ride(fleet, ride["ride_id"])
    assert (cancelled["status"], cancelled["held"]) == ("cancelled", False)
    assert _dispatch(stack, fleet, "resume")["held_rides"] == 0
    assert stack.messages_to(driver["phone"]) == []


def test_rides_already_matching_carry_on_through_a_pause(stack: Stack) -> None:
    # Given a ride offered to a driver, with 1 s response windows
    fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=6)
    driver = stack.add_driver(fleet)
    ride = stack.start_ride(fleet)
    link = stack.offer_link(driver, ride)
    # When dispatch is paused
    _dispatch(stack, fleet, "pause")
    # Then the ride's next wave still goes out (the driver is reminded) and the driver can win it
    stack.runtime.wait_for_messages(
        to=driver["phone"], where=lambda m: m["body"].startswith(f"Reminder: ride {ride['code']}")
    )
    assert stack.accept(link).json()["result"] == "assigned"
    assert stack.wait_for_execution(ride["ride_id"])["status"] == "SUCCEEDED"
    assert "AwaitResume" not in stack.states_entered(ride["ride_id"])
