"""SPEC §4.7: a task that fails for good (an error no Retry covers) ends in MarkFailed: the ride is `failed`,
the admins are alerted with the error, and the execution fails with MatchingFailed. Nothing stays searching."""

from typing import Any

import pytest

from ridecast.domain.matching import broadcast
from tests.integration.helpers import Customer, Stack, unique_phone


class DriverIndexCorrupted(RuntimeError):
    """Not a transient error: no Retry of the ASL names it, so Catch must take it to MarkFailed."""


def test_a_task_failing_for_good_fails_the_ride_loudly(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a fleet whose driver list cannot be read by the Broadcast task (other fleets are unaffected)
    fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=3)
    driver = stack.add_driver(fleet)
    customer = Customer("Fay Failure", unique_phone("+1888"))
    real_eligible = broadcast.eligible_drivers
    calls: list[str] = []

    def eligible_drivers(ports: Any, fleet_id: str) -> Any:
        if fleet_id != fleet.fleet_id:
            return real_eligible(ports, fleet_id)
        calls.append(fleet_id)
        raise DriverIndexCorrupted("driver index for this fleet is corrupted")

    monkeypatch.setattr(broadcast, "eligible_drivers", eligible_drivers)

    # When a ride is requested
    ride = stack.start_ride(fleet, customer)
    execution = stack.wait_for_execution(ride["ride_id"])

    # Then Broadcast ran once (no retry of an unknown error) and the flow went to MarkFailed, then Failed
    assert calls == [fleet.fleet_id]
    assert execution["status"] == "FAILED"
    assert execution.get("error") == "MatchingFailed"
    assert stack.states_entered(ride["ride_id"]) == ["Broadcast", "MarkFailed", "Failed"]

    # And the ride is failed, not searching, with the error as its reason (not the Lambda's stack trace,
    # which would show API clients our file paths)
    settled = stack.get_ride(fleet, ride["ride_id"])
    assert settled["status"] == "failed"
    assert settled["end_reason"] == "DriverIndexCorrupted: driver index for this fleet is corrupted"

    # And the admins are alerted with the error and the customer's details; the customer is told
    alerts = stack.messages_to(fleet.admin_phone, f"ride {ride['code']} failed")
    assert len(alerts) == 1
    for detail in ("DriverIndexCorrupted: driver index for this fleet is corrupted", customer.name, customer.phone):
        assert detail in alerts[0]["body"]
    assert "stackTrace" not in alerts[0]["body"]
    assert len(stack.messages_to(customer.phone, f"could not process ride {ride['code']}")) == 1
    # ... and no driver was offered a ride that could not be matched
    assert stack.messages_to(driver["phone"]) == []
