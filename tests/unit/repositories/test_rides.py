"""DynamoRideStore: transitions that win once, searching bookkeeping, and the fleet's paged listing."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from ridecast.domain.entities import Ride
from ridecast.domain.ports import RideStore, Stores
from ridecast.errors import InvalidInput
from tests.unit.conftest import AwsStack
from tests.unit.repositories.builders import NOW, a_ride


def test_transition_wins_once_for_readers_of_the_same_version(stores: Stores) -> None:
    # Given a searching ride read by two accepts at the same version
    ride = a_ride("f1", 1, task_token="token-of-the-waiting-execution")
    stores.rides.add(ride)
    first_read, second_read = stores.rides.get(ride.ride_id), stores.rides.get(ride.ride_id)
    assert first_read is not None
    assert second_read is not None
    # When both try to assign it
    won = stores.rides.transition(first_read, "assigned", driver_id="d1", assigned_at=NOW)
    lost = stores.rides.transition(second_read, "assigned", driver_id="d2", assigned_at=NOW)
    # Then exactly the first wins, and the ride is theirs
    assert won is not None
    assert lost is None
    assert (won.status, won.driver_id, won.version) == ("assigned", "d1", ride.version + 1)
    # And the winner's answer carries the task token so it can complete the execution
    assert won.task_token == "token-of-the-waiting-execution"
    stored = stores.rides.get(ride.ride_id)
    assert stored is not None
    assert stored.driver_id == "d1"


def test_transition_returns_none_for_a_stale_version(stores: Stores) -> None:
    # Given a read of the ride whose version is not the stored one (the status still matches)
    ride = a_ride("f1", 1)
    stores.rides.add(ride)
    stale = ride.model_copy(update={"version": ride.version + 7})
    # When a transition is attempted from the stale read, Then it does not happen
    assert stores.rides.transition(stale, "cancelled") is None
    stored = stores.rides.get(ride.ride_id)
    assert stored is not None
    assert stored.status == "searching"


def test_transition_from_the_wrong_status_returns_none(stores: Stores) -> None:
    ride = a_ride("f1", 1)
    stores.rides.add(ride)
    assert stores.rides.transition(ride.model_copy(update={"status": "assigned"}), "cancelled") is None


def test_a_transition_field_set_to_none_is_removed(stores: Stores) -> None:
    # Given a ride holding a task token
    ride = a_ride("f1", 1, task_token="t")
    stores.rides.add(ride)
    # When a transition clears it
    moved = stores.rides.transition(ride, "cancelled", task_token=None, end_reason="customer")
    # Then it is gone from the stored ride, and the other fields are set
    assert moved is not None
    assert (moved.task_token, moved.end_reason) == (None, "customer")
    assert stores.rides.get(ride.ride_id) == moved


def test_a_transition_takes_the_ride_off_the_searching_index(aws: AwsStack, stores: Stores) -> None:
    ride = a_ride("f1", 1)
    stores.rides.add(ride)
    before = aws.raw_item(f"RIDE#{ride.ride_id}", "META")
    assert before is not None
    assert before["GSI2PK"] == "SEARCHING"
    stores.rides.transition(ride, "timed_out", ended_at=NOW)
    item = aws.raw_item(f"RIDE#{ride.ride_id}", "META")
    assert item is not None
    assert "GSI2PK" not in item
    assert "GSI2SK" not in item


def test_a_scheduled_ride_is_off_the_searching_index_until_its_matching_starts(stores: Stores) -> None:
    # Given a pre-booked ride, scheduled, whose provisional deadline is long past
    ride = a_ride("f1", 1, status="scheduled", deadline_at=NOW - timedelta(hours=1))
    stores.rides.add(ride)
    # Then the sweeper does not see it (it is not matching yet)
    assert ride.ride_id not in stores.rides.searching_past(NOW)
    # When its matching starts, with a deadline counted from then
    started = stores.rides.transition(ride, "searching", deadline_at=NOW + timedelta(minutes=5))
    # Then it is searching, on the sweeper's index by its new deadline
    assert started is not None
    assert started.status == "searching"
    assert ride.ride_id not in stores.rides.searching_past(NOW)
    assert ride.ride_id in stores.rides.searching_past(NOW + timedelta(minutes=6))


def test_update_searching_ride_only_touches_a_searching_ride(stores: Stores) -> None:
    ride = a_ride("f1", 1)
    stores.rides.add(ride)
    updated = stores.rides.update_searching(ride.ride_id, {"wave": 1}, add={"drivers_notified": 5})
    assert updated is not None
    assert (updated.wave, updated.drivers_notified, updated.version) == (1, 5, ride.version)
    stores.rides.transition(updated, "cancelled")
    assert stores.rides.update_searching(ride.ride_id, {"wave": 2}) is None


def test_update_searching_of_a_ride_that_is_not_there_is_none(stores: Stores) -> None:
    assert stores.rides.update_searching("r-none", add={"drivers_notified": 1}) is None
    assert stores.rides.get("r-none") is None


def test_add_counts_counts_whatever_the_status_and_never_creates_a_ride(stores: Stores) -> None:
    # Given a ride that has ended
    ride = a_ride("f1", 1)
    stores.rides.add(ride)
    stores.rides.transition(ride, "assigned", driver_id="d1")
    # When late answers are counted on it and on a ride that is not there
    stores.rides.add_counts(ride.ride_id, {"drivers_responded": 1, "drivers_declined": 1})
    stores.rides.add_counts(ride.ride_id, {"drivers_responded": 1})
    stores.rides.add_counts("r-none", {"drivers_responded": 1})
    # Then the ended ride counts them, and no ride appeared
    stored = stores.rides.get(ride.ride_id)
    assert stored is not None
    assert (stored.drivers_responded, stored.drivers_declined, stored.version) == (2, 1, ride.version + 1)
    assert stores.rides.get("r-none") is None


def test_mark_escalated_is_true_exactly_once(stores: Stores) -> None:
    # Given a ride nobody has escalated yet
    ride = a_ride("f1", 1)
    stores.rides.add(ride)
    # When two steps both decide to escalate
    answers = [stores.rides.mark_escalated(ride.ride_id, NOW), stores.rides.mark_escalated(ride.ride_id, NOW)]
    # Then only the first gets to alert the admins
    assert answers == [True, False]
    stored = stores.rides.get(ride.ride_id)
    assert stored is not None
    assert stored.escalated_at == NOW


def test_mark_escalated_of_a_ride_that_is_not_there_is_false(stores: Stores) -> None:
    assert stores.rides.mark_escalated("r-none", NOW) is False
    assert stores.rides.get("r-none") is None


def _all_pages(rides: RideStore, fleet_id: str, status: str | None, limit: int) -> tuple[list[Ride], int]:
    found: list[Ride] = []
    cursor: str | None = None
    pages = 0
    while True:
        page, cursor = rides.for_fleet(fleet_id, status, None, limit, cursor)
        pages += 1
        assert len(page) <= limit
        found.extend(page)
        if cursor is None:
            return found, pages
        assert pages < 20, "the cursor never ends"


def test_list_rides_pages_newest_first_with_a_cursor(stores: Stores) -> None:
    # Given seven rides in a fleet, created a minute apart, and two in another fleet
    mine = [a_ride("f1", n, created_at=NOW + timedelta(minutes=n)) for n in range(7)]
    for ride in [*mine, a_ride("f2", 1), a_ride("f2", 2)]:
        stores.rides.add(ride)
    # When the fleet lists them three at a time
    first_page, cursor = stores.rides.for_fleet("f1", None, None, 3, None)
    everything, _ = _all_pages(stores.rides, "f1", None, 3)
    # Then it sees its own rides, newest first, each once
    assert [r.ride_id for r in first_page] == [r.ride_id for r in reversed(mine)][:3]
    assert cursor is not None
    assert [r.ride_id for r in everything] == [r.ride_id for r in reversed(mine)]


def test_list_rides_status_filter_spans_pages(stores: Stores) -> None:
    # Given rides of which only some are still searching, interleaved with assigned ones
    statuses = ["searching", "assigned", "assigned", "searching", "assigned", "searching", "assigned"]
    for n, status in enumerate(statuses):
        stores.rides.add(a_ride("f1", n, status=status, created_at=NOW + timedelta(minutes=n)))
    # When the fleet lists only searching rides two at a time
    found, pages = _all_pages(stores.rides, "f1", "searching", 2)
    # Then exactly the searching rides come back, across pages
    assert [r.code for r in found] == ["R-00005", "R-00003", "R-00000"]
    assert all(r.status == "searching" for r in found)
    assert pages >= 2


def test_list_rides_since_keeps_only_newer_rides(stores: Stores) -> None:
    for n in range(4):
        stores.rides.add(a_ride("f1", n, created_at=NOW + timedelta(hours=n)))
    found, _ = stores.rides.for_fleet("f1", None, NOW + timedelta(hours=2), 50, None)
    assert [r.code for r in found] == ["R-00003", "R-00002"]


def test_list_rides_since_with_a_utc_offset_means_the_same_instant(stores: Stores) -> None:
    # Given a ride created at 09:00 UTC
    stores.rides.add(a_ride("f1", 1, created_at=datetime(2025, 3, 14, 9, 0, tzinfo=UTC)))
    # When rides since 10:00+02:00 (08:00 UTC) are listed
    since = datetime.fromisoformat("2025-03-14T10:00:00+02:00")
    found, _ = stores.rides.for_fleet("f1", None, since, 50, None)
    # Then the ride is there
    assert [r.code for r in found] == ["R-00001"]


def test_a_cursor_from_another_fleet_or_garbage_is_invalid_input(stores: Stores) -> None:
    for n in range(3):
        stores.rides.add(a_ride("f2", n, created_at=NOW + timedelta(minutes=n)))
    _, their_cursor = stores.rides.for_fleet("f2", None, None, 1, None)
    assert their_cursor is not None
    with pytest.raises(InvalidInput):
        stores.rides.for_fleet("f1", None, None, 1, their_cursor)
    with pytest.raises(InvalidInput):
        stores.rides.for_fleet("f1", None, None, 1, "not-a-cursor!!")


def test_rides_searching_past_returns_only_searching_rides_past_the_deadline(stores: Stores) -> None:
    # Given a stuck searching ride, a ride that ended, and a searching ride still in time
    stuck = a_ride("f1", 1, created_at=NOW - timedelta(hours=1))
    ended = a_ride("f1", 2, created_at=NOW - timedelta(hours=1))
    in_time = a_ride("f1", 3, created_at=NOW)
    for ride in (stuck, ended, in_time):
        stores.rides.add(ride)
    stores.rides.transition(ended, "assigned", driver_id="d1")
    # When the sweeper asks for searching rides whose deadline is before now
    found = stores.rides.searching_past(NOW)
    # Then only the stuck one comes back
    assert found == [stuck.ride_id]


@pytest.mark.parametrize("forged", [{"S": "x"}, ["x"], None, True, 1.5, 7, "x" * 3000])
@pytest.mark.parametrize("field", ["PK", "SK", "GSI1SK"])
def test_a_forged_cursor_with_values_of_the_wrong_type_is_invalid_input(
    stores: Stores, field: str, forged: object
) -> None:
    # Given a real cursor of the fleet's listing, decoded as a caller could
    for day in range(3):
        stores.rides.add(a_ride("f1", day, created_at=NOW + timedelta(days=day)))
    _, cursor = stores.rides.for_fleet("f1", None, None, 1, None)
    assert cursor is not None
    key = json.loads(base64.urlsafe_b64decode(cursor))
    # When one of its values is replaced by an object, a list, null, a boolean, a number or a long string
    key[field] = forged
    forged_cursor = base64.urlsafe_b64encode(json.dumps(key).encode()).decode()
    # Then the listing refuses it as input (422), never reaching DynamoDB with it
    with pytest.raises(InvalidInput):
        stores.rides.for_fleet("f1", None, None, 1, forged_cursor)
