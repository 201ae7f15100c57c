"""The buckets a fleet's counters are kept in, and the fewest of them a period is read from.

Each count goes to three buckets at once: its UTC hour, its UTC day and its span (8 UTC days, counted from
1970-01-01). Counters are integers that only add up, so a period is a signed sum of buckets: the spans
inside it, and at each edge either the days (or hours) it covers or the enclosing day (or span) minus
the ones it does not, whichever takes fewer (a 30-day period: ~20 buckets whatever its alignment, where
adding only would take ~33, and hour by hour 720).
"""

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Literal, NamedTuple

from ridecast.domain.stats.counters import day_key, hour_key

# ("hour", "2026-11-29T20"), ("day", "2026-11-29") or ("span", its first day).
Level = Literal["hour", "day", "span"]
CounterKey = tuple[Level, str]
SignedKey = tuple[int, CounterKey]  # +1 or -1, the bucket
SPAN_DAYS = 8
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Bucket sizes in hours, smallest first; every bucket starts at a multiple of its size since the epoch.
_SIZES: tuple[tuple[int, Level], ...] = ((1, "hour"), (24, "day"), (24 * SPAN_DAYS, "span"))


class Buckets(NamedTuple):
    """What a read found: the rides' counters and the drivers', per bucket (a bucket without any is absent)."""

    rides: dict[CounterKey, dict[str, int]]
    drivers: dict[CounterKey, dict[str, int]]


def span_key(day: str) -> str:
    """The first day of the span holding `day` (`YYYY-MM-DD`): spans are fixed, so concurrent writers agree."""
    at = date.fromisoformat(day)
    return (at - timedelta(days=(at - _EPOCH.date()).days % SPAN_DAYS)).isoformat()


def bucket_keys(hour: str) -> list[CounterKey]:
    """The hour, its day and its span: every count goes to all three (the drivers' to the day and span)."""
    return [("hour", hour), ("day", hour[:10]), ("span", span_key(hour[:10]))]


def cover(first: datetime, end: datetime) -> list[SignedKey]:
    """The fewest signed buckets that add up to the whole hours from `first` to `end` (both on the hour); with
    both on midnights, days and spans only."""
    buckets = _cover(_hour_index(first), _hour_index(end), len(_SIZES) - 1)
    return [(sign, _key(size, start)) for sign, size, start in buckets]


def signed_sum(keys: list[SignedKey], found: dict[CounterKey, dict[str, int]]) -> dict[str, int]:
    """The period's counters from its buckets' (those at 0, e.g. a driver with offers only outside it, left out)."""
    total: dict[str, int] = {}
    for sign, key in keys:
        for name, value in found.get(key, {}).items():
            total[name] = total.get(name, 0) + sign * value
    return {name: value for name, value in total.items() if value}


def _hour_index(at: datetime) -> int:
    return int((at - _EPOCH).total_seconds()) // 3600


def _key(size: int, start: int) -> CounterKey:
    at = _EPOCH + timedelta(hours=start)
    return ("hour", hour_key(at)) if size == 1 else ("day" if size == 24 else "span", day_key(at))


_Cover = tuple[tuple[int, int, int], ...]  # (sign, size in hours, first hour)


@lru_cache(maxsize=4096)
def _cover(first: int, end: int, level: int) -> _Cover:
    """[first, end) in hours from buckets of `_SIZES[:level + 1]`, fewest first."""
    if first >= end:
        return ()
    if level == 0:
        return tuple((1, 1, hour) for hour in range(first, end))
    size = _SIZES[level][0]
    inner_first, inner_end = -(-first // size) * size, end // size * size
    if inner_first <= inner_end:  # whole buckets of this size inside, or a boundary between two
        whole = tuple((1, size, start) for start in range(inner_first, inner_end, size))
        left = _edge(first, inner_first, level, inner_first - size) if first < inner_first else ()
        right = _edge(inner_end, end, level, inner_end) if inner_end < end else ()
        return left + whole + right
    # Inside one bucket of this size: the hours themselves, or the bucket minus what lies outside the period.
    start = first // size * size
    minus = _negated(_cover(start, first, level - 1)) + _negated(_cover(end, start + size, level - 1))
    return min(_cover(first, end, level - 1), ((1, size, start), *minus), key=len)


def _edge(first: int, end: int, level: int, bucket: int) -> _Cover:
    """A part of the bucket starting at `bucket`: its smaller buckets, or the bucket minus the rest of it."""
    size = _SIZES[level][0]
    rest = _cover(bucket, first, level - 1) if bucket < first else _cover(end, bucket + size, level - 1)
    return min(_cover(first, end, level - 1), ((1, size, bucket), *_negated(rest)), key=len)


def _negated(cover: _Cover) -> _Cover:
    return tuple((-sign, size, start) for sign, size, start in cover)
