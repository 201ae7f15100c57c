"""SPEC §3 and §4.6: cancelling a ride during matching stops the flow and tells the drivers; a ride that is
no longer searching cannot be cancelled; an accept and a cancel racing each other never both win."""

from typing import Any

from tests.integration.helpers import Fleet, Stack, run_together


def test_cancel_while_searching_stops_the_flow_and_tells_the_drivers(stack: Stack) -> None:
    # Given a ride offered to two drivers, with a window long enough to still be open
    fleet = stack.create_fleet(driver_response_seconds=5, matching_timeout_seconds=10)
    drivers = [stack.add_driver(fleet) for _ in range(2)]
    ride = stack.start_ride(fleet)
    links = [stack.offer_link(d, ride) for d in drivers]

    # When the dispatcher cancels it
    answer = stack.cancel(fleet, ride["ride_id"], reason="customer changed plans")

    # Then the API says cancelled and the execution leaves its wait through NotifyCancelled
    assert answer.status_code == 200
    assert answer.json()["status"] == "cancelled"
    execution = stack.wait_for_execution(ride["ride_id"])
    assert execution["status"] == "SUCCEEDED"
    states = stack.states_entered(ride["ride_id"])
    assert states[-1] == "NotifyCancelled"
    assert "ExpireOffers" not in states, "the cancel should have ended the window, not its timeout"

    # And every driver who got the offer is told, and their offers read cancelled
    for driver in drivers:
        assert len(stack.messages_to(driver["phone"], f"Ride {ride['code']} was cancelled")) == 1
    settled = stack.get_ride(fleet, ride["ride_id"])
    assert settled["status"] == "cancelled"
    assert [o["status"] for o in settled["offers"]] == ["cancelled", "cancelled"]

    # When it is cancelled again, or a driver accepts it after all
    again = stack.cancel(fleet, ride["ride_id"])
    late = stack.accept(links[0])

    # Then both are refused with 409, and nothing changes
    assert again.status_code == 409
    assert (late.status_code, late.json()["result"]) == (409, "cancelled")
    assert stack.get_ride(fleet, ride["ride_id"])["status"] == "cancelled"


def test_an_assigned_ride_cannot_be_cancelled(stack: Stack) -> None:
    # Given a ride a driver has accepted
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=4)
    driver = stack.add_driver(fleet)
    ride = stack.start_ride(fleet)
    assert stack.accept(stack.offer_link(driver, ride)).status_code == 200

    # When the dispatcher tries to cancel it
    answer = stack.cancel(fleet, ride["ride_id"])

    # Then the API refuses with 409 and the ride stays with its driver
    assert answer.status_code == 409
    assert stack.wait_for_execution(ride["ride_id"])["status"] == "SUCCEEDED"
    settled = stack.get_ride(fleet, ride["ride_id"])
    assert (settled["status"], settled["driver_id"]) == ("assigned", driver["driver_id"])
    assert stack.messages_to(driver["phone"], "was cancelled") == []


def _race_accept_and_cancel(stack: Stack, fleet: Fleet, driver: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ride = stack.start_ride(fleet)
    link = stack.offer_link(driver, ride)
    accepted, cancelled = run_together(lambda: stack.accept(link), lambda: stack.cancel(fleet, ride["ride_id"]))
    outcome = (accepted.status_code, accepted.json()["result"], cancelled.status_code)
    # Exactly one of them wins: the accept (and the cancel is refused) or the cancel (and the accept is told)
    assert outcome in {(200, "assigned", 409), (409, "cancelled", 200)}, (outcome, accepted.text, cancelled.text)
    return ("accept" if accepted.status_code == 200 else "cancel"), ride


def test_accept_racing_cancel_never_both_win(stack: Stack) -> None:
    # Given rides offered to one driver
    fleet = stack.create_fleet(driver_response_seconds=5, matching_timeout_seconds=10)
    driver = stack.add_driver(fleet)

    for _ in range(3):
        # When the driver accepts while the dispatcher cancels, at the same instant
        winner, ride = _race_accept_and_cancel(stack, fleet, driver)

        # Then the ride, its offer, the driver's messages and the execution all tell the winner's story
        execution = stack.wait_for_execution(ride["ride_id"])
        assert execution["status"] == "SUCCEEDED"
        settled = stack.get_ride(fleet, ride["ride_id"])
        states = stack.states_entered(ride["ride_id"])
        offer_status = [o["status"] for o in settled["offers"]]
        if winner == "accept":
            assert (settled["status"], settled["driver_id"]) == ("assigned", driver["driver_id"])
            assert states[-1] == "NotifyMatched"
            assert offer_status == ["accepted"]
            assert stack.messages_to(driver["phone"], f"Ride {ride['code']} was cancelled") == []
        else:
            assert (settled["status"], settled["driver_id"]) == ("cancelled", None)
            assert states[-1] == "NotifyCancelled"
            assert offer_status == ["cancelled"]
            assert stack.messages_to(driver["phone"], f"Ride {ride['code']} is yours") == []
