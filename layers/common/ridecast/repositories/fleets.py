"""Fleets and their ride counter."""

from boto3.dynamodb.conditions import Key

from ridecast.domain.entities import ApiKey, Fleet
from ridecast.errors import FleetNotFound
from ridecast.repositories.api_keys import api_key_puts
from ridecast.repositories.items import FLEETS_INDEX_PK, fleet_item, fleet_pk, from_item
from ridecast.repositories.table import client, conditionally, query_all, table


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
        """Raises FleetNotFound rather than bring back a fleet that is not there."""
        saved = conditionally(
            lambda: table().put_item(Item=fleet_item(fleet), ConditionExpression="attribute_exists(PK)")
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
