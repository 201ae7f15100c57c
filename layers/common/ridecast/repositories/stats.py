"""Stats counters (SPEC §6): one item per fleet and hour, per fleet and UTC day and per fleet and 8-day span
(`buckets.cover` reads any period as a signed sum of a few of them), the drivers' per day and span apart,
one live counter per fleet, and a marker per ride whose ending has been counted.

  hour     PK=STATS#<fleet>#HOURS         SK=<YYYY-MM-DDTHH>  rides created, ended by status, ttm, channels
  day      PK=STATS#<fleet>#DAYS          SK=<YYYY-MM-DD>     the same, summed over the day
  span     PK=STATS#<fleet>#SPANS         SK=<first day>      the same over 8 days (buckets.span_key)
  drivers  PK=STATS#<fleet>#DRIVER_DAYS   SK=<day>#<chunk>    `p:d#<driver_id>` per driver, ≤ 50 per Update;
           PK=STATS#<fleet>#DRIVER_SPANS  SK=<span>#<chunk>   chunk 0's number set `chunks` names the others
  live     PK=STATS#<fleet>               SK=LIVE             matching
  marker   PK=RIDE#<ride>                 SK=STATS            which version of the ride is counted, and what its
                                                             ending added (a ride back to matching takes it away)
           PK=RIDE#<ride>                 SK=STATS#DRIVERS#<round>#<n>  a group of drivers' Updates written

Counters are packed several to a number (`stats_packing`), so a month reads ~700 values, not ~10,000, in one
BatchGetItem. Every counter moves by ADD, so concurrent rides never lose each other's counts. A drivers' item
holds one number per driver who had offers in its bucket and chunk (~60 bytes): DynamoDB's 400 KB item bound
is ~6,000 such drivers per fleet and span. Items of the earlier layout (`#HOUR`, `#DAY`, `#DRIVERS`) are not
read.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from itertools import batched
from typing import Any

from ridecast.domain.stats.buckets import Buckets, CounterKey, Level, bucket_keys
from ridecast.repositories.items import ride_pk
from ridecast.repositories.stats_packing import pack, unpack
from ridecast.repositories.table import client, conditionally, resend_leftovers, table, update_expression

LIVE_MATCHING = "matching"
_KEYS = frozenset({"PK", "SK"})
# On a drivers' item of chunk 0: the numbers of the bucket's other chunks, if any.
CHUNKS = "chunks"
_NOT_COUNTERS = _KEYS | {CHUNKS}
_KINDS: dict[Level, str] = {"hour": "HOURS", "day": "DAYS", "span": "SPANS"}
_DRIVER_KINDS: dict[Level, str] = {"day": "DRIVER_DAYS", "span": "DRIVER_SPANS"}
# DynamoDB refuses an expression over 4 KB (`ADD #a0 :a0, ` is ~13 characters a driver); moto's parser recurses
# per clause (RecursionError from ~200) and slows down faster than the clauses grow (100: 0.3 s, 25: 40 ms).
_DRIVERS_PER_UPDATE = 50
# A transaction holds 100 items: the ending's own take at most 6 (marker, hour, day, span, live), the rest may
# be the drivers'; a ride whose offers reached more drivers (~2,300) counts them in transactions of their own.
_INLINE_DRIVER_UPDATES = 94
_DRIVER_GROUP_UPDATES = 99
# BatchGetItem's limit per call; a 92-day period covers at most ~75 buckets.
_BATCH = 100
_BATCH_ATTEMPTS = 5


def stats_pk(fleet_id: str, kind: str | None = None) -> str:
    return f"STATS#{fleet_id}#{kind}" if kind else f"STATS#{fleet_id}"


def _counters_pk(fleet_id: str, level: Level) -> str:
    return stats_pk(fleet_id, _KINDS[level])


def counters_item_key(fleet_id: str, key: CounterKey) -> dict[str, str]:
    level, sk = key
    return {"PK": _counters_pk(fleet_id, level), "SK": sk}


def drivers_item_key(fleet_id: str, key: CounterKey, chunk: int = 0) -> dict[str, str]:
    level, sk = key
    return {"PK": stats_pk(fleet_id, _DRIVER_KINDS[level]), "SK": f"{sk}#{chunk}"}


def _live_key(fleet_id: str) -> dict[str, str]:
    return {"PK": stats_pk(fleet_id), "SK": "LIVE"}


def _add(key: dict[str, str], attributes: dict[str, int], chunks: set[int] | None = None) -> dict[str, Any]:
    """An Update that ADDs to one item's attributes (the item created on first use), and `chunks` to its set
    of further chunks."""
    update = update_expression({}, add=attributes)
    if chunks:
        update.names["#chunks"], update.values[":chunks"] = CHUNKS, chunks
    return {
        "Update": {
            "TableName": table().name,
            "Key": key,
            "UpdateExpression": update.expression + (", #chunks :chunks" if chunks else ""),
            "ExpressionAttributeNames": update.names,
            "ExpressionAttributeValues": update.values,
        }
    }


def _buckets(fleet_id: str, hour: str, counts: dict[str, int]) -> list[Any]:
    """The Updates of the hour, its day and its span; none when there is nothing to add."""
    adding = pack(counts)
    return [_add(counters_item_key(fleet_id, key), adding) for key in bucket_keys(hour)] if adding else []


def _driver_buckets(fleet_id: str, hour: str, driver_counts: dict[str, int]) -> list[Any]:
    """The Updates of the drivers' day and span, in items of at most _DRIVERS_PER_UPDATE drivers each (a
    transaction may name an item once, and one Update's expression holds ~300 drivers at most)."""
    packed = sorted(pack(driver_counts).items())
    chunks = [dict(chunk) for chunk in batched(packed, _DRIVERS_PER_UPDATE, strict=False)]
    # Chunk 0 lists the others (a number set: ADD is a union), so a reader knows every key from chunk 0's.
    further = set(range(1, len(chunks)))
    return [
        _add(drivers_item_key(fleet_id, key, number), chunk, further if number == 0 else None)
        for key in bucket_keys(hour)
        if key[0] != "hour"
        for number, chunk in enumerate(chunks)
    ]


