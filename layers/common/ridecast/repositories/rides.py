"""Rides: every status change is conditional on the status and version it was read at."""

import base64
import json
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from ridecast.domain.entities import Ride
from ridecast.errors import InvalidInput
from ridecast.repositories.items import (
    HELD_PREFIX,
    SEARCHING_INDEX_PK,
    fleet_pk,
    fleet_rides_gsi,
    from_item,
    held_ride_key,
    ride_item,
    ride_pk,
)
from ridecast.repositories.table import client, conditionally, query_all, table, update_expression

_CURSOR_KEYS = frozenset({"PK", "SK", "GSI1PK", "GSI1SK"})
_MAX_CURSOR_VALUE = 256


def _not_a_cursor() -> InvalidInput:
    return InvalidInput("next: not a cursor returned by this API", field="next")


def _encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode()


def _decode_cursor(cursor: str | None, fleet_id: str) -> dict[str, Any] | None:
    """The page's start key; a cursor of another fleet's listing is refused like garbage."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError) as error:
        raise _not_a_cursor() from error
    if not isinstance(key, dict) or set(key) != _CURSOR_KEYS or key["GSI1PK"] != fleet_rides_gsi(fleet_id):
        raise _not_a_cursor()
    # Every value goes into DynamoDB's ExclusiveStartKey: only the strings this API wrote, never an object,
    # number or null a caller swapped in (SPEC §11), and within DynamoDB's key size.
    if not all(isinstance(value, str) and 0 < len(value) <= _MAX_CURSOR_VALUE for value in key.values()):
        raise _not_a_cursor()
    if not key["PK"].startswith("RIDE#") or key["SK"] != "META":
        raise _not_a_cursor()
    return key


class DynamoRideStore:
    def add(self, ride: Ride) -> None:
        table().put_item(Item=ride_item(ride), ConditionExpression="attribute_not_exists(PK)")

    def get(self, ride_id: str) -> Ride | None:
        item = table().get_item(Key={"PK": ride_pk(ride_id), "SK": "META"}, ConsistentRead=True).get("Item")
        return from_item(Ride, item) if item else None

    def transition(self, ride: Ride, to_status: str, **fields: Any) -> Ride | None:
        if to_status == "searching":
            # Back to matching (SPEC §8): on the sparse index the sweeper reads again, by the new deadline.
            deadline = fields.get("deadline_at", ride.deadline_at)
            keys = {"GSI2PK": SEARCHING_INDEX_PK, "GSI2SK": deadline.isoformat()}
            update = update_expression({"status": to_status, **fields, **keys}, add={"version": 1})
        else:
            # Leaving any other way leaves `searching`: off the sparse index the sweeper reads, and no longer held.
            update = update_expression(
                {"status": to_status, **fields}, remove=("GSI2PK", "GSI2SK", "held_at"), add={"version": 1}
            )
        update.names["#from_status"] = "status"
        update.names["#version"] = "version"
        update.values[":from_status"] = ride.status
        update.values[":expected_version"] = ride.version
        condition = "#from_status = :from_status AND #version = :expected_version"
        return self._update_if(ride.ride_id, update.expression, condition, update.names, update.values)

    def update_searching(
        self,
        ride_id: str,
        set_fields: dict[str, Any] | None = None,
        add: dict[str, int] | None = None,
        only_round: int | None = None,
    ) -> Ride | None:
        # No version bump: an accept that read the ride before this bookkeeping must still win.
        update = update_expression(set_fields or {}, add=add)
        update.names["#status"] = "status"
        update.values[":searching"] = "searching"
        condition = "#status = :searching"
        if only_round is not None:
            update.names["#round"] = "matching_round"
            update.values[":round"] = only_round
            condition += " AND #round = :round"
        return self._update_if(ride_id, update.expression, condition, update.names, update.values)

    def _update_if(
        self, ride_id: str, expression: str, condition: str, names: dict[str, str], values: dict[str, Any]
    ) -> Ride | None:
        answer = conditionally(
            lambda: table().update_item(
                Key={"PK": ride_pk(ride_id), "SK": "META"},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        )
        return from_item(Ride, answer["Attributes"]) if answer is not None else None

    def add_counts(self, ride_id: str, add: dict[str, int]) -> None:
        # A ride that is not there has nothing to count: the condition only keeps ADD from creating one.
        update = update_expression({}, add=add)
        conditionally(
            lambda: table().update_item(
                Key={"PK": ride_pk(ride_id), "SK": "META"},
                UpdateExpression=update.expression,
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames=update.names,
                ExpressionAttributeValues=update.values,
            )
        )

    def mark_escalated(self, ride_id: str, at: datetime) -> bool:
        marked = conditionally(
            lambda: table().update_item(
                Key={"PK": ride_pk(ride_id), "SK": "META"},
                UpdateExpression="SET escalated_at = :t",
                ConditionExpression="attribute_exists(PK) AND attribute_not_exists(escalated_at)",
                ExpressionAttributeValues={":t": at.isoformat()},
            )
        )
        return marked is not None

    def for_fleet(
        self, fleet_id: str, status: str | None, since: datetime | None, limit: int, cursor: str | None
    ) -> tuple[list[Ride], str | None]:
        condition: Any = Key("GSI1PK").eq(fleet_rides_gsi(fleet_id))
        if since is not None:
            # Keys hold UTC ISO-8601 strings: compare like with like (a naive time is taken as UTC).
            since_utc = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
            condition = condition & Key("GSI1SK").gte(since_utc.isoformat())
        start_key = _decode_cursor(cursor, fleet_id)
        rides: list[Ride] = []
        kwargs: dict[str, Any] = {
            "IndexName": "GSI1",
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if status:
            kwargs["FilterExpression"] = Attr("status").eq(status)
        # A filter applies after Limit: keep reading until the page is full or the index ends.
        while True:
            if start_key:
                kwargs["ExclusiveStartKey"] = start_key
            page = table().query(**kwargs)
            rides.extend(from_item(Ride, item) for item in page.get("Items", []))
            start_key = page.get("LastEvaluatedKey")
            if len(rides) >= limit or not start_key:
                break
            kwargs["Limit"] = limit - len(rides)
        return rides[:limit], _encode_cursor(start_key)

    def searching_past(self, deadline: datetime) -> list[str]:
        # The sparse GSI2 holds keys only: it stays cheap however many rides the table holds.
        return [
            str(item["PK"]).removeprefix("RIDE#")
            for item in query_all(
                IndexName="GSI2",
                KeyConditionExpression=Key("GSI2PK").eq(SEARCHING_INDEX_PK) & Key("GSI2SK").lt(deadline.isoformat()),
            )
        ]

    def hold(self, ride: Ride, task_token: str, at: datetime) -> bool:
        # One transaction: a ride is never held without its entry on the list the resume walks, nor listed
        # without its token. Off GSI2 while held: the sweeper must not time out a ride nobody was offered.
        held = conditionally(
            lambda: client().transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": table().name,
                            "Key": {"PK": ride_pk(ride.ride_id), "SK": "META"},
                            "UpdateExpression": (
                                "SET task_token = :token, held_at = if_not_exists(held_at, :at) REMOVE GSI2PK, GSI2SK"
                            ),
                            "ConditionExpression": "#status = :searching",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {
                                ":token": task_token,
                                ":at": at.isoformat(),
                                ":searching": "searching",
                            },
                        }
                    },
                    {
                        "Put": {
                            "TableName": table().name,
                            "Item": {**held_ride_key(ride), "item_type": "held_ride", "ride_id": ride.ride_id},
                        }
                    },
                ]
            )
        )
        return held is not None

    def held(self, fleet_id: str) -> list[str]:
        return [
            str(item["ride_id"])
            for item in query_all(
                KeyConditionExpression=Key("PK").eq(fleet_pk(fleet_id)) & Key("SK").begins_with(HELD_PREFIX),
                ConsistentRead=True,
            )
        ]

    def release(self, ride: Ride, deadline_at: datetime) -> Ride | None:
        # Conditional on held_at: of a resume and the ride's own re-check racing, one releases (and completes
        # the token), the other sees None.
        released = self._update_if(
            ride.ride_id,
            "SET deadline_at = :deadline, GSI2PK = :index, GSI2SK = :deadline REMOVE held_at",
            "#status = :searching AND attribute_exists(held_at)",
            {"#status": "status"},
            {":deadline": deadline_at.isoformat(), ":index": SEARCHING_INDEX_PK, ":searching": "searching"},
        )
        self.unlist_held(ride)
        return released

    def unlist_held(self, ride: Ride) -> None:
        table().delete_item(Key=held_ride_key(ride))
