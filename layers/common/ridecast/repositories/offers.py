"""Offers of a ride to its drivers: under the ride's partition, and on GSI1 by driver."""

from collections.abc import Iterable
from itertools import batched
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Key

from ridecast.domain.entities import Offer
from ridecast.domain.ports import OfferChange
from ridecast.observability import logger
from ridecast.repositories.items import driver_offers_gsi, from_item, offer_item, offer_sk, ride_pk
from ridecast.repositories.table import (
    conditionally,
    partition_items,
    plain,
    put_all,
    resend_leftovers,
    table,
    typed_client,
    typed_value,
    update_expression,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import BatchStatementRequestTypeDef, BatchStatementResponseTypeDef

STATEMENTS_PER_CALL = 25  # BatchExecuteStatement's maximum
ITEMS_PER_BATCH_WRITE = 25  # BatchWriteItem's maximum
BATCH_ATTEMPTS = 3


class DynamoOfferStore:
    def add_many(self, offers: list[Offer]) -> None:
        for batch in batched(offers, ITEMS_PER_BATCH_WRITE, strict=False):
            put_all([offer_item(offer) for offer in batch])

    def get(self, ride_id: str, driver_id: str) -> Offer | None:
        key = {"PK": ride_pk(ride_id), "SK": offer_sk(driver_id)}
        item = table().get_item(Key=key, ConsistentRead=True).get("Item")
        return from_item(Offer, item) if item else None

    def for_ride(self, ride_id: str) -> list[Offer]:
        return [from_item(Offer, item) for item in partition_items(ride_pk(ride_id), "OFFER#", consistent=True)]

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

    def update_many(self, changes: list[OfferChange]) -> None:
        """PartiQL UPDATEs, BatchExecuteStatement's 25 a call: unlike BatchWriteItem each statement keeps a
        condition of its own, and unlike a transaction one lost condition does not undo the others. An UPDATE
        never creates an item (its WHERE finds none: ConditionalCheckFailed), like `update`'s condition."""

        def execute(statements: list["BatchStatementRequestTypeDef"]) -> list["BatchStatementRequestTypeDef"]:
            answers = typed_client().batch_execute_statement(Statements=statements)["Responses"]
            return [s for s, a in zip(statements, answers, strict=True) if _worth_retrying(a)]

        for batch in batched(changes, STATEMENTS_PER_CALL, strict=False):
            if left := resend_leftovers(execute, [_statement(change) for change in batch], BATCH_ATTEMPTS):
                logger.warning("offer bookkeeping not written", extra={"statements": len(left)})

    def recent_for_driver(self, driver_id: str, limit: int = 20) -> list[Offer]:
        page = table().query(
            IndexName="GSI1",
            KeyConditionExpression=Key("GSI1PK").eq(driver_offers_gsi(driver_id)),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [from_item(Offer, item) for item in page.get("Items", [])]


def _statement(change: OfferChange) -> "BatchStatementRequestTypeDef":
    names = list(change.fields)
    if unknown := set(names) - set(Offer.model_fields):
        raise ValueError(f"not fields of an offer: {sorted(unknown)}")
    where = '"PK"=? AND "SK"=?' + (' AND "status"=?' if change.only_from is not None else "")
    values = [*change.fields.values(), ride_pk(change.ride_id), offer_sk(change.driver_id)]
    if change.only_from is not None:
        values.append(change.only_from)
    # One SET with commas (PartiQL's setCommand): the form both DynamoDB and moto's parser read.
    assignments = ", ".join(f'"{name}"=?' for name in names)
    return {
        # Only names are in the text, and only an Offer's own field names; every value is a parameter.
        "Statement": f'UPDATE "{table().name}" SET {assignments} WHERE {where}',  # noqa: S608
        "Parameters": [typed_value(plain(value)) for value in values],
    }


def _worth_retrying(answer: "BatchStatementResponseTypeDef") -> bool:
    """A throttled or failed statement is sent again; a lost condition is an answer, not a failure."""
    code = answer.get("Error", {}).get("Code")
    return code is not None and code not in ("ConditionalCheckFailed", "ValidationError", "ResourceNotFound")
