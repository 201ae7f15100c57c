"""Reading a fleet's rides: one with its offers, or a page of them."""

from datetime import UTC, datetime, timedelta

from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Offer, Ride
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.ports import Ports
from ridecast.errors import InvalidInput, RideNotFound

# The rides read per look at the live matchings: a fleet at its default 60 rides a minute and a 300 s matching
# timeout has at most 300 rides matching; the newest this many are what one screen can show anyway.
LIVE_MATCHINGS_READ = 200


def get_ride(ports: Ports, fleet_id: str, ride_id: str) -> Ride:
    """Another fleet's ride is simply not found."""
    ride = ports.stores.rides.get(ride_id)
    if ride is None or ride.fleet_id != fleet_id:
        raise RideNotFound(f"ride {ride_id} not found")
    return ride


def offer_order(offer: Offer) -> tuple[datetime, int]:
    """Offers as the ride made them: by wave (its time), then in the ride's order within the wave."""
    return offer.sent_at, offer.rank


def get_ride_with_offers(ports: Ports, fleet_id: str, ride_id: str) -> tuple[Ride, list[Offer]]:
    ride = get_ride(ports, fleet_id, ride_id)
    return ride, sorted(ports.stores.offers.for_ride(ride_id), key=offer_order)


def list_rides(
    ports: Ports, fleet_id: str, status: str | None, since: datetime | None, limit: int, cursor: str | None
) -> tuple[list[Ride], str | None]:
    if since is not None:
        try:
            since = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
        except OverflowError:
            # 0001-01-01T00:00+14:00 is a valid ISO time that falls outside what Python can hold in UTC.
            raise InvalidInput("since: date out of range", field="since") from None
    return ports.stores.rides.for_fleet(fleet_id, status, since, limit, cursor)


def live_matchings(ports: Ports, fleet_id: str, ended_within: timedelta) -> list[tuple[Ride, list[Offer]]]:
    """Rides of the fleet matching now, and those that ended in the last `ended_within` (so a watcher sees
    how each ended), newest first, each with its offers.

    A matching lasts at most the fleet's `matching_timeout_seconds` from its start, so only rides created
    within that (plus `ended_within`) are read, from the fleet's time index: never the fleet's history; rides
    held by a pause, however old, come from the fleet's held list. A ride released by a resume after a pause
    longer than the matching timeout is matching again but older than that window: the Rides panel lists it.
    """
    fleet = get_fleet(ports, fleet_id)
    now = utcnow()
    since = now - timedelta(seconds=fleet.settings.matching_timeout_seconds) - ended_within
    recent, _ = ports.stores.rides.for_fleet(fleet_id, None, since, LIVE_MATCHINGS_READ, None)
    live = [
        ride
        for ride in recent
        if ride.status == "searching" or (ride.ended_at is not None and ride.ended_at >= now - ended_within)
    ]
    # Rides held by a pause wait however long it lasts: older ones come from the fleet's held list.
    shown = {ride.ride_id for ride in live}
    held = [
        ride
        for ride_id in ports.stores.rides.held(fleet_id)
        if ride_id not in shown and (ride := ports.stores.rides.get(ride_id))
    ]
    live = sorted([*live, *held], key=lambda ride: ride.created_at, reverse=True)
    return [(ride, sorted(ports.stores.offers.for_ride(ride.ride_id), key=offer_order)) for ride in live]
