"""Stats counters (SPEC §6): one item per fleet and hour, one per fleet and UTC day for the drivers, one live
counter per fleet, and a marker per ride whose ending has been counted.

  hour     PK=STATS#<fleet>  SK=HOUR#<YYYY-MM-DDTHH>   created, ended#<status>, ttm_*, ch_*#<channel>, ...
  drivers  PK=STATS#<fleet>  SK=DRIVERS#<YYYY-MM-DD>   <counter>#<driver_id>
  live     PK=STATS#<fleet>  SK=LIVE                   matching
  marker   PK=RIDE#<ride>    SK=STATS                  the ride's ending was counted (offers are SK=OFFER#...)

Every counter moves by ADD, so concurrent rides never lose each other's counts; a period is one Query.
"""

from typing import Any

from boto3.dynamodb.conditions import Key

from ridecast.repositories.items import ride_pk
from ridecast.repositories.table import client, conditionally, query_all, table, update_expression

LIVE_MATCHING = "matching"
_KEYS = frozenset({"PK", "SK"})


def stats_pk(fleet_id: str) -> str:
    return f"STATS#{fleet_id}"


def _add(fleet_id: str, sk: str, counts: dict[str, int]) -> dict[str, Any]:
    """An Update that ADDs `counts` to one counters item (created on first use)."""
    update = update_expression({}, add=counts)
    return {
        "TableName": table().name,
        "Key": {"PK": stats_pk(fleet_id), "SK": sk},
        "UpdateExpression": update.expression,
        "ExpressionAttributeNames": update.names,
        "ExpressionAttributeValues": update.values,
    }


def _counters(item: dict[str, Any]) -> dict[str, int]:
    return {key: int(value) for key, value in item.items() if key not in _KEYS}


class DynamoStatsStore:
    def count_created(self, fleet_id: str, hour: str, counts: dict[str, int]) -> None:
        items: list[Any] = [
            {"Update": _add(fleet_id, f"HOUR#{hour}", counts)},
            {"Update": _add(fleet_id, "LIVE", {LIVE_MATCHING: 1})},
        ]
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
        items: list[Any] = [
            {
                "Put": {
                    "TableName": table().name,
                    "Item": {"PK": ride_pk(ride_id), "SK": "STATS", "fleet_id": fleet_id},
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {"Update": _add(fleet_id, f"HOUR#{hour}", hour_counts)},
            {"Update": _add(fleet_id, "LIVE", {LIVE_MATCHING: -1})},
        ]
        if driver_counts:
            items.append({"Update": _add(fleet_id, f"DRIVERS#{day}", driver_counts)})
        return conditionally(lambda: client().transact_write_items(TransactItems=items)) is not None

    def count_sends(self, fleet_id: str, hour: str, counts: dict[str, int]) -> None:
        update = update_expression({}, add=counts)
        table().update_item(
            Key={"PK": stats_pk(fleet_id), "SK": f"HOUR#{hour}"},
            UpdateExpression=update.expression,
            ExpressionAttributeNames=update.names,
            ExpressionAttributeValues=update.values,
        )

    def hours(self, fleet_id: str, first: str, last: str) -> list[dict[str, int]]:
        return self._range(fleet_id, f"HOUR#{first}", f"HOUR#{last}")

    def driver_days(self, fleet_id: str, first: str, last: str) -> list[dict[str, int]]:
        return self._range(fleet_id, f"DRIVERS#{first}", f"DRIVERS#{last}")

    def live_matchings(self, fleet_id: str) -> int:
        item = table().get_item(Key={"PK": stats_pk(fleet_id), "SK": "LIVE"}).get("Item") or {}
        return max(0, int(str(item.get(LIVE_MATCHING, 0))))

    def _range(self, fleet_id: str, first: str, last: str) -> list[dict[str, int]]:
        return [
            _counters(item)
            for item in query_all(
                KeyConditionExpression=Key("PK").eq(stats_pk(fleet_id)) & Key("SK").between(first, last)
            )
        ]
