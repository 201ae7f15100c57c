"""Pre-booked rides (SPEC §4 step 0): beyond the fleet's lead time a ride is booked `scheduled`, its flow waits
until `pickup_time - prebook_lead_minutes`, then matching starts with its deadline counted from then. Pickup
times in the past (beyond a small grace) or more than 30 days ahead are refused, naming `pickup_time`."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ridecast.domain.clock import utcnow
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.prebooked import confirm_booking, start_matching
from ridecast.domain.rides.cancel import cancel_ride
from ridecast.domain.rides.commands import NewRide
from ridecast.domain.rides.create import create_ride
from ridecast.domain.rides.schedule import wait_timestamp
from ridecast.domain.stats.report import fleet_stats
from ridecast.errors import InvalidInput
from tests.fakes import Fakes
from tests.unit.domain.conftest import a_fleet, drivers_of

CUSTOMER = "+15550001234"


def _booking(pickup_time: datetime | None) -> NewRide:
    return NewRide.model_validate(
        {
            "customer": {"name": "Cleo Customer", "phone": CUSTOMER},
            "pickup": {"address": "12 Pickup Lane"},
            "dropoff": {"address": "34 Dropoff Road"},
            "pickup_time": pickup_time,
        }
    )


def test_a_ride_beyond_the_lead_time_is_scheduled_and_its_flow_waits_until_pickup_minus_the_lead(fakes: Fakes) -> None:
    # Given a fleet matching pre-booked rides 5 minutes before pickup
    fleet = a_fleet(fakes, settings={"prebook_lead_minutes": 5, "matching_timeout_seconds": 300})
    pickup = utcnow() + timedelta(minutes=10)
    # When a ride is booked for 10 minutes from now
    ride = create_ride(fakes.ports, fleet.fleet_id, _booking(pickup))
    # Then it is scheduled, and its flow is told to start matching 5 minutes before pickup (UTC, whole seconds)
    assert ride.status == "scheduled"
    assert broadcast(fakes.ports, ride.ride_id) == {"ride_status": "scheduled"}, "the flow's first wave waits"
    started = fakes.matching.started[ride.ride_id]
    assert started["start_matching_at"] == wait_timestamp(pickup - timedelta(minutes=5))
    assert started["start_matching_at"].endswith("Z")


@pytest.mark.parametrize("minutes_ahead", [None, 4, -3])
def test_a_ride_within_the_lead_time_or_slightly_late_starts_matching_at_once(
    fakes: Fakes, minutes_ahead: int | None
) -> None:
    # Given a fleet with a 5 minute lead
    fleet = a_fleet(fakes, settings={"prebook_lead_minutes": 5})
    pickup = None if minutes_ahead is None else utcnow() + timedelta(minutes=minutes_ahead)
    # When a ride is booked for now, 4 minutes ahead, or 3 minutes ago (within the grace)
    ride = create_ride(fakes.ports, fleet.fleet_id, _booking(pickup))
    # Then it searches at once, with no wait in its flow
    assert ride.status == "searching"
    assert fakes.matching.started[ride.ride_id]["start_matching_at"] is None


@pytest.mark.parametrize(
    ("pickup", "says"),
    [
        (timedelta(minutes=-6), "in the past"),
        (timedelta(days=30, minutes=1), "30 days ahead"),
    ],
)
def test_a_pickup_time_too_far_back_or_ahead_is_refused_naming_the_field(
    fakes: Fakes, pickup: timedelta, says: str
) -> None:
    # Given a fleet
    fleet = a_fleet(fakes)
    # When a ride is booked 6 minutes in the past or just over 30 days ahead
    with pytest.raises(InvalidInput) as refused:
        create_ride(fakes.ports, fleet.fleet_id, _booking(utcnow() + pickup))
    # Then it is refused naming pickup_time, nothing is created, and the fleet's rate limit is untouched
    assert refused.value.details["field"] == "pickup_time"
    assert says in refused.value.message
    assert fakes.rides.rides == {}
    assert fakes.matching.started == {}


def test_the_customer_is_told_the_booking_on_the_fleets_clock(fakes: Fakes) -> None:
    # Given a Paris fleet in French and a ride booked for 10:00 UTC in 2 days
    fleet = a_fleet(fakes, timezone="Europe/Paris", language="fr", settings={"prebook_lead_minutes": 15})
    pickup = (utcnow() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    ride = create_ride(fakes.ports, fleet.fleet_id, _booking(pickup))
    # When the flow's ConfirmBooking runs
    confirm_booking(fakes.ports, ride.ride_id)
    # Then the customer reads the booking, in French, at 11:00 or 12:00 Paris time (winter or summer)
    [text] = fakes.channels.to(CUSTOMER)
    assert "est réservée" in text
    assert ride.code in text
    assert ("11:00 (Europe/Paris)" in text) or ("12:00 (Europe/Paris)" in text)


def test_matching_starts_with_a_fresh_deadline_and_a_cancelled_ride_stays_cancelled(fakes: Fakes) -> None:
    # Given a scheduled ride and a second one that was cancelled while scheduled, and a driver
    fleet = a_fleet(fakes, settings={"prebook_lead_minutes": 5, "matching_timeout_seconds": 120})
    drivers_of(fakes, fleet, 1)
    pickup = utcnow() + timedelta(hours=3)
    ride = create_ride(fakes.ports, fleet.fleet_id, _booking(pickup))
    dropped = create_ride(fakes.ports, fleet.fleet_id, _booking(pickup))
    assert cancel_ride(fakes.ports, fleet.fleet_id, dropped.ride_id, "plans changed").status == "cancelled"
    # When their Wait ends and StartMatching runs (twice for the first: Step Functions may retry a task)
    before = utcnow()
    assert start_matching(fakes.ports, ride.ride_id) == {"ride_status": "searching"}
    assert start_matching(fakes.ports, ride.ride_id) == {"ride_status": "searching"}
    stopped = start_matching(fakes.ports, dropped.ride_id)
    # Then the first searches with its deadline counted from now, and can be broadcast; the other stays cancelled
    searching = fakes.rides.get(ride.ride_id)
    assert searching is not None
    assert searching.status == "searching"
    assert before + timedelta(seconds=119) <= searching.deadline_at <= utcnow() + timedelta(seconds=120)
    assert broadcast(fakes.ports, ride.ride_id)["ride_status"] == "searching"
    assert searching.ride_id in fakes.rides.searching_past(datetime.max.replace(tzinfo=UTC))
    assert stopped == {"ride_status": "cancelled"}
    assert confirm_booking(fakes.ports, dropped.ride_id) == {"ride_status": "cancelled"}


def test_the_wait_timestamp_is_utc_whole_seconds_never_before_the_start() -> None:
    paris = datetime(2026, 3, 14, 10, 0, 0, 250000, tzinfo=ZoneInfo("Europe/Paris"))
    assert wait_timestamp(paris) == "2026-03-14T09:00:01Z"
    assert wait_timestamp(datetime(2026, 3, 14, 9, 0, tzinfo=UTC)) == "2026-03-14T09:00:00Z"


def test_stats_count_rides_scheduled_until_they_start_matching_or_are_cancelled(fakes: Fakes) -> None:
    # Given three rides booked for tomorrow and one for now
    fleet = a_fleet(fakes)
    tomorrow = utcnow() + timedelta(days=1)
    booked = [create_ride(fakes.ports, fleet.fleet_id, _booking(tomorrow)) for _ in range(3)]
    create_ride(fakes.ports, fleet.fleet_id, _booking(None))
    assert fleet_stats(fakes.ports, fleet.fleet_id, None, None).rides_by_status["scheduled"] == 3
    # When one starts matching (twice: a retried task) and one is cancelled while it waits
    start_matching(fakes.ports, booked[0].ride_id)
    start_matching(fakes.ports, booked[0].ride_id)
    cancel_ride(fakes.ports, fleet.fleet_id, booked[1].ride_id, None)
    # Then one is still scheduled, two are searching, one cancelled
    by_status = fleet_stats(fakes.ports, fleet.fleet_id, None, None).rides_by_status
    assert (by_status["scheduled"], by_status["searching"], by_status["cancelled"]) == (1, 2, 1)
