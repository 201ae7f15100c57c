"""SPEC §4.3: response windows lapse into waves. Unanswered offers become `timeout`; newcomers get the ride
in the next wave; drivers who timed out get one reminder, those who rejected none; when everyone offered
has said no or nothing, the admins hear about it early, once."""

from typing import Any

from tests.integration.helpers import Customer, Stack, unique_phone

ESCALATION = "needs attention"


def _seq(messages: list[dict[str, Any]]) -> list[int]:
    return [int(m["seq"]) for m in messages]


def test_waves_reach_newcomers_remind_the_silent_once_and_escalate_once(stack: Stack) -> None:
    # Given a fleet with one-second windows in a five-second search: three active drivers and one inactive
    fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=5)
    rejecter, silent_1, silent_2 = (stack.add_driver(fleet) for _ in range(3))
    returning = stack.add_driver(fleet, status="inactive")
    ride = stack.start_ride(fleet)
    first_wave = {d["driver_id"]: stack.offer_link(d, ride) for d in (rejecter, silent_1, silent_2)}

    # When one driver rejects, two say nothing, and during the first window the inactive driver comes
    # back and a new driver joins
    assert stack.reject(first_wave[rejecter["driver_id"]]).json()["result"] == "rejected"
    stack.set_driver_status(fleet, returning, "active")
    newcomer = stack.add_driver(fleet)
    execution = stack.wait_for_execution(ride["ride_id"])

    # Then the search ran more than one wave and timed out
    assert execution["status"] == "SUCCEEDED"
    states = stack.states_entered(ride["ride_id"])
    assert states.count("Broadcast") >= 2
    assert states[-1] == "TimedOut"

    # And the returning and the new driver each got the ride once, in a later wave than the first
    settled = stack.get_ride(fleet, ride["ride_id"])
    offers = {o["driver_id"]: o for o in settled["offers"]}
    for latecomer in (returning, newcomer):
        assert len(stack.messages_to(latecomer["phone"], f"New ride {ride['code']}")) == 1
        assert offers[latecomer["driver_id"]]["wave"] >= 2

    # And the drivers who let their window lapse were reminded exactly once; the rejecter never
    for silent in (silent_1, silent_2):
        assert len(stack.messages_to(silent["phone"], f"Reminder: ride {ride['code']}")) == 1
    assert stack.messages_to(rejecter["phone"], "Reminder") == []
    assert len(stack.messages_to(rejecter["phone"], ride["code"])) == 1

    # And unanswered offers ended as timeout, the rejection stayed a rejection
    assert {d: o["status"] for d, o in offers.items()} == {
        rejecter["driver_id"]: "rejected",
        silent_1["driver_id"]: "timeout",
        silent_2["driver_id"]: "timeout",
        returning["driver_id"]: "timeout",
        newcomer["driver_id"]: "timeout",
    }

    # And the admins were escalated to once, when the first three had all said no or nothing, before the
    # search timed out
    escalations = stack.messages_to(fleet.admin_phone, ESCALATION)
    assert len(escalations) == 1
    assert "all 3 offered drivers" in escalations[0]["body"]
    timed_out = stack.messages_to(fleet.admin_phone, "timed out")
    assert len(timed_out) == 1
    assert _seq(escalations) < _seq(timed_out)


def test_everyone_rejecting_escalates_once_before_the_window_ends(stack: Stack) -> None:
    # Given a ride offered to two drivers
    fleet = stack.create_fleet(driver_response_seconds=3, matching_timeout_seconds=4)
    drivers = [stack.add_driver(fleet) for _ in range(2)]
    customer = Customer("Esme Escalate", unique_phone("+1888"))
    ride = stack.start_ride(fleet, customer)
    links = [stack.offer_link(d, ride) for d in drivers]
    stack.wait_for_searching_message(customer.phone, ride)

    # When both reject
    for link in links:
        assert stack.reject(link).json()["result"] == "rejected"

    # Then the admins are escalated to straight away, while the ride is still searching
    stack.runtime.wait_for_messages(to=fleet.admin_phone, where=lambda m: ESCALATION in m["body"])
    assert stack.get_ride(fleet, ride["ride_id"])["status"] == "searching"
    # ... the first window had not lapsed: no offer had been expired yet
    assert "ExpireOffers" not in stack.states_entered(ride["ride_id"])

    # And when the search ends, there was still only that one escalation, and nobody who rejected was
    # offered or reminded again
    assert stack.wait_for_execution(ride["ride_id"])["status"] == "SUCCEEDED"
    assert len(stack.messages_to(fleet.admin_phone, ESCALATION)) == 1
    for driver in drivers:
        assert len(stack.messages_to(driver["phone"], ride["code"])) == 1
    assert [o["status"] for o in stack.get_ride(fleet, ride["ride_id"])["offers"]] == ["rejected", "rejected"]
