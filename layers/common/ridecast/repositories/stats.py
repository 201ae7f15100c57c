"""Stats counters (SPEC §6): one item per fleet and hour and the same per fleet and UTC day (so 30 days read
30 day items and the hours at the edges, not 720 hours), one per fleet and UTC day for the drivers, one live
counter per fleet, and a marker per ride whose ending has been counted.

  hour     PK=STATS#<fleet>#HOUR     SK=<YYYY-MM-DDTHH>  created, ended#<status>, ttm_*, ch_*#<channel>, ...
  day      PK=STATS#<fleet>#DAY      SK=<YYYY-MM-DD>     the same counters, summed over the day
  drivers  PK=STATS#<fleet>#DRIVERS  SK=<YYYY-MM-DD>     <counter>#<driver_id>
  live     PK=STATS#<fleet>          SK=LIVE             matching
  marker   PK=RIDE#<ride>            SK=STATS            which version of the ride is counted, and what its ending
                                                        added (a ride back to matching takes it away again)

Every counter moves by ADD, so concurrent rides never lose each other's counts; a period is one Query per
kind of item.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from boto3.dynamodb.conditions import Key

from ridecast.repositories.items import ride_pk
from ridecast.repositories.table import client, conditionally, query_all, table, update_expression

LIVE_MATCHING = "matching"
_KEYS = frozenset({"PK", "SK"})


def stats_pk(fleet_id: str, kind: str | None = None) -> str:
    return f"STATS#{fleet_id}#{kind}" if kind else f"STATS#{fleet_id}"


def _add(pk: str, sk: str, counts: dict[str, int]) -> dict[str, Any]:
    """An Update that ADDs `counts` to one counters item (created on first use)."""
    update = update_expression({}, add=counts)
    return {
        "Update": {
            "TableName": table().name,
            "Key": {"PK": pk, "SK": sk},
            "UpdateExpression": update.expression,
            "ExpressionAttributeNames": update.names,
            "ExpressionAttributeValues": update.values,
        }
    }


def _hour_and_day(fleet_id: str, hour: str, counts: dict[str, int]) -> list[Any]:
    return [_add(stats_pk(fleet_id, "HOUR"), hour, counts), _add(stats_pk(fleet_id, "DAY"), hour[:10], counts)]


def _live(fleet_id: str, change: int) -> dict[str, Any]:
    return _add(stats_pk(fleet_id), "LIVE", {LIVE_MATCHING: change})


def _counters(item: dict[str, Any]) -> dict[str, int]:
    return {key: int(value) for key, value in item.items() if key not in _KEYS}


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


class DynamoStatsStore:
    def count_created(self, fleet_id: str, hour: str, counts: dict[str, int]) -> None:
        items: list[Any] = [*_hour_and_day(fleet_id, hour, counts), _live(fleet_id, 1)]
        client().transact_write_items(TransactItems=items)

    def count_ended(
        self,
        fleet_id: str,
        ride_id: str,
        *,
        hour: str,
        day: str,
        hour_counts: dict[str, int],
        driver_counts: dict[str, int],
        version: int = 0,
        matching_round: int = 1,
    ) -> bool:
        def items(marker: _Marker | None) -> list[Any]:
            # A ride that went back to matching and ended again replaces what its earlier ending added.
            previous = marker.counts if marker is not None and marker.ended else {}
            diff = _difference(hour_counts, previous)
            items: list[Any] = [
                _marker_put(fleet_id, ride_id, marker, version, matching_round, ended=True, counts=hour_counts)
            ]
            if diff:
                items += _hour_and_day(fleet_id, hour, diff)
            if marker is None or not marker.ended:
                items.append(_live(fleet_id, -1))
            # A round's offers count for their drivers once: an ending of the same round again adds none.
            if driver_counts and (marker is None or marker.matching_round < matching_round):
                items.append(_add(stats_pk(fleet_id, "DRIVERS"), day, driver_counts))
            return items

        return _write_past_marker(ride_id, version, items)

    def count_reopened(self, fleet_id: str, ride_id: str, *, hour: str, version: int, matching_round: int) -> bool:
        def items(marker: _Marker | None) -> list[Any]:
            # Offers of the rounds before this one count no more: their ending is history, or never counted.
            items: list[Any] = [
                _marker_put(fleet_id, ride_id, marker, version, matching_round - 1, ended=False, counts={})
            ]
            if marker is not None and marker.ended:
                items += _hour_and_day(fleet_id, hour, {k: -v for k, v in marker.counts.items() if v})
                items.append(_live(fleet_id, 1))
            return items

        return _write_past_marker(ride_id, version, items)

    def count_sends(self, fleet_id: str, hour: str, counts: dict[str, int]) -> None:
        client().transact_write_items(TransactItems=_hour_and_day(fleet_id, hour, counts))

    def hours(self, fleet_id: str, first: str, last: str) -> list[dict[str, int]]:
        return self._range(stats_pk(fleet_id, "HOUR"), first, last)

    def days(self, fleet_id: str, first: str, last: str) -> list[dict[str, int]]:
        return self._range(stats_pk(fleet_id, "DAY"), first, last)

    def driver_days(self, fleet_id: str, first: str, last: str) -> list[dict[str, int]]:
        return self._range(stats_pk(fleet_id, "DRIVERS"), first, last)

    def live_matchings(self, fleet_id: str) -> int:
        item = table().get_item(Key={"PK": stats_pk(fleet_id), "SK": "LIVE"}).get("Item") or {}
        return max(0, int(str(item.get(LIVE_MATCHING, 0))))

    def _range(self, pk: str, first: str, last: str) -> list[dict[str, int]]:
        if first > last:
            return []
        condition = Key("PK").eq(pk) & Key("SK").between(first, last)
        return [_counters(item) for item in query_all(KeyConditionExpression=condition)]
