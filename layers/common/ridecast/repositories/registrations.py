"""Telegram registration tokens: each opens a driver's chat binding once, until it expires."""

from datetime import datetime

from ridecast.repositories.items import registration_pk
from ridecast.repositories.table import conditionally, table


class DynamoRegistrationStore:
    def add(self, token: str, fleet_id: str, driver_id: str, expires_at: datetime) -> None:
        table().put_item(
            Item={
                "PK": registration_pk(token),
                "SK": "META",
                "item_type": "telegram_registration",
                "fleet_id": fleet_id,
                "driver_id": driver_id,
                # The table's TTL attribute: an unused token disappears by itself.
                "expires_at": int(expires_at.timestamp()),
            },
            ConditionExpression="attribute_not_exists(PK)",
        )

    def fleet_of(self, token: str) -> str | None:
        item = table().get_item(Key={"PK": registration_pk(token), "SK": "META"}).get("Item")
        return str(item["fleet_id"]) if item else None

    def consume(self, token: str, fleet_id: str, now: datetime) -> str | None:
        # Delete-if in one call: two uses of one token cannot both read it before either deletes it.
        # TTL deletes lazily, so an expired token may still be there: the condition checks the time itself.
        answer = conditionally(
            lambda: table().delete_item(
                Key={"PK": registration_pk(token), "SK": "META"},
                ConditionExpression="attribute_exists(PK) AND fleet_id = :fleet AND expires_at > :now",
                ExpressionAttributeValues={":fleet": fleet_id, ":now": int(now.timestamp())},
                ReturnValues="ALL_OLD",
            )
        )
        return str(answer["Attributes"]["driver_id"]) if answer is not None else None
