"""The counters a fleet's stats are made of: which bucket a ride counts in, and what each counter is called.

A ride counts in the hour (and, per driver, the UTC day) it was created in, whatever hour it ends in: so
the figures for a period describe the rides `GET /rides?since=` lists for it. Every counter is an integer
(milliseconds for durations) that DynamoDB can ADD to atomically.

Which buckets (hour, day, span) each count goes to, and which a period is read from: `buckets`.
"""

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ridecast.domain.entities import Offer, Ride

ENDED_STATUSES = ("assigned", "timed_out", "cancelled", "failed")
CHANNELS = ("telegram", "sms", "whatsapp", "email")

# Upper edges (seconds) of the time-to-match histogram; a last open bucket holds everything slower. Finer
# where most rides match (the first minute), coarse towards the 24 h a matching can last at most.
TIME_TO_MATCH_EDGES: tuple[float, ...] = (
    1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600, 900, 1800, 3600, 7200, 86400,
)  # fmt: skip

CREATED = "created"
# Rides created `scheduled` and not yet matching or cancelled (SPEC §4 step 0), in the hour they were created.
SCHEDULED = "scheduled"
ENDED_PREFIX = "ended#"
DRIVERS_NOTIFIED = "drivers_notified"
TTM_COUNT = "ttm_count"
TTM_SUM_MS = "ttm_sum_ms"
TTM_BUCKET_PREFIX = "ttm#"
# SPEC §8: operator reassigns, and times a ride went back to matching (give backs, driver-less reassigns).
REASSIGNMENTS = "reassignments"
REALLOCATIONS = "reallocations"

# Per-channel and per-driver counters are "<counter>#<channel or driver id>".
CHANNEL_COUNTERS = ("ch_attempts", "ch_successes", "ch_failures", "ch_latency_ms")
DRIVER_COUNTERS = ("offers", "responses", "accepted", "response_ms", "timeouts")


def hour_key(at: datetime) -> str:
    """`2026-11-29T20` for any time in that UTC hour: sorts like time, so a period is one key range."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H")


def day_key(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d")


def hour_start(key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%dT%H").replace(tzinfo=UTC)


def last_hour_key(until: datetime) -> str:
    """The last hour a period ending (exclusively) at `until` touches."""
    return hour_key(until - timedelta(microseconds=1))


def ttm_bucket(seconds: float) -> int:
    """Index of the histogram bucket whose upper edge is the first at or above `seconds`."""
    return bisect_left(TIME_TO_MATCH_EDGES, seconds)


def ride_created_counts(ride: Ride) -> dict[str, int]:
    return {CREATED: 1, SCHEDULED: 1} if ride.status == "scheduled" else {CREATED: 1}


def ride_ended_counts(ride: Ride) -> dict[str, int]:
    """What one ride's ending adds to its hour."""
    counts = {f"{ENDED_PREFIX}{ride.status}": 1, DRIVERS_NOTIFIED: ride.drivers_notified}
    if ride.reassignments:
        counts[REASSIGNMENTS] = ride.reassignments
    if ride.reallocations:
        counts[REALLOCATIONS] = ride.reallocations
    if ride.status == "assigned" and ride.time_to_match_seconds is not None:
        counts[TTM_COUNT] = 1
        counts[TTM_SUM_MS] = round(ride.time_to_match_seconds * 1000)
        counts[f"{TTM_BUCKET_PREFIX}{ttm_bucket(ride.time_to_match_seconds)}"] = 1
    return counts


def driver_counts(offers: Iterable[Offer]) -> dict[str, int]:
    """What a ended ride's offers add to each driver's day: offers that reached them, answers, timeouts."""
    counts: dict[str, int] = {}

    def add(counter: str, driver_id: str, amount: int = 1) -> None:
        if amount:
            key = f"{counter}#{driver_id}"
            counts[key] = counts.get(key, 0) + amount

    for offer in offers:
        if offer.status == "failed":
            continue  # never reached the driver
        add("offers", offer.driver_id)
        if offer.responded_at is not None:
            add("responses", offer.driver_id)
            add("response_ms", offer.driver_id, round((offer.response_seconds or 0) * 1000))
        add("accepted", offer.driver_id, int(offer.status == "accepted"))
        add("timeouts", offer.driver_id, int(offer.status == "timeout"))
    return counts


@dataclass(frozen=True)
class SendTally:
    channel: str
    ok: bool
    latency_ms: int


def channel_counts(sends: Iterable[SendTally]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for send in sends:
        for counter, amount in (
            ("ch_attempts", 1),
            ("ch_successes", int(send.ok)),
            ("ch_failures", int(not send.ok)),
            ("ch_latency_ms", send.latency_ms),
        ):
            key = f"{counter}#{send.channel}"
            counts[key] = counts.get(key, 0) + amount
    return counts


def split_keyed(counts: Mapping[str, int], prefix: str) -> dict[str, int]:
    """{"<prefix>#x": n, ...} → {"x": n, ...}."""
    head = f"{prefix}#"
    return {key.removeprefix(head): value for key, value in counts.items() if key.startswith(head)}
