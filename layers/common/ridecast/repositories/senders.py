"""Twilio senders: which fleet an inbound webhook to a number belongs to."""

from collections.abc import Iterable

from ridecast.repositories.items import sender_pk
from ridecast.repositories.table import conditionally, table


class DynamoSenderStore:
    def claim(self, fleet_id: str, phones: Iterable[str]) -> list[str]:
        return [phone for phone in phones if not self._claim_one(fleet_id, phone)]

    def _claim_one(self, fleet_id: str, phone: str) -> bool:
        """False when another fleet owns the sender; claiming one's own sender again is fine."""
        claimed = conditionally(
            lambda: table().put_item(
                Item={"PK": sender_pk(phone), "SK": "META", "item_type": "sender", "fleet_id": fleet_id},
                ConditionExpression="attribute_not_exists(PK) OR fleet_id = :fleet",
                ExpressionAttributeValues={":fleet": fleet_id},
            )
        )
        return claimed is not None

    def fleet_for(self, phone: str) -> str | None:
        item = table().get_item(Key={"PK": sender_pk(phone), "SK": "META"}).get("Item")
        return str(item["fleet_id"]) if item else None
