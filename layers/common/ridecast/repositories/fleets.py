"""Fleets and their ride counter."""

from datetime import datetime

from boto3.dynamodb.conditions import Key

from ridecast.domain.entities import ApiKey, Fleet
from ridecast.errors import FleetNotFound
from ridecast.repositories.api_keys import api_key_puts
from ridecast.repositories.items import FLEETS_INDEX_PK, fleet_item, fleet_pk, from_item, to_attributes
from ridecast.repositories.table import client, conditionally, query_all, table, update_expression

# Fleet fields with a write of their own, which `save` leaves alone.
_SET_ON_ITS_OWN = frozenset({"dispatch_paused"})


class DynamoFleetStore:
    def create(self, fleet: Fleet, admin_key: ApiKey, key_hash: str) -> None:
        client().transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table().name,
                        "Item": fleet_item(fleet),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                *api_key_puts(admin_key, key_hash),
            ]
        )

    def get(self, fleet_id: str) -> Fleet | None:
        item = table().get_item(Key={"PK": fleet_pk(fleet_id), "SK": "META"}).get("Item")
        return from_item(Fleet, item) if item else None

    def save(self, fleet: Fleet) -> None:
        """Raises FleetNotFound rather than bring back a fleet that is not there. The pause flag is left as
        stored: an edit that read the fleet before a pause must not undo it."""
        attributes = to_attributes(fleet)
        fields = {name: attributes.get(name) for name in Fleet.model_fields if name not in _SET_ON_ITS_OWN}
        # The fleets index keys too: a fleet stored before the index existed joins it on its next save.
        fields |= {"GSI1PK": FLEETS_INDEX_PK, "GSI1SK": fleet.fleet_id}
        update = update_expression(fields)
        saved = conditionally(
            lambda: table().update_item(
                Key={"PK": fleet_pk(fleet.fleet_id), "SK": "META"},
                UpdateExpression=update.expression,
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames=update.names,
                ExpressionAttributeValues=update.values,
            )
        )
        if saved is None:
            raise FleetNotFound(f"fleet {fleet.fleet_id} not found")

    def next_ride_sequence(self, fleet_id: str) -> int:
        answer = table().update_item(
            Key={"PK": fleet_pk(fleet_id), "SK": "COUNTER#RIDES"},
            UpdateExpression="ADD #v :one",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["value"])  # type: ignore[arg-type]

    def all(self) -> list[Fleet]:
        items = query_all(IndexName="GSI1", KeyConditionExpression=Key("GSI1PK").eq(FLEETS_INDEX_PK))
        return [from_item(Fleet, item) for item in items]

    def set_dispatch_paused(self, fleet_id: str, paused: bool) -> bool:
        changed = conditionally(
            lambda: table().update_item(
                Key={"PK": fleet_pk(fleet_id), "SK": "META"},
                UpdateExpression="SET dispatch_paused = :paused",
                # A fleet saved before the flag existed has none: that reads as "not paused".
                ConditionExpression=(
                    "attribute_exists(PK) AND (attribute_not_exists(dispatch_paused) OR dispatch_paused <> :paused)"
                ),
                ExpressionAttributeValues={":paused": paused},
            )
        )
        if changed is None:
            self.dispatch_paused(fleet_id)  # FleetNotFound, or the flag already had that value
            return False
        return True

    def dispatch_paused(self, fleet_id: str) -> bool:
        item = (
            table()
            .get_item(
                Key={"PK": fleet_pk(fleet_id), "SK": "META"},
                ConsistentRead=True,
                ProjectionExpression="PK, dispatch_paused",
            )
            .get("Item")
        )
        if item is None:
            raise FleetNotFound(f"fleet {fleet_id} not found")
        return bool(item.get("dispatch_paused", False))

    def record_webhook_failure(self, fleet_id: str, url: str, error: str, at: datetime) -> bool:
        recorded = conditionally(
            lambda: table().update_item(
                Key={"PK": fleet_pk(fleet_id), "SK": "META"},
                UpdateExpression=(
                    "SET #w.failures = if_not_exists(#w.failures, :zero) + :one, #w.last_error = :error, "
                    "#w.last_failure_at = :at"
                ),
                ConditionExpression="#w.#url = :url",
                ExpressionAttributeNames={"#w": "webhook", "#url": "url"},
                ExpressionAttributeValues={
                    ":zero": 0,
                    ":one": 1,
                    ":error": error,
                    ":at": at.isoformat(),
                    ":url": url,
                },
            )
        )
        return recorded is not None
