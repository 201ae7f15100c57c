"""Reassign and give back on the real matching ASL (SPEC §8): a ride back to matching runs a fresh execution
of its own that matches another driver, and the stats keep agreeing with the rides."""

from typing import Any

import requests

from tests.integration.helpers import Fleet, Stack, run_together


def _reassign(stack: Stack, fleet: Fleet, ride_id: str, **body: Any) -> requests.Response:
    return stack.http.post(f"{stack.base_url}/rides/{ride_id}/reassign", headers=fleet.headers, json=body)


def _assigned(stack: Stack, fleet: Fleet, drivers: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """A ride the first driver won, its execution over; with every driver's offer link."""
    ride = stack.start_ride(fleet)
    links = {d["driver_id"]: stack.offer_link(d, ride) for d in drivers}
    assert stack.accept(links[drivers[0]["driver_id"]]).status_code == 200
    assert stack.wait_for_execution(ride["ride_id"])["status"] == "SUCCEEDED"
    return ride, links


def _second_offer(stack: Stack, driver: dict[str, Any], ride: dict[str, Any]) -> None:
    """The new round's offer reached the driver (the same link: a driver offered before keeps their secret)."""
    stack.runtime.wait_for_messages(
        to=driver["phone"], count=2, where=lambda m: f"New ride {ride['code']}" in m["body"]
    )


def _stats_by_status(stack: Stack, fleet: Fleet) -> tuple[dict[str, int], int]:
    stats = stack.http.get(f"{stack.base_url}/stats", headers=fleet.headers).json()
    return stats["rides"]["by_status"], stats["active_matchings"]


def test_a_given_back_ride_runs_a_new_execution_that_another_driver_wins(stack: Stack) -> None:
    # Given a ride Ann won from Ann and Bo
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=8)
    ann, bo = stack.add_driver(fleet, name="Ann"), stack.add_driver(fleet, name="Bo")
    ride, links = _assigned(stack, fleet, [ann, bo])
    # When Ann gives it back from her offer page, and Bo accepts the new round's offer
    released = requests.post(f"{links[ann['driver_id']]}/release", timeout=30)
    assert (released.status_code, released.json()["result"]) == (200, "released")
    second_round = f"{ride['ride_id']}-m2"
    _second_offer(stack, bo, ride)
    won = stack.accept(links[bo["driver_id"]])
    # Then a second execution of its own matched it through NotifyMatched
    execution = stack.wait_for_execution(second_round)
    assert (won.status_code, execution["status"]) == (200, "SUCCEEDED")
    assert stack.states_entered(second_round)[-1] == "NotifyMatched"
    # And the ride ends with exactly one driver, Bo; Ann's offer reads released
    settled = stack.get_ride(fleet, ride["ride_id"])
    assert (settled["status"], settled["driver_id"], settled["matching_round"]) == ("assigned", bo["driver_id"], 2)
    assert (settled["reallocations"], settled["excluded_driver_ids"]) == (1, [ann["driver_id"]])
    assert {o["driver_id"]: o["status"] for o in settled["offers"]} == {
        ann["driver_id"]: "released",
        bo["driver_id"]: "accepted",
    }
    # And the customer was told twice who is coming, Ann was not offered the ride again
    assert len(stack.messages_to(ann["phone"], f"New ride {ride['code']}")) == 1
    assert len(stack.messages_to(bo["phone"], f"New ride {ride['code']}")) == 2
    assert stack.messages_to(fleet.admin_phone, "gave it back")
    # And /stats counts the ride once, as assigned, and nothing matching
    by_status, live = _stats_by_status(stack, fleet)
    assert (by_status["assigned"], by_status["searching"], live) == (1, 0, 0)


