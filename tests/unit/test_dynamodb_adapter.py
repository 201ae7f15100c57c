"""ridecast.adapters.dynamodb against moto, on a table built from template.yaml's RidecastTable."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ridecast.adapters import dynamodb
from ridecast.domain.entities import Customer, Driver, Offer, Place, Ride
from ridecast.errors import DuplicatePhone, InvalidInput
from tests.fixtures import table_properties
from tests.unit.conftest import AwsStack

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def _driver(fleet_id: str, number: int, phone: str | None = None) -> Driver:
    return Driver(
        driver_id=f"d{number:012d}",
        fleet_id=fleet_id,
        name=f"Driver {number}",
        phone=phone or f"+4477009{number:05d}",
        channel="sms",
        created_at=NOW,
        updated_at=NOW,
    )


def _ride(fleet_id: str, number: int, *, status: str = "searching", created_at: datetime = NOW, **fields: Any) -> Ride:
    values: dict[str, Any] = {
        "ride_id": f"r{fleet_id[-4:]}{number:08d}",
        "fleet_id": fleet_id,
        "code": f"R-{number:05d}",
        "status": status,
        "customer": Customer(name="Dana", phone="+447700900123"),
        "pickup": Place(address="A"),
        "dropoff": Place(address="B"),
        "created_at": created_at,
        "deadline_at": created_at + timedelta(minutes=5),
    }
    return Ride.model_validate(values | fields)


def _offer(ride: Ride, driver_id: str, status: str = "sent") -> Offer:
    return Offer(
        ride_id=ride.ride_id,
        driver_id=driver_id,
        fleet_id=ride.fleet_id,
        secret="s3cr3t-s3cr3t-s3cr3t",
        channel="sms",
        status=status,
        sent_at=NOW,
    )


def test_the_table_is_built_from_the_template(aws: AwsStack) -> None:
    # Given the table the fixture created, Then its keys and indexes are the template's, projections included
    table = aws.dynamodb.describe_table(TableName=aws.table_name)["Table"]
    declared = {i["IndexName"]: i["Projection"]["ProjectionType"] for i in table_properties()["GlobalSecondaryIndexes"]}
    created = {i["IndexName"]: i["Projection"]["ProjectionType"] for i in table["GlobalSecondaryIndexes"]}
    assert created == declared
    ttl = aws.dynamodb.describe_time_to_live(TableName=aws.table_name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == table_properties()["TimeToLiveSpecification"]["AttributeName"]


# ----- drivers -------------------------------------------------------------------------------------------


def test_a_second_driver_with_the_same_phone_in_a_fleet_is_a_duplicate(aws: AwsStack) -> None:
    # Given a driver registered in a fleet
    dynamodb.create_driver(_driver("f1", 1, phone="+447700900456"))
    # When another driver of that fleet registers with the same phone
    with pytest.raises(DuplicatePhone):
        dynamodb.create_driver(_driver("f1", 2, phone="+447700900456"))
    # Then the first one is untouched and the second was not written at all
    assert dynamodb.find_driver_by_phone("f1", "+447700900456") == _driver("f1", 1, phone="+447700900456")
    assert dynamodb.get_driver("f1", _driver("f1", 2).driver_id) is None


def test_the_same_phone_may_drive_for_two_fleets(aws: AwsStack) -> None:
    dynamodb.create_driver(_driver("f1", 1, phone="+447700900456"))
    dynamodb.create_driver(_driver("f2", 2, phone="+447700900456"))
    assert dynamodb.find_driver_by_phone("f2", "+447700900456") == _driver("f2", 2, phone="+447700900456")


def test_a_phone_change_moves_the_uniqueness_guard(aws: AwsStack) -> None:
    # Given a driver with an old phone
    before = _driver("f1", 1, phone="+447700900001")
    dynamodb.create_driver(before)
    # When their phone changes
    after = before.model_copy(update={"phone": "+447700900002", "updated_at": NOW + timedelta(minutes=1)})
    dynamodb.replace_driver(before, after)
    # Then the new phone finds them, the old one is free for another driver
    assert dynamodb.find_driver_by_phone("f1", "+447700900002") == after
    assert dynamodb.find_driver_by_phone("f1", "+447700900001") is None
    assert aws.raw_item("FLEET#f1", "PHONE#+447700900001") is None
    dynamodb.create_driver(_driver("f1", 2, phone="+447700900001"))


def test_a_phone_change_to_a_taken_phone_changes_nothing(aws: AwsStack) -> None:
    # Given two drivers
    first, second = _driver("f1", 1, phone="+447700900001"), _driver("f1", 2, phone="+447700900002")
    dynamodb.create_driver(first)
    dynamodb.create_driver(second)
    # When the second tries to take the first one's phone
    with pytest.raises(DuplicatePhone):
        dynamodb.replace_driver(second, second.model_copy(update={"phone": "+447700900001"}))
    # Then both drivers and both guards are as they were (one transaction, all or nothing)
    assert dynamodb.get_driver("f1", second.driver_id) == second
    assert dynamodb.find_driver_by_phone("f1", "+447700900001") == first
    assert dynamodb.find_driver_by_phone("f1", "+447700900002") == second


def test_an_edit_without_phone_change_keeps_the_guard(aws: AwsStack) -> None:
    before = _driver("f1", 1)
    dynamodb.create_driver(before)
    after = before.model_copy(update={"status": "blocked"})
    dynamodb.replace_driver(before, after)
    assert dynamodb.find_driver_by_phone("f1", before.phone) == after


# ----- rides -------------------------------------------------------------------------------------------


def test_transition_wins_once_for_readers_of_the_same_version(aws: AwsStack) -> None:
    # Given a searching ride read by two accepts at the same version
    ride = _ride("f1", 1, task_token="token-of-the-waiting-execution")
    dynamodb.put_new_ride(ride)
    first_read, second_read = dynamodb.get_ride(ride.ride_id), dynamodb.get_ride(ride.ride_id)
    assert first_read is not None
    assert second_read is not None
    # When both try to assign it
    won = dynamodb.transition_ride(first_read, "assigned", driver_id="d1", assigned_at=NOW)
    lost = dynamodb.transition_ride(second_read, "assigned", driver_id="d2", assigned_at=NOW)
    # Then exactly the first wins, and the ride is theirs
    assert won is not None
    assert lost is None
    assert (won.status, won.driver_id, won.version) == ("assigned", "d1", ride.version + 1)
    # And the winner's answer carries the task token so it can complete the execution
    assert won.task_token == "token-of-the-waiting-execution"
    stored = dynamodb.get_ride(ride.ride_id)
    assert stored is not None
    assert stored.driver_id == "d1"


def test_transition_returns_none_for_a_stale_version(aws: AwsStack) -> None:
    # Given a read of the ride whose version is not the stored one (the status still matches)
    ride = _ride("f1", 1)
    dynamodb.put_new_ride(ride)
    stale = ride.model_copy(update={"version": ride.version + 7})
    # When a transition is attempted from the stale read, Then it does not happen
    assert dynamodb.transition_ride(stale, "cancelled") is None
    stored = dynamodb.get_ride(ride.ride_id)
    assert stored is not None
    assert stored.status == "searching"


def test_transition_from_the_wrong_status_returns_none(aws: AwsStack) -> None:
    ride = _ride("f1", 1)
    dynamodb.put_new_ride(ride)
    assert dynamodb.transition_ride(ride.model_copy(update={"status": "assigned"}), "cancelled") is None


def test_a_transition_takes_the_ride_off_the_searching_index(aws: AwsStack) -> None:
    ride = _ride("f1", 1)
    dynamodb.put_new_ride(ride)
    before = aws.raw_item(f"RIDE#{ride.ride_id}", "META")
    assert before is not None
    assert before["GSI2PK"] == "SEARCHING"
    dynamodb.transition_ride(ride, "timed_out", ended_at=NOW)
    item = aws.raw_item(f"RIDE#{ride.ride_id}", "META")
    assert item is not None
    assert "GSI2PK" not in item
    assert "GSI2SK" not in item


def test_update_searching_ride_only_touches_a_searching_ride(aws: AwsStack) -> None:
    ride = _ride("f1", 1)
    dynamodb.put_new_ride(ride)
    updated = dynamodb.update_searching_ride(ride.ride_id, {"wave": 1}, add={"drivers_notified": 5})
    assert updated is not None
    assert (updated.wave, updated.drivers_notified, updated.version) == (1, 5, ride.version)
    dynamodb.transition_ride(updated, "cancelled")
    assert dynamodb.update_searching_ride(ride.ride_id, {"wave": 2}) is None


def test_mark_escalated_is_true_exactly_once(aws: AwsStack) -> None:
    # Given a ride nobody has escalated yet
    ride = _ride("f1", 1)
    dynamodb.put_new_ride(ride)
    # When two steps both decide to escalate
    answers = [dynamodb.mark_escalated(ride.ride_id, NOW), dynamodb.mark_escalated(ride.ride_id, NOW)]
    # Then only the first gets to alert the admins
    assert answers == [True, False]
    stored = dynamodb.get_ride(ride.ride_id)
    assert stored is not None
    assert stored.escalated_at == NOW


def _all_pages(fleet_id: str, status: str | None, limit: int) -> tuple[list[Ride], int]:
    rides: list[Ride] = []
    cursor: str | None = None
    pages = 0
    while True:
        page, cursor = dynamodb.list_rides(fleet_id, status, None, limit, cursor)
        pages += 1
        assert len(page) <= limit
        rides.extend(page)
        if cursor is None:
            return rides, pages
        assert pages < 20, "the cursor never ends"


def test_list_rides_pages_newest_first_with_a_cursor(aws: AwsStack) -> None:
    # Given seven rides in a fleet, created a minute apart, and two in another fleet
    mine = [_ride("f1", n, created_at=NOW + timedelta(minutes=n)) for n in range(7)]
    for ride in [*mine, _ride("f2", 1), _ride("f2", 2)]:
        dynamodb.put_new_ride(ride)
    # When the fleet lists them three at a time
    first_page, cursor = dynamodb.list_rides("f1", None, None, 3, None)
    everything, _ = _all_pages("f1", None, 3)
    # Then it sees its own rides, newest first, each once
    assert [r.ride_id for r in first_page] == [r.ride_id for r in reversed(mine)][:3]
    assert cursor is not None
    assert [r.ride_id for r in everything] == [r.ride_id for r in reversed(mine)]


def test_list_rides_status_filter_spans_pages(aws: AwsStack) -> None:
    # Given rides of which only some are still searching, interleaved with assigned ones
    statuses = ["searching", "assigned", "assigned", "searching", "assigned", "searching", "assigned"]
    for n, status in enumerate(statuses):
        dynamodb.put_new_ride(_ride("f1", n, status=status, created_at=NOW + timedelta(minutes=n)))
    # When the fleet lists only searching rides two at a time
    found, pages = _all_pages("f1", "searching", 2)
    # Then exactly the searching rides come back, across pages
    assert [r.code for r in found] == ["R-00005", "R-00003", "R-00000"]
    assert all(r.status == "searching" for r in found)
    assert pages >= 2


def test_list_rides_since_keeps_only_newer_rides(aws: AwsStack) -> None:
    for n in range(4):
        dynamodb.put_new_ride(_ride("f1", n, created_at=NOW + timedelta(hours=n)))
    found, _ = dynamodb.list_rides("f1", None, NOW + timedelta(hours=2), 50, None)
    assert [r.code for r in found] == ["R-00003", "R-00002"]


def test_list_rides_since_with_a_utc_offset_means_the_same_instant(aws: AwsStack) -> None:
    # Given a ride created at 09:00 UTC
    dynamodb.put_new_ride(_ride("f1", 1, created_at=datetime(2025, 3, 14, 9, 0, tzinfo=UTC)))
    # When rides since 10:00+02:00 (08:00 UTC) are listed
    since = datetime.fromisoformat("2025-03-14T10:00:00+02:00")
    found, _ = dynamodb.list_rides("f1", None, since, 50, None)
    # Then the ride is there
    assert [r.code for r in found] == ["R-00001"]


def test_a_cursor_from_another_fleet_or_garbage_is_invalid_input(aws: AwsStack) -> None:
    for n in range(3):
        dynamodb.put_new_ride(_ride("f2", n, created_at=NOW + timedelta(minutes=n)))
    _, their_cursor = dynamodb.list_rides("f2", None, None, 1, None)
    assert their_cursor is not None
    with pytest.raises(InvalidInput):
        dynamodb.list_rides("f1", None, None, 1, their_cursor)
    with pytest.raises(InvalidInput):
        dynamodb.list_rides("f1", None, None, 1, "not-a-cursor!!")


def test_rides_searching_past_returns_only_searching_rides_past_the_deadline(aws: AwsStack) -> None:
    # Given a stuck searching ride, a ride that ended, and a searching ride still in time
    stuck = _ride("f1", 1, created_at=NOW - timedelta(hours=1))
    ended = _ride("f1", 2, created_at=NOW - timedelta(hours=1))
    in_time = _ride("f1", 3, created_at=NOW)
    for ride in (stuck, ended, in_time):
        dynamodb.put_new_ride(ride)
    dynamodb.transition_ride(ended, "assigned", driver_id="d1")
    # When the sweeper asks for searching rides whose deadline is before now
    found = dynamodb.rides_searching_past(NOW)
    # Then only the stuck one comes back (as a ride or its id, whichever the adapter returns)
    assert [r if isinstance(r, str) else r.ride_id for r in found] == [stuck.ride_id]


# ----- offers -------------------------------------------------------------------------------------------


def test_update_offer_respects_from_statuses(aws: AwsStack) -> None:
    # Given an offer that was sent
    ride = _ride("f1", 1)
    dynamodb.put_offers([_offer(ride, "d1")])
    # When the window lapses it moves sent -> timeout once
    timed_out = dynamodb.update_offer(ride.ride_id, "d1", {"sent"}, status="timeout")
    assert timed_out is not None
    assert timed_out.status == "timeout"
    # Then a second "sent -> timeout" finds nothing to do
    assert dynamodb.update_offer(ride.ride_id, "d1", {"sent"}, status="timeout") is None
    # And an answer from an allowed status still lands, with its other fields
    answered = dynamodb.update_offer(
        ride.ride_id, "d1", {"sent", "timeout"}, status="rejected", responded_at=NOW, response_seconds=4.5
    )
    assert answered is not None
    assert (answered.status, answered.response_seconds) == ("rejected", 4.5)
    stored = dynamodb.get_offer(ride.ride_id, "d1")
    assert stored is not None
    assert stored.status == "rejected"


def test_update_offer_without_from_statuses_updates_any_existing_offer(aws: AwsStack) -> None:
    ride = _ride("f1", 1)
    dynamodb.put_offers([_offer(ride, "d1", status="accepted")])
    updated = dynamodb.update_offer(ride.ride_id, "d1", None, provider_message_id="2741")
    assert updated is not None
    assert (updated.status, updated.provider_message_id) == ("accepted", "2741")


def test_update_offer_never_creates_an_offer(aws: AwsStack) -> None:
    assert dynamodb.update_offer("r-none", "d-none", None, status="timeout") is None
    assert dynamodb.get_offer("r-none", "d-none") is None


def test_offers_of_a_ride_are_listed_and_not_mixed_with_the_ride(aws: AwsStack) -> None:
    ride = _ride("f1", 1)
    dynamodb.put_new_ride(ride)
    dynamodb.put_offers([_offer(ride, f"d{n}") for n in range(30)])
    offers = dynamodb.list_offers(ride.ride_id)
    assert sorted(o.driver_id for o in offers) == sorted(f"d{n}" for n in range(30))
