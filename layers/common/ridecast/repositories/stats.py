"""Stats counters (SPEC §6): one item per fleet and hour and the same per fleet and UTC day (so 30 days read
30 day items and the hours at the edges, not 720 hours), one per fleet and UTC day for the drivers, one live
counter per fleet, and a marker per ride whose ending has been counted.

  hour     PK=STATS#<fleet>#HOUR     SK=<YYYY-MM-DDTHH>  created, ended#<status>, ttm_*, ch_*#<channel>, ...
  day      PK=STATS#<fleet>#DAY      SK=<YYYY-MM-DD>     the same counters, summed over the day
  drivers  PK=STATS#<fleet>#DRIVERS  SK=<YYYY-MM-DD>     <counter>#<driver_id>
  live     PK=STATS#<fleet>          SK=LIVE             matching
  marker   PK=RIDE#<ride>            SK=STATS            the ride's ending was counted (offers are SK=OFFER#...)

Every counter moves by ADD, so concurrent rides never lose each other's counts; a period is one Query per
kind of item.
"""

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
    ) -> bool:
        # The marker's condition fails the whole transaction on a second call: a retry counts nothing.
        marker = {
            "Put": {
                "TableName": table().name,
                "Item": {"PK": ride_pk(ride_id), "SK": "STATS", "fleet_id": fleet_id},
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        }
        items: list[Any] = [marker, *_hour_and_day(fleet_id, hour, hour_counts), _live(fleet_id, -1)]
        if driver_counts:
            items.append(_add(stats_pk(fleet_id, "DRIVERS"), day, driver_counts))
        return conditionally(lambda: client().transact_write_items(TransactItems=items)) is not None

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
