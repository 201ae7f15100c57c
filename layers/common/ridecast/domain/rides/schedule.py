"""Pre-booked rides (SPEC §4 step 0): when a pickup time is acceptable, and when its matching starts."""

from datetime import UTC, datetime, timedelta

from ridecast.domain.entities import FleetSettings
from ridecast.errors import InvalidInput

# A pickup time a little in the past is a booking typed "for now" a moment ago (clocks drift, desks type
# slowly): it is matched at once. Further back is a mistake the caller should see.
PAST_GRACE = timedelta(minutes=5)
# Bookings further ahead than this are refused: the matching execution waits for them, and a month is
# as far as a dispatch desk plans.
FURTHEST_AHEAD = timedelta(days=30)


def matching_start(pickup_time: datetime | None, settings: FleetSettings, now: datetime) -> datetime | None:
    """When the ride's matching starts: None for at once, else `pickup_time - prebook_lead_minutes`
    (the ride is `scheduled` until then). Raises InvalidInput for a pickup time out of bounds."""
    if pickup_time is None:
        return None
    if pickup_time.tzinfo is None:
        raise InvalidInput("pickup_time: give its UTC offset, e.g. 2026-03-14T09:30:00+01:00", field="pickup_time")
    if pickup_time < now - PAST_GRACE:
        minutes = int(PAST_GRACE.total_seconds() // 60)
        raise InvalidInput(f"pickup_time: more than {minutes} minutes in the past", field="pickup_time")
    if pickup_time > now + FURTHEST_AHEAD:
        raise InvalidInput(f"pickup_time: more than {FURTHEST_AHEAD.days} days ahead", field="pickup_time")
    start = pickup_time - timedelta(minutes=settings.prebook_lead_minutes)
    return start if start > now else None


def wait_timestamp(start: datetime) -> str:
    """The Wait state's TimestampPath value: UTC with `Z`, whole seconds (the form every Step Functions
    implementation reads; moto's refuses an offset), rounded up so matching never starts before its time."""
    whole = start.astimezone(UTC).replace(microsecond=0)
    if whole < start:
        whole += timedelta(seconds=1)
    return whole.strftime("%Y-%m-%dT%H:%M:%SZ")