def test_a_reassign_without_a_driver_matches_again_and_one_to_a_named_driver_does_not(stack: Stack) -> None:
    # Given a ride Ann won from Ann, Bo and Cy
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=8)
    ann, bo, cy = (stack.add_driver(fleet, name=name) for name in ("Ann", "Bo", "Cy"))
    ride, links = _assigned(stack, fleet, [ann, bo, cy])
    # When the admin sends it back to matching and Cy wins the new round
    reopened = _reassign(stack, fleet, ride["ride_id"], reason="Ann's car broke down")
    assert (reopened.status_code, reopened.json()["status"]) == (200, "searching")
    _second_offer(stack, cy, ride)
    assert stack.accept(links[cy["driver_id"]]).status_code == 200
    assert stack.wait_for_execution(f"{ride['ride_id']}-m2")["status"] == "SUCCEEDED"
    # And then hands it to Bo by name
    named = _reassign(stack, fleet, ride["ride_id"], driver_id=bo["driver_id"])
    # Then Bo has it, no third execution ran, and Cy was told it went to someone else
    assert named.status_code == 200, named.text
    assert (named.json()["driver_id"], named.json()["reassignments"]) == (bo["driver_id"], 2)
    assert stack.messages_to(cy["phone"], "reassigned to another driver")
    assert stack.messages_to(bo["phone"], f"Ride {ride['code']} is now yours")
    executions = stack.sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    assert sorted(e["name"] for e in executions if e["name"].startswith(ride["ride_id"])) == [
        ride["ride_id"],
        f"{ride['ride_id']}-m2",
    ]
    by_status, live = _stats_by_status(stack, fleet)
    assert (by_status["assigned"], by_status["searching"], live) == (1, 0, 0)


def test_past_max_reallocations_a_give_back_times_the_ride_out_without_a_new_execution(stack: Stack) -> None:
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=8)
    patched = stack.http.patch(
        f"{stack.base_url}/fleets/{fleet.fleet_id}", headers=fleet.headers, json={"settings": {"max_reallocations": 0}}
    )
    assert patched.status_code == 200, patched.text
    ann = stack.add_driver(fleet, name="Ann")
    ride, links = _assigned(stack, fleet, [ann])
    released = requests.post(f"{links[ann['driver_id']]}/release", timeout=30)
    assert released.status_code == 200
    settled = stack.get_ride(fleet, ride["ride_id"])
    assert (settled["status"], settled["driver_id"], settled["end_reason"]) == (
        "timed_out",
        None,
        "max_reallocations reached",
    )
    assert stack.messages_to(fleet.admin_phone, "went back to matching 0 times")
    by_status, live = _stats_by_status(stack, fleet)
    assert (by_status["timed_out"], by_status["assigned"], live) == (1, 0, 0)


def test_a_reassign_and_a_give_back_at_the_same_instant_cannot_both_win(stack: Stack) -> None:
    # Given a ride Ann won from Ann and Bo
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=8)
    ann, bo = stack.add_driver(fleet, name="Ann"), stack.add_driver(fleet, name="Bo")
    ride, links = _assigned(stack, fleet, [ann, bo])
    # When the admin reassigns it to Bo just as Ann gives it back
    to_bo, given_back = run_together(
        lambda: _reassign(stack, fleet, ride["ride_id"], driver_id=bo["driver_id"]),
        lambda: requests.post(f"{links[ann['driver_id']]}/release", timeout=30),
    )
    # Then exactly one of them won (whichever read the ride second finds it changed: 409), none a 5xx
    assert sorted([to_bo.status_code, given_back.status_code]) == [200, 409], [to_bo.text, given_back.text]
    settled = stack.get_ride(fleet, ride["ride_id"])
    if given_back.status_code == 200:
        assert (settled["driver_id"], settled["reassignments"], settled["reallocations"]) == (None, 0, 1)
        assert given_back.json()["result"] == "released"
    else:
        assert (settled["status"], settled["driver_id"]) == ("assigned", bo["driver_id"])
        assert (settled["reassignments"], settled["reallocations"]) == (1, 0)
        assert given_back.json()["result"] == "not_assigned_to_you"
        accepted = [o["driver_id"] for o in settled["offers"] if o["status"] == "accepted"]
        assert accepted == [bo["driver_id"]]