def _live(fleet_id: str, change: int) -> dict[str, Any]:
    return _add(_live_key(fleet_id), {LIVE_MATCHING: change})


# A marker write loses only to another ending or reopening of the same ride, which is rare: re-read and retry.
_MARKER_ATTEMPTS = 4


@dataclass(frozen=True)
class _Marker:
    """What a ride's marker says was counted: the ride's version, the last round whose offers counted for
    their drivers, and (while the ride counts as ended) what its ending added to its hour."""

    version: int
    matching_round: int
    ended: bool
    counts: dict[str, int]


def _marker_key(ride_id: str) -> dict[str, str]:
    return {"PK": ride_pk(ride_id), "SK": "STATS"}


def _read_marker(ride_id: str) -> _Marker | None:
    item = table().get_item(Key=_marker_key(ride_id), ConsistentRead=True).get("Item")
    if item is None:
        return None
    counts = item.get("counts")
    return _Marker(
        version=int(str(item.get("version", 0))),
        matching_round=int(str(item.get("matching_round", 1))),
        ended=bool(item.get("ended", True)),
        counts={str(key): int(str(value)) for key, value in counts.items()} if isinstance(counts, dict) else {},
    )


def _marker_put(
    fleet_id: str,
    ride_id: str,
    previous: _Marker | None,
    version: int,
    matching_round: int,
    *,
    ended: bool,
    counts: dict[str, int],
) -> dict[str, Any]:
    """The marker's new state, on condition that it is still what was read (so two writers cannot both count)."""
    put: dict[str, Any] = {
        "TableName": table().name,
        "Item": {
            **_marker_key(ride_id),
            "fleet_id": fleet_id,
            "version": version,
            "matching_round": matching_round,
            "ended": ended,
            "counts": counts,
        },
    }
    if previous is None:
        put["ConditionExpression"] = "attribute_not_exists(PK)"
    else:
        put["ConditionExpression"] = "#version = :read_version"
        put["ExpressionAttributeNames"] = {"#version": "version"}
        put["ExpressionAttributeValues"] = {":read_version": previous.version}
    return {"Put": put}


def _difference(new: dict[str, int], old: dict[str, int]) -> dict[str, int]:
    return {
        key: new.get(key, 0) - old.get(key, 0) for key in sorted({*new, *old}) if new.get(key, 0) != old.get(key, 0)
    }


def _write_past_marker(ride_id: str, version: int, items: Callable[[_Marker | None], list[Any]]) -> bool:
    """Write `items(marker)` in one transaction with the marker's new state, unless the marker already counts
    this version of the ride or a later one; a marker changed meanwhile is read again."""
    for _ in range(_MARKER_ATTEMPTS):
        marker = _read_marker(ride_id)
        if marker is not None and marker.version >= version:
            return False
        if conditionally(partial(client().transact_write_items, TransactItems=items(marker))) is not None:
            return True
    return False


def _count_driver_groups(ride_id: str, matching_round: int, updates: list[Any]) -> None:
    """The drivers' Updates of a round too big for the ending's transaction, in transactions of their own, each
    with a marker so that an ending retried after some of them counts each group once."""
    for start in range(0, len(updates), _DRIVER_GROUP_UPDATES):
        marker = {
            "TableName": table().name,
            "Item": {"PK": ride_pk(ride_id), "SK": f"STATS#DRIVERS#{matching_round}#{start}"},
            "ConditionExpression": "attribute_not_exists(PK)",
        }
        group = [{"Put": marker}, *updates[start : start + _DRIVER_GROUP_UPDATES]]
        conditionally(partial(client().transact_write_items, TransactItems=group))  # lost: already counted


