"""Several counters in one DynamoDB number, so `GET /stats` reads a few values per item instead of one per counter.

Reading costs per value returned, not per item: moto's DynamoDB serializes every attribute value of an answer
(~0.1 ms each), and a month of counters was 9,700 of them. A pack keeps a few counters in fixed-width
decimal fields of one number, lowest field in the lowest digits: `offers + responses·10⁶ + accepted·10¹² + ...`.
Adding two packs adds every field at once, so one atomic ADD still moves several counters together, concurrent
writers still add up exactly, and a negative amount (a reopened ride's counts taken back) is a negative field.
Reading splits the fields back, each taken in [-half, +half) of its width so a field that went below zero
(never after a correct sequence of writes, but then still exact) does not borrow from its neighbour.

The bound this buys is per field and per item (a fleet's hour, day or 8-day span): ride and channel counts
below 5·10¹¹, a driver's offers, responses, accepted and timeouts below 500,000 in a span, and the top field
(a driver's response milliseconds, the last counter of a ride pack) within DynamoDB's 38 digits. Durations
summed over many rides (time to match, channel latency) and counters it does not know stay plain attributes.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ridecast.domain.stats.counters import CHANNEL_COUNTERS, DRIVER_COUNTERS, ENDED_PREFIX, TTM_BUCKET_PREFIX

# Every packed attribute starts with it; no counter's name does (counters are `name` or `name#key`).
PACKED = "p:"
_RIDE_PACKS: tuple[tuple[str, ...], ...] = (
    ("created", "scheduled", f"{ENDED_PREFIX}assigned"),
    (f"{ENDED_PREFIX}timed_out", f"{ENDED_PREFIX}cancelled", f"{ENDED_PREFIX}failed"),
    ("ttm_count", "reassignments", "reallocations"),
)
_TTM_PER_PACK = 3
COUNT_DIGITS = 12
# The driver's response milliseconds are the top field (last in DRIVER_COUNTERS order below), unbounded but by
# the 38 digits; the four counts below it get six digits each.
_DRIVER_FIELDS = ("offers", "responses", "accepted", "timeouts", "response_ms")
DRIVER_DIGITS = 6
# Channel counts packed; latency milliseconds (summed over every send) stay plain.
_CHANNEL_FIELDS = ("ch_attempts", "ch_successes", "ch_failures")

assert set(_DRIVER_FIELDS) == set(DRIVER_COUNTERS)
assert set(_CHANNEL_FIELDS) < set(CHANNEL_COUNTERS)


@dataclass(frozen=True)
class _Slot:
    attribute: str
    index: int  # field number, 0 in the lowest digits
    digits: int  # width of every field but the top one


def _slot(counter: str) -> _Slot | None:
    """Where a counter lives, or None for one kept as its own attribute."""
    for number, pack in enumerate(_RIDE_PACKS):
        if counter in pack:
            return _Slot(f"{PACKED}r{number}", pack.index(counter), COUNT_DIGITS)
    head, _, key = counter.partition("#")
    if not key:
        return None
    if counter.startswith(TTM_BUCKET_PREFIX) and key.isdigit():
        bucket = int(key)
        return _Slot(f"{PACKED}ttm{bucket // _TTM_PER_PACK}", bucket % _TTM_PER_PACK, COUNT_DIGITS)
    if head in _CHANNEL_FIELDS:
        return _Slot(f"{PACKED}ch#{key}", _CHANNEL_FIELDS.index(head), COUNT_DIGITS)
    if head in _DRIVER_FIELDS:
        return _Slot(f"{PACKED}d#{key}", _DRIVER_FIELDS.index(head), DRIVER_DIGITS)
    return None


def _fields(attribute: str) -> tuple[tuple[str, ...], int]:
    """The counters a packed attribute holds, lowest field first, and the width of each field but the top."""
    kind = attribute.removeprefix(PACKED)
    if kind.startswith("d#"):
        return tuple(f"{field}#{kind[2:]}" for field in _DRIVER_FIELDS), DRIVER_DIGITS
    if kind.startswith("ch#"):
        return tuple(f"{field}#{kind[3:]}" for field in _CHANNEL_FIELDS), COUNT_DIGITS
    if kind.startswith("ttm"):
        first = int(kind[3:]) * _TTM_PER_PACK
        return tuple(f"{TTM_BUCKET_PREFIX}{b}" for b in range(first, first + _TTM_PER_PACK)), COUNT_DIGITS
    return _RIDE_PACKS[int(kind[1:])], COUNT_DIGITS


def pack(counts: Mapping[str, int]) -> dict[str, int]:
    """The amounts to ADD, per attribute, for these counter changes (none for a pack that nets to 0)."""
    packed: dict[str, int] = {}
    for counter, amount in counts.items():
        slot = _slot(counter)
        if slot is None:
            packed[counter] = packed.get(counter, 0) + amount
        else:
            packed[slot.attribute] = packed.get(slot.attribute, 0) + amount * 10 ** (slot.digits * slot.index)
    return {attribute: amount for attribute, amount in packed.items() if amount}


def unpack(attributes: Iterable[tuple[str, int]]) -> dict[str, int]:
    """The counters stored in these attributes (plain or packed); counters at 0 are left out."""
    counts: dict[str, int] = {}
    for attribute, value in attributes:
        if not attribute.startswith(PACKED):
            counts[attribute] = counts.get(attribute, 0) + value
            continue
        names, digits = _fields(attribute)
        base, half = 10**digits, 10**digits // 2
        for index, name in enumerate(names):
            field = value if index == len(names) - 1 else (value + half) % base - half
            value = (value - field) // base
            counts[name] = counts.get(name, 0) + field
    return {name: value for name, value in counts.items() if value}
