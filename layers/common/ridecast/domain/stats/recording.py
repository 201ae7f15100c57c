"""Keeping the counters as rides start and end and as offers go out (the only writers of the aggregates).

A ride's ending is counted once however often Step Functions retries the step that ends it: the store
writes its counters in one transaction with a per-ride marker holding the ride version it counted, so every
ending path may call `record_ride_ended` again (a retry, the API's cancel and then the flow's) safely. A
ride that goes back to matching (SPEC §8) takes its ending out again (`record_ride_reopened`), so `/stats`
keeps counting each ride once, by the status `GET /rides` shows.
"""

from collections.abc import Iterable
from datetime import datetime

from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Offer, Ride
from ridecast.domain.ports import Ports, StatsStore
from ridecast.domain.stats.counters import (
    ENDED_STATUSES,
    SCHEDULED,
    SendTally,
    channel_counts,
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
    """Count an ended ride in its hour's buckets, its offers in its day's for their drivers; True the one time
    it is counted."""
    if ride.status not in ENDED_STATUSES:
        return False
    offers = ports.stores.offers.for_ride(ride.ride_id) if offers is None else offers
    counted = ports.stores.stats.count_ended(
        ride.fleet_id,
        ride.ride_id,
        hour=hour_key(ride.created_at),
        hour_counts=ride_ended_counts(ride),
        # Earlier rounds' offers counted with their round's ending (one record per ride and driver is reused).
        driver_counts=driver_counts(o for o in offers if o.matching_round == ride.matching_round),
        version=ride.version,
        matching_round=ride.matching_round,
    )
    if counted:
        # Emitted with the marker's write, so retries do not inflate the dashboard either.
        count_by("RidesEnded", "outcome", ride.status)
    return counted


def record_ride_reopened(ports: Ports, ride: Ride) -> None:
    """The ride went back to matching (SPEC §8): it no longer counts as ended (nor, from its earlier ending,
    as assigned), and counts live again; its next ending is counted afresh."""
    ports.stores.stats.count_reopened(
        ride.fleet_id,
        ride.ride_id,
        hour=hour_key(ride.created_at),
        version=ride.version,
        matching_round=ride.matching_round,
    )


def record_sends(stats: StatsStore, fleet_id: str, sends: list[SendTally], at: datetime | None = None) -> None:
    """Messages sent on each channel (every attempt: a failover is a failure on one channel and a send on
    the next), counted in the hour they went out. The channel router calls it as it flushes its outcomes."""
    if sends:
        stats.count_sends(fleet_id, hour_key(at or utcnow()), channel_counts(sends))


def count_offer_sends(sends: list[tuple[str, bool]]) -> None:
    """A wave's offers per channel, (channel, delivered) each, for the dashboard (EMF); the stats counters and
    latencies come from the router."""
    for channel in sorted({channel for channel, _ in sends}):
        on_channel = [delivered for sent_on, delivered in sends if sent_on == channel]
        count_by("OfferSends", "channel", channel, len(on_channel))
        count_by("OfferFailures", "channel", channel, on_channel.count(False))
