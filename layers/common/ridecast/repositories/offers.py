"""Offers of a ride to its drivers: under the ride's partition, and on GSI1 by driver."""

from collections.abc import Iterable
from typing import Any

from boto3.dynamodb.conditions import Key

from ridecast.domain.entities import Offer
from ridecast.repositories.items import driver_offers_gsi, from_item, offer_item, offer_sk, ride_pk
from ridecast.repositories.table import conditionally, query_all, table, update_expression


class DynamoOfferStore:
    def add_many(self, offers: list[Offer]) -> None:
        # batch_writer sends 25 items per call (DynamoDB's maximum) and resends what was left unprocessed.
        with table().batch_writer() as batch:
            for offer in offers:
                batch.put_item(Item=offer_item(offer))

    def get(self, ride_id: str, driver_id: str) -> Offer | None:
        key = {"PK": ride_pk(ride_id), "SK": offer_sk(driver_id)}
        item = table().get_item(Key=key, ConsistentRead=True).get("Item")
        return from_item(Offer, item) if item else None

    def for_ride(self, ride_id: str) -> list[Offer]:
        return [
            from_item(Offer, item)
            for item in query_all(
                KeyConditionExpression=Key("PK").eq(ride_pk(ride_id)) & Key("SK").begins_with("OFFER#"),
                ConsistentRead=True,
            )
        ]

    def update(self, ride_id: str, driver_id: str, from_statuses: Iterable[str] | None, **fields: Any) -> Offer | None:
        update = update_expression(fields)
        # Never create an offer: an update of one that is not there is a loss like any other.
        condition = "attribute_exists(PK)"
        if from_statuses is not None:
            update.names["#current_status"] = "status"
            placeholders = []
            for i, status in enumerate(sorted(from_statuses)):
                update.values[f":from{i}"] = status
                placeholders.append(f":from{i}")
            condition += f" AND #current_status IN ({', '.join(placeholders)})"
        kwargs: dict[str, Any] = {
            "Key": {"PK": ride_pk(ride_id), "SK": offer_sk(driver_id)},
            "UpdateExpression": update.expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": update.names,
            "ReturnValues": "ALL_NEW",
        }
        if update.values:
            kwargs["ExpressionAttributeValues"] = update.values
        answer = conditionally(lambda: table().update_item(**kwargs))
        return from_item(Offer, answer["Attributes"]) if answer is not None else None

    def recent_for_driver(self, driver_id: str, limit: int = 20) -> list[Offer]:
        page = table().query(
            IndexName="GSI1",
            KeyConditionExpression=Key("GSI1PK").eq(driver_offers_gsi(driver_id)),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [from_item(Offer, item) for item in page.get("Items", [])]
