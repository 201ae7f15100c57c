"""SPEC §4.5: TimeOut moves searching → timed_out by a conditional write, and an accept that wins that race
wins the ride. Never both: the final state, the offers, the messages and the execution agree."""

from datetime import timedelta
from typing import Any

import pytest

from ridecast.domain.clock import utcnow
from ridecast.domain.matching.tasks import TASKS
from ridecast.domain.ports import Ports
from tests.integration.helpers import Customer, Stack, run_together, unique_phone, wait_until

RACES = 3


def test_accept_racing_the_deadline_never_both_win(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given rides offered to one driver who only answers at the very moment the flow times the ride out
    fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=3)
    driver = stack.add_driver(fleet)
    real_time_out = TASKS["time_out"]
    accepts: dict[str, Any] = {}

    def time_out_racing_an_accept(ports: Ports, ride_id: str, **kwargs: Any) -> Any:
        ride = ports.stores.rides.get(ride_id)
        if ride is None or ride.fleet_id != fleet.fleet_id:
            return real_time_out(ports, ride_id, **kwargs)
        # TimeOut may run up to half a second before the deadline (ExpireOffers' slack). Put the race in
        # that slack, so the accept passes its clock check and the two conditional writes really race.
        assert ports.stores.rides.update_searching(ride_id, {"deadline_at": utcnow() + timedelta(seconds=2)})
        link = stack.offer_link(driver, {"code": ride.code})
        accepts[ride_id], result = run_together(
            lambda: stack.accept(link), lambda: real_time_out(ports, ride_id, **kwargs)
        )
        return result

    monkeypatch.setitem(TASKS, "time_out", time_out_racing_an_accept)
    customers = [Customer(f"Dee Deadline {i}", unique_phone("+1888")) for i in range(RACES)]

    # When the rides run out of time while the driver accepts
    rides = [stack.start_ride(fleet, customer) for customer in customers]

    # Then each race has exactly one winner, and everything about the ride tells the same story
    for ride, customer in zip(rides, customers, strict=True):
        execution = stack.wait_for_execution(ride["ride_id"])
        assert execution["status"] == "SUCCEEDED"
        wait_until(lambda ride=ride: ride["ride_id"] in accepts, what="the racing accept")
        accepted = accepts[ride["ride_id"]]
        settled = stack.get_ride(fleet, ride["ride_id"])
        states = stack.states_entered(ride["ride_id"])
        offer_status = [o["status"] for o in settled["offers"]]
        alerts = stack.messages_to(fleet.admin_phone, f"ride {ride['code']} timed out")
        if accepted.status_code == 200:
            # ... the accept won: assigned to the driver, matched, the customer told who is coming
            assert accepted.json()["result"] == "assigned"
            assert (settled["status"], settled["driver_id"]) == ("assigned", driver["driver_id"])
            assert states[-3:] == ["TimeOut", "AfterTimeOut", "NotifyMatched"]
            assert offer_status == ["accepted"]
            assert len(stack.messages_to(customer.phone, f"Your driver for ride {ride['code']}")) == 1
            assert alerts == []
        else:
            # ... the deadline won: timed out, the accept told it expired, admins and customer told
            assert (accepted.status_code, accepted.json()["result"]) == (409, "expired")
            assert (settled["status"], settled["driver_id"]) == ("timed_out", None)
            assert states[-3:] == ["TimeOut", "AfterTimeOut", "TimedOut"]
            assert offer_status == ["timeout"]
            assert stack.messages_to(customer.phone, "Your driver") == []
            assert len(alerts) == 1
