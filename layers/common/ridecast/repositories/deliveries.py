"""Webhook deliveries seen: providers retry, and each delivery must be processed once."""

from datetime import datetime

from ridecast.repositories.items import dedupe_pk
from ridecast.repositories.table import conditionally, table


class DynamoDeliveryLog:
    def claim(self, source: str, delivery_id: str, expires_at: datetime) -> bool:
        claimed = conditionally(
            lambda: table().put_item(
                Item={
                    "PK": dedupe_pk(source, delivery_id),
                    "SK": "META",
                    "item_type": "delivery",
                    # The table's TTL attribute: past the providers' retry window the record may go.
                    "expires_at": int(expires_at.timestamp()),
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        )
        return claimed is not None

    def release(self, source: str, delivery_id: str) -> None:
        table().delete_item(Key={"PK": dedupe_pk(source, delivery_id), "SK": "META"})
