"""Keeping the counters as rides start and end and as offers go out (the only writers of the aggregates).

A ride's ending is counted once however often Step Functions retries the step that ends it: the store
writes its counters in one transaction with a per-ride marker that can be written only once, so every
ending path may call `record_ride_ended` again (a retry, the API's cancel and then the flow's) safely.
"""

from collections.abc import Iterable
from datetime import datetime

from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Offer, Ride
from ridecast.domain.ports import Ports, StatsStore
from ridecast.domain.stats.counters import (
    ENDED_STATUSES,
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


def record_sends(stats: StatsStore, fleet_id: str, sends: list[SendTally], at: datetime | None = None) -> None:
    """Messages sent on each channel (every attempt: a failover is a failure on one channel and a send on
    the next), counted in the hour they went out. The channel router calls it as it flushes its outcomes."""
    if sends:
        stats.count_sends(fleet_id, hour_key(at or utcnow()), channel_counts(sends))


def count_offer_sends(sends: list[SendTally]) -> None:
    """A wave's offers per channel, for the dashboard (EMF); the stats counters come from the router."""
    for channel in sorted({s.channel for s in sends}):
        on_channel = [s for s in sends if s.channel == channel]
        count_by("OfferSends", "channel", channel, len(on_channel))
        count_by("OfferFailures", "channel", channel, sum(1 for s in on_channel if not s.ok))
