"""Keeping the counters as rides start and end and as offers go out (the only writers of the aggregates).

A ride's ending is counted once however often Step Functions retries the step that ends it: the store
writes its counters in one transaction with a per-ride marker that can be written only once, so every
ending path may call `record_ride_ended` again (a retry, the API's cancel and then the flow's) safely.
"""

from collections.abc import Iterable

from ridecast.domain.entities import Offer, Ride
from ridecast.domain.ports import Ports
from ridecast.domain.stats.counters import (
    ENDED_STATUSES,
    SCHEDULED,
    SendTally,
    channel_counts,
    day_key,
    driver_counts,
    hour_key,
    ride_created_counts,
    ride_ended_counts,
)
from ridecast.observability import count_by


def record_ride_created(ports: Ports, ride: Ride) -> None:
    ports.stores.stats.count_created(ride.fleet_id, hour_key(ride.created_at), ride_created_counts(ride))


def record_ride_left_schedule(ports: Ports, ride: Ride) -> None:
    """A scheduled ride started matching or was cancelled: one less waiting in the hour it was created. Called
    only by the one transition that moved it (a conditional write), so never twice."""
    ports.stores.stats.count_sends(ride.fleet_id, hour_key(ride.created_at), {SCHEDULED: -1})


def record_ride_ended(ports: Ports, ride: Ride, offers: Iterable[Offer] | None = None) -> bool:
    """Count an ended ride in its hour and its drivers' day; True the one time it is counted."""
    if ride.status not in ENDED_STATUSES:
        return False
    offers = ports.stores.offers.for_ride(ride.ride_id) if offers is None else offers
    counted = ports.stores.stats.count_ended(
        ride.fleet_id,
        ride.ride_id,
        hour=hour_key(ride.created_at),
        day=day_key(ride.created_at),
        hour_counts=ride_ended_counts(ride),
        driver_counts=driver_counts(offers),
    )
    if counted:
        # Emitted with the marker's write, so retries do not inflate the dashboard either.
        count_by("RidesEnded", "outcome", ride.status)
    return counted


def record_offers_sent(ports: Ports, ride: Ride, sends: list[SendTally]) -> None:
    """A wave's sends per channel. A retried wave re-sends, and those sends are real attempts: counted."""
    if not sends:
        return
    ports.stores.stats.count_sends(ride.fleet_id, hour_key(ride.created_at), channel_counts(sends))
    for channel in sorted({s.channel for s in sends}):
        on_channel = [s for s in sends if s.channel == channel]
        count_by("OfferSends", "channel", channel, len(on_channel))
        count_by("OfferFailures", "channel", channel, sum(1 for s in on_channel if not s.ok))
