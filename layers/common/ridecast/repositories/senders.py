"""Twilio senders: which fleet an inbound webhook to a number belongs to. A number has one fleet at a time:
claimed all together in one transaction, released (conditionally, only by its fleet) when it is dropped."""

from collections.abc import Iterable
from typing import Any

from ridecast.repositories.items import sender_pk
from ridecast.repositories.table import client, conditionally, table


class DynamoSenderStore:
    def claim(self, fleet_id: str, phones: Iterable[str]) -> list[str]:
        wanted = list(dict.fromkeys(phones))
        if not wanted:
            return []
        name = table().name
        puts: list[Any] = [
            {
                "Put": {
                    "TableName": name,
                    "Item": {"PK": sender_pk(phone), "SK": "META", "item_type": "sender", "fleet_id": fleet_id},
                    # Claiming one's own sender again is fine.
                    "ConditionExpression": "attribute_not_exists(PK) OR fleet_id = :fleet",
                    "ExpressionAttributeValues": {":fleet": fleet_id},
                }
            }
            for phone in wanted
        ]
        if conditionally(lambda: client().transact_write_items(TransactItems=puts)) is not None:
            return []
        return [phone for phone in wanted if self.fleet_for(phone) not in (None, fleet_id)]

    def release(self, fleet_id: str, phones: Iterable[str]) -> None:
        for phone in phones:
            conditionally(
                lambda phone=phone: table().delete_item(  # type: ignore[misc]
                    Key={"PK": sender_pk(phone), "SK": "META"},
                    ConditionExpression="fleet_id = :fleet",
                    ExpressionAttributeValues={":fleet": fleet_id},
                )
            )

    def fleet_for(self, phone: str) -> str | None:
        item = table().get_item(Key={"PK": sender_pk(phone), "SK": "META"}).get("Item")
        return str(item["fleet_id"]) if item else None
