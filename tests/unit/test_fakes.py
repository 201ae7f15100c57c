"""What only the fakes promise: copies in and out, and recorders that answer a task token once."""

import pytest

from ridecast.errors import MatchingUnavailable
from tests.fakes import Fakes
from tests.unit.repositories.builders import a_ride


def test_a_model_changed_after_reading_changes_nothing_stored() -> None:
    # Given a stored ride read by a test
    fakes = Fakes()
    fakes.rides.add(a_ride("f1", 1))
    read = fakes.rides.get(a_ride("f1", 1).ride_id)
    assert read is not None
    # When the test changes what it read, Then the store still holds what was written
    read.status = "assigned"
    assert fakes.rides.get(read.ride_id) == a_ride("f1", 1)


def test_a_task_token_takes_one_answer() -> None:
    matching = Fakes().matching
    assert matching.complete_task("t1", {"driver_id": "d1"}) is True
    assert matching.fail_task("t1", "RideCancelled", "too late") is False
    assert matching.complete_task("t1", {"driver_id": "d2"}) is False
    assert matching.completed == {"t1": {"driver_id": "d1"}}
    assert matching.failed == {}


def test_matching_starts_once_per_ride_and_can_be_made_unavailable() -> None:
    matching = Fakes().matching
    matching.start("r1", {"ride_id": "r1"})
    matching.start("r1", {"ride_id": "r1", "again": True})
    assert matching.started == {"r1": {"ride_id": "r1"}}
    matching.unavailable = True
    with pytest.raises(MatchingUnavailable):
        matching.start("r2", {"ride_id": "r2"})
    assert "r2" not in matching.started


def test_ports_hand_the_domain_the_same_fakes_the_test_inspects() -> None:
    fakes = Fakes()
    ports = fakes.ports
    ports.alerts.publish("subject", "message", {"fleet_id": "f1"})
    ports.secrets.save_fleet_secrets("f1", {"a": "1"})
    ports.stores.fleets.next_ride_sequence("f1")
    assert [a.subject for a in fakes.alerts.published] == ["subject"]
    assert fakes.secrets.fleet_secrets("f1") == {"a": "1"}
    assert fakes.fleets.ride_sequences == {"f1": 1}
