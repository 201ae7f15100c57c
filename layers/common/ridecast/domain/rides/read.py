"""Reading a fleet's rides: one with its offers, or a page of them."""

from datetime import UTC, datetime

from ridecast.domain.entities import Offer, Ride
from ridecast.domain.ports import Ports
from ridecast.errors import InvalidInput, RideNotFound


def get_ride(ports: Ports, fleet_id: str, ride_id: str) -> Ride:
    """Another fleet's ride is simply not found."""
    ride = ports.stores.rides.get(ride_id)
    if ride is None or ride.fleet_id != fleet_id:
        raise RideNotFound(f"ride {ride_id} not found")
    return ride


def get_ride_with_offers(ports: Ports, fleet_id: str, ride_id: str) -> tuple[Ride, list[Offer]]:
    ride = get_ride(ports, fleet_id, ride_id)
    return ride, sorted(ports.stores.offers.for_ride(ride_id), key=lambda o: o.sent_at)


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