class DynamoStatsStore:
    def count_created(self, fleet_id: str, hour: str, counts: dict[str, int]) -> None:
        items: list[Any] = [*_buckets(fleet_id, hour, counts), _live(fleet_id, 1)]
        client().transact_write_items(TransactItems=items)

    def count_ended(
        self,
        fleet_id: str,
        ride_id: str,
        *,
        hour: str,
        hour_counts: dict[str, int],
        driver_counts: dict[str, int],
        version: int = 0,
        matching_round: int = 1,
    ) -> bool:
        drivers = _driver_buckets(fleet_id, hour, driver_counts)
        if len(drivers) > _INLINE_DRIVER_UPDATES:
            marker = _read_marker(ride_id)
            if marker is not None and marker.version >= version:
                return False
            if marker is None or marker.matching_round < matching_round:
                _count_driver_groups(ride_id, matching_round, drivers)
            drivers = []

        def items(marker: _Marker | None) -> list[Any]:
            # A ride that went back to matching and ended again replaces what its earlier ending added.
            previous = marker.counts if marker is not None and marker.ended else {}
            # A round's offers count for their drivers once: an ending of the same round again adds none.
            new_round = marker is None or marker.matching_round < matching_round
            items: list[Any] = [
                _marker_put(fleet_id, ride_id, marker, version, matching_round, ended=True, counts=hour_counts),
                *_buckets(fleet_id, hour, _difference(hour_counts, previous)),
                *(drivers if new_round else []),
            ]
            if marker is None or not marker.ended:
                items.append(_live(fleet_id, -1))
            return items

        return _write_past_marker(ride_id, version, items)

    def count_reopened(self, fleet_id: str, ride_id: str, *, hour: str, version: int, matching_round: int) -> bool:
        def items(marker: _Marker | None) -> list[Any]:
            # Offers of the rounds before this one count no more: their ending is history, or never counted.
            items: list[Any] = [
                _marker_put(fleet_id, ride_id, marker, version, matching_round - 1, ended=False, counts={})
            ]
            if marker is not None and marker.ended:
                items += _buckets(fleet_id, hour, {k: -v for k, v in marker.counts.items() if v})
                items.append(_live(fleet_id, 1))
            return items

        return _write_past_marker(ride_id, version, items)

    def count_sends(self, fleet_id: str, hour: str, counts: dict[str, int]) -> None:
        if updates := _buckets(fleet_id, hour, counts):
            client().transact_write_items(TransactItems=updates)

    def read(self, fleet_id: str, keys: Iterable[CounterKey], driver_keys: Iterable[CounterKey] = ()) -> Buckets:
        found = Buckets({}, {})
        wanted = {_item_key(counters_item_key(fleet_id, key)): (found.rides, key) for key in keys}
        wanted |= {_item_key(drivers_item_key(fleet_id, key)): (found.drivers, key) for key in driver_keys}
        while wanted:
            more: dict[tuple[str, str], tuple[dict[CounterKey, dict[str, int]], CounterKey]] = {}
            for item in _batch_get([{"PK": pk, "SK": sk} for pk, sk in wanted]):
                bucket, key = wanted[_item_key(item)]
                for chunk in item.get(CHUNKS, ()):  # a bucket of drivers in several chunks: those too
                    more[_item_key(drivers_item_key(fleet_id, key, int(chunk)))] = (bucket, key)
                counters = bucket.setdefault(key, {})
                for name, value in unpack(
                    (k, int(v)) for k, v in item.items() if k not in _KEYS and k != CHUNKS
                ).items():
                    counters[name] = counters.get(name, 0) + value
            wanted = more
        for bucket in found:
            for key in [key for key, counters in bucket.items() if not any(counters.values())]:
                del bucket[key]
        return found

    def live_matchings(self, fleet_id: str) -> int:
        item = table().get_item(Key=_live_key(fleet_id)).get("Item") or {}
        return max(0, int(str(item.get(LIVE_MATCHING, 0))))


def _item_key(item: dict[str, Any]) -> tuple[str, str]:
    return str(item["PK"]), str(item["SK"])


def _batch_get(keys: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The items of these keys that exist, _BATCH keys a call; keys DynamoDB leaves unprocessed (throttled) are
    asked again."""
    return [item for batch in batched(keys, _BATCH, strict=False) for item in _batch_get_once(list(batch))]


def _batch_get_once(keys: list[dict[str, str]]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    name = table().name

    def read(pending: list[Any]) -> list[Any]:
        answer = client().batch_get_item(RequestItems={name: {"Keys": pending}})
        items.extend(answer.get("Responses", {}).get(name, []))
        unprocessed: dict[str, Any] = dict(answer.get("UnprocessedKeys") or {})
        return list(unprocessed.get(name, {}).get("Keys", []))

    if left := resend_leftovers(read, list(keys), _BATCH_ATTEMPTS):
        raise RuntimeError(f"stats: {len(left)} counter items left unread after retries")
    return items
