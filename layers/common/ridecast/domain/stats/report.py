"""`GET /stats` (SPEC §6): a fleet's figures for a period, summed from its counters, never from rides.

Rides count in the hour they were created in, so the period is read in whole UTC hours (`since` rounded
down to its hour, `until` up); per-driver figures are kept per UTC day and read in whole days. Both are
covered by the fewest hour, day and span buckets, added or taken away (`buckets.cover`), all read in one
round trip.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ridecast.domain.clock import utcnow
from ridecast.domain.ports import Ports
from ridecast.domain.stats.buckets import cover, signed_sum
from ridecast.domain.stats.counters import (
    CHANNELS,
    CREATED,
    DRIVERS_NOTIFIED,
    ENDED_PREFIX,
    ENDED_STATUSES,
    REALLOCATIONS,
    REASSIGNMENTS,
    SCHEDULED,
    TIME_TO_MATCH_EDGES,
    TTM_BUCKET_PREFIX,
    TTM_COUNT,
    TTM_SUM_MS,
    hour_key,
    hour_start,
    last_hour_key,
    split_keyed,
)
from ridecast.errors import InvalidInput

DEFAULT_PERIOD = timedelta(hours=24)
LONGEST_PERIOD = timedelta(days=92)


@dataclass(frozen=True)
class ChannelFigures:
    attempts: int
    successes: int
    failures: int
    success_rate: float | None
    mean_latency_ms: float | None


@dataclass(frozen=True)
class DriverFigures:
    driver_id: str
    name: str | None
    offers_received: int
    responses: int
    accepted: int
    acceptance_rate: float | None
    mean_response_seconds: float | None
    timeouts: int


@dataclass(frozen=True)
class FleetStats:
    since: datetime
    until: datetime
    rides_total: int
    rides_by_status: dict[str, int]
    time_to_match_mean: float | None
    time_to_match_p50: float | None
    time_to_match_p95: float | None
    acceptance_rate: float | None
    timeout_rate: float | None
    mean_drivers_notified: float | None
    active_matchings: int
    # SPEC §8, of the period's ended rides: operator reassigns, and times rides went back to matching.
    reassignments: int = 0
    reallocations: int = 0
    channels: dict[str, ChannelFigures] = field(default_factory=dict)
    drivers: list[DriverFigures] = field(default_factory=list)
    # Matched rides per bucket of TIME_TO_MATCH_EDGES, the last bucket open-ended (what charts draw).
    time_to_match_histogram: list[int] = field(default_factory=list)


def period(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """The period asked for, the last 24 h by default; InvalidInput when it is empty or too long."""
    # A time without a zone is taken as UTC, as `GET /rides?since=` takes it.
    until = _utc(until) if until else utcnow()
    since = _utc(since) if since else until - DEFAULT_PERIOD
    if until <= since:
        raise InvalidInput("until must be after since", field="until")
    if until - since > LONGEST_PERIOD:
        raise InvalidInput(f"at most {LONGEST_PERIOD.days} days between since and until", field="since")
    return since, until


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def fleet_stats(ports: Ports, fleet_id: str, since: datetime | None, until: datetime | None) -> FleetStats:
    since, until = period(since, until)
    ride_keys = cover(hour_start(hour_key(since)), hour_start(last_hour_key(until)) + timedelta(hours=1))
    first_day = hour_start(hour_key(since)).replace(hour=0)
    driver_keys = cover(first_day, hour_start(last_hour_key(until)).replace(hour=0) + timedelta(days=1))
    found = ports.stores.stats.read(fleet_id, [key for _, key in ride_keys], [key for _, key in driver_keys])
    hours = signed_sum(ride_keys, found.rides)
    ended = {status: hours.get(f"{ENDED_PREFIX}{status}", 0) for status in ENDED_STATUSES}
    ended_total = sum(ended.values())
    total = hours.get(CREATED, 0)
    # Whatever has not ended and is not waiting for its matching time is matching now.
    scheduled = max(0, hours.get(SCHEDULED, 0))
    by_status = {"scheduled": scheduled, "searching": max(0, total - ended_total - scheduled), **ended}
    matched = hours.get(TTM_COUNT, 0)
    histogram = [hours.get(f"{TTM_BUCKET_PREFIX}{i}", 0) for i in range(len(TIME_TO_MATCH_EDGES) + 1)]
    return FleetStats(
        since=since,
        until=until,
        rides_total=total,
        rides_by_status=by_status,
        time_to_match_mean=_ratio(hours.get(TTM_SUM_MS, 0) / 1000, matched),
        time_to_match_p50=percentile(histogram, 0.50),
        time_to_match_p95=percentile(histogram, 0.95),
        acceptance_rate=_ratio(ended["assigned"], ended_total),
        timeout_rate=_ratio(ended["timed_out"], ended_total),
        mean_drivers_notified=_ratio(hours.get(DRIVERS_NOTIFIED, 0), ended_total),
        active_matchings=ports.stores.stats.live_matchings(fleet_id),
        reassignments=hours.get(REASSIGNMENTS, 0),
        reallocations=hours.get(REALLOCATIONS, 0),
        channels={channel: _channel(hours, channel) for channel in CHANNELS},
        drivers=_drivers(ports, fleet_id, signed_sum(driver_keys, found.drivers)),
        time_to_match_histogram=histogram,
    )


def percentile(histogram: list[int], fraction: float) -> float | None:
    """The value below which `fraction` of the rides fall, interpolated linearly inside its bucket: exact
    to the bucket it lands in (the histogram's resolution)."""
    count = sum(histogram)
    if count == 0:
        return None
    rank = fraction * count
    seen = 0
    for index, in_bucket in enumerate(histogram):
        if in_bucket and seen + in_bucket >= rank:
            low = TIME_TO_MATCH_EDGES[index - 1] if index > 0 else 0.0
            high = TIME_TO_MATCH_EDGES[index] if index < len(TIME_TO_MATCH_EDGES) else low
            return round(low + (high - low) * (rank - seen) / in_bucket, 3)
        seen += in_bucket
    return float(TIME_TO_MATCH_EDGES[-1])


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _channel(hours: Mapping[str, int], channel: str) -> ChannelFigures:
    attempts = hours.get(f"ch_attempts#{channel}", 0)
    successes = hours.get(f"ch_successes#{channel}", 0)
    return ChannelFigures(
        attempts=attempts,
        successes=successes,
        failures=hours.get(f"ch_failures#{channel}", 0),
        success_rate=_ratio(successes, attempts),
        mean_latency_ms=_ratio(hours.get(f"ch_latency_ms#{channel}", 0), attempts),
    )


def _drivers(ports: Ports, fleet_id: str, days: Mapping[str, int]) -> list[DriverFigures]:
    """Per driver, from their counters over the period's whole days."""
    offers = split_keyed(days, "offers")
    if not offers:
        return []
    names = ports.stores.drivers.names(fleet_id)
    responses, accepted = split_keyed(days, "responses"), split_keyed(days, "accepted")
    response_ms, timeouts = split_keyed(days, "response_ms"), split_keyed(days, "timeouts")
    figures = [
        DriverFigures(
            driver_id=driver_id,
            name=names.get(driver_id),
            offers_received=received,
            responses=responses.get(driver_id, 0),
            accepted=accepted.get(driver_id, 0),
            acceptance_rate=_ratio(accepted.get(driver_id, 0), received),
            mean_response_seconds=_ratio(response_ms.get(driver_id, 0) / 1000, responses.get(driver_id, 0)),
            timeouts=timeouts.get(driver_id, 0),
        )
        for driver_id, received in offers.items()
    ]
    return sorted(figures, key=lambda f: (-f.offers_received, f.driver_id))
