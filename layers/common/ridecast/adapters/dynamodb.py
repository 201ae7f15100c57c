"""The only module that talks to DynamoDB. Every state change that can race is a conditional write."""

import base64
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from ridecast.domain.entities import ApiKey, ApiPrincipal, Driver, Fleet, Offer, Ride
from ridecast.errors import DuplicatePhone, InvalidInput
from ridecast.repositories.items import (
    SEARCHING_INDEX_PK,
    api_key_pk,
    api_key_sk,
    dedupe_pk,
    driver_item,
    driver_offers_gsi,
    driver_sk,
    fleet_item,
    fleet_pk,
    fleet_rides_gsi,
    from_item,
    offer_item,
    offer_sk,
    phone_sk,
    registration_pk,
    ride_item,
    ride_pk,
    sender_pk,
    telegram_chat_sk,
    to_attributes,
)
from ridecast.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@lru_cache(maxsize=1)
def table() -> "Table":
    return boto3.resource("dynamodb").Table(get_settings().table_name)


def _is_conditional_failure(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons", [])
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)
    return False


def _plain(value: Any) -> Any:
    """A value ready for DynamoDB: pydantic models and datetimes as JSON, floats as Decimal."""
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "model_dump_json"):
        return to_attributes(value)
    if isinstance(value, float):
        from decimal import Decimal

        return Decimal(str(value))
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _update_expression(
    set_fields: dict[str, Any], remove: Iterable[str] = (), add: dict[str, int] | None = None
) -> tuple[str, dict[str, str], dict[str, Any]]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets: list[str] = []
    for i, (field, value) in enumerate(set_fields.items()):
        names[f"#s{i}"] = field
        if value is None:
            continue
        values[f":s{i}"] = _plain(value)
        sets.append(f"#s{i} = :s{i}")
    removes = [f"#s{i}" for i, (field, value) in enumerate(set_fields.items()) if value is None]
    for j, field in enumerate(remove):
        names[f"#r{j}"] = field
        removes.append(f"#r{j}")
    adds: list[str] = []
    for k, (field, amount) in enumerate((add or {}).items()):
        names[f"#a{k}"] = field
        values[f":a{k}"] = amount
        adds.append(f"#a{k} :a{k}")
    parts = []
    if sets:
        parts.append("SET " + ", ".join(sets))
    if removes:
        parts.append("REMOVE " + ", ".join(removes))
    if adds:
        parts.append("ADD " + ", ".join(adds))
    return " ".join(parts), names, values


# ----- fleets and keys -------------------------------------------------------------------------


def _api_key_puts(key: ApiKey, key_hash: str) -> list[Any]:
    """A key is stored twice: by hash (what the authorizer looks up) and under its fleet (to list and revoke)."""
    name = table().name
    attributes = to_attributes(key)
    return [
        {
            "Put": {
                "TableName": name,
                "Item": {"PK": api_key_pk(key_hash), "SK": "META", "item_type": "api_key", **attributes},
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
        {
            "Put": {
                "TableName": name,
                "Item": {
                    "PK": fleet_pk(key.fleet_id),
                    "SK": api_key_sk(key.key_id),
                    "item_type": "api_key_ref",
                    "key_hash": key_hash,
                    **attributes,
                },
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
    ]


def create_fleet(fleet: Fleet, admin_key: ApiKey, key_hash: str) -> None:
    table().meta.client.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": table().name,
                    "Item": fleet_item(fleet),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            *_api_key_puts(admin_key, key_hash),
        ]
    )


def put_api_key(key: ApiKey, key_hash: str) -> None:
    table().meta.client.transact_write_items(TransactItems=_api_key_puts(key, key_hash))


def list_api_keys(fleet_id: str) -> list[ApiKey]:
    return [
        from_item(ApiKey, {k: v for k, v in item.items() if k != "key_hash"})
        for item in _query_all(
            KeyConditionExpression=Key("PK").eq(fleet_pk(fleet_id)) & Key("SK").begins_with("APIKEY#")
        )
    ]


def revoke_api_key(fleet_id: str, key_id: str, at: datetime) -> ApiKey | None:
    ref_key = {"PK": fleet_pk(fleet_id), "SK": api_key_sk(key_id)}
    ref = table().get_item(Key=ref_key, ConsistentRead=True).get("Item")
    if ref is None:
        return None
    keys = [ref_key, {"PK": api_key_pk(str(ref["key_hash"])), "SK": "META"}]
    table().meta.client.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table().name,
                    "Key": key,
                    "UpdateExpression": "SET revoked_at = if_not_exists(revoked_at, :t)",
                    "ExpressionAttributeValues": {":t": at.isoformat()},
                }
            }
            for key in keys
        ]
    )
    ref = table().get_item(Key=ref_key, ConsistentRead=True)["Item"]
    return from_item(ApiKey, {k: v for k, v in ref.items() if k != "key_hash"})


def get_api_key(key_hash: str) -> ApiPrincipal | None:
    item = table().get_item(Key={"PK": api_key_pk(key_hash), "SK": "META"}).get("Item")
    if not item or item.get("revoked_at"):
        return None
    return ApiPrincipal(kind="fleet", fleet_id=str(item["fleet_id"]), role=item["role"], key_id=str(item["key_id"]))


def get_fleet(fleet_id: str) -> Fleet | None:
    item = table().get_item(Key={"PK": fleet_pk(fleet_id), "SK": "META"}).get("Item")
    return from_item(Fleet, item) if item else None


def put_fleet(fleet: Fleet) -> None:
    table().put_item(Item=fleet_item(fleet), ConditionExpression="attribute_exists(PK)")


def next_ride_sequence(fleet_id: str) -> int:
    answer = table().update_item(
        Key={"PK": fleet_pk(fleet_id), "SK": "COUNTER#RIDES"},
        UpdateExpression="ADD #v :one",
        ExpressionAttributeNames={"#v": "value"},
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )
    return int(answer["Attributes"]["value"])  # type: ignore[arg-type]


# ----- drivers -----------------------------------------------------------------------------------


def _phone_guard_put(table_name: str, driver: Driver) -> Any:
    """One driver per phone per fleet: the guard item a driver's transaction must be able to create."""
    return {
        "Put": {
            "TableName": table_name,
            "Item": {
                "PK": fleet_pk(driver.fleet_id),
                "SK": phone_sk(driver.phone),
                "item_type": "driver_phone",
                "driver_id": driver.driver_id,
            },
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def create_driver(driver: Driver) -> None:
    client = table().meta.client
    name = table().name
    try:
        client.transact_write_items(
            TransactItems=[
                _phone_guard_put(name, driver),
                {
                    "Put": {
                        "TableName": name,
                        "Item": driver_item(driver),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
    except ClientError as error:
        if _is_conditional_failure(error):
            raise DuplicatePhone(f"a driver with phone {driver.phone} already exists in this fleet") from error
        raise


def replace_driver(previous: Driver, driver: Driver) -> None:
    """Save an edited driver; a phone change moves the uniqueness guard in the same transaction."""
    if previous.phone == driver.phone:
        table().put_item(Item=driver_item(driver), ConditionExpression="attribute_exists(PK)")
        return
    name = table().name
    try:
        table().meta.client.transact_write_items(
            TransactItems=[
                _phone_guard_put(name, driver),
                {
                    "Delete": {
                        "TableName": name,
                        "Key": {"PK": fleet_pk(driver.fleet_id), "SK": phone_sk(previous.phone)},
                    }
                },
                {"Put": {"TableName": name, "Item": driver_item(driver)}},
            ]
        )
    except ClientError as error:
        if _is_conditional_failure(error):
            raise DuplicatePhone(f"a driver with phone {driver.phone} already exists in this fleet") from error
        raise


def get_driver(fleet_id: str, driver_id: str) -> Driver | None:
    item = table().get_item(Key={"PK": fleet_pk(fleet_id), "SK": driver_sk(driver_id)}).get("Item")
    return from_item(Driver, item) if item else None


def find_driver_by_phone(fleet_id: str, phone: str) -> Driver | None:
    guard = table().get_item(Key={"PK": fleet_pk(fleet_id), "SK": phone_sk(phone)}).get("Item")
    return get_driver(fleet_id, str(guard["driver_id"])) if guard else None


def list_drivers(fleet_id: str) -> list[Driver]:
    return [
        from_item(Driver, item)
        for item in _query_all(
            KeyConditionExpression=Key("PK").eq(fleet_pk(fleet_id)) & Key("SK").begins_with("DRIVER#")
        )
    ]


def touch_driver(fleet_id: str, driver_id: str, seen_at: datetime, *, via_whatsapp: bool = False) -> None:
    expression = "SET last_seen_at = :t" + (", last_whatsapp_inbound_at = :t" if via_whatsapp else "")
    table().update_item(
        Key={"PK": fleet_pk(fleet_id), "SK": driver_sk(driver_id)},
        UpdateExpression=expression,
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues={":t": seen_at.isoformat()},
    )


# ----- rides -------------------------------------------------------------------------------------


def put_new_ride(ride: Ride) -> None:
    table().put_item(Item=ride_item(ride), ConditionExpression="attribute_not_exists(PK)")


def get_ride(ride_id: str) -> Ride | None:
    item = table().get_item(Key={"PK": ride_pk(ride_id), "SK": "META"}, ConsistentRead=True).get("Item")
    return from_item(Ride, item) if item else None


def transition_ride(ride: Ride, to_status: str, **fields: Any) -> Ride | None:
    """Move a ride out of the status and version it was read at; None when someone else moved first.

    The answer keeps `task_token`: whoever wins the transition completes the waiting execution with it.
    """
    expression, names, values = _update_expression(
        {"status": to_status, **fields}, remove=("GSI2PK", "GSI2SK"), add={"version": 1}
    )
    names["#from_status"] = "status"
    names["#version"] = "version"
    values[":from_status"] = ride.status
    values[":expected_version"] = ride.version
    condition = "#from_status = :from_status AND #version = :expected_version"
    return _update_ride_if(ride.ride_id, expression, condition, names, values)


def update_searching_ride(
    ride_id: str, set_fields: dict[str, Any] | None = None, add: dict[str, int] | None = None
) -> Ride | None:
    """Change bookkeeping of a ride that is still searching (no version bump: accepts stay valid)."""
    expression, names, values = _update_expression(set_fields or {}, add=add)
    names["#status"] = "status"
    values[":searching"] = "searching"
    return _update_ride_if(ride_id, expression, "#status = :searching", names, values)


def _update_ride_if(
    ride_id: str, expression: str, condition: str, names: dict[str, str], values: dict[str, Any]
) -> Ride | None:
    """The ride after the update, or None when `condition` no longer held (someone else changed it first)."""
    try:
        answer = table().update_item(
            Key={"PK": ride_pk(ride_id), "SK": "META"},
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if _is_conditional_failure(error):
            return None
        raise
    return from_item(Ride, answer["Attributes"])


def add_to_ride(ride_id: str, add: dict[str, int]) -> None:
    expression, names, values = _update_expression({}, add=add)
    try:
        table().update_item(
            Key={"PK": ride_pk(ride_id), "SK": "META"},
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        if not _is_conditional_failure(error):
            raise


def mark_escalated(ride_id: str, at: datetime) -> bool:
    """True for exactly one caller per ride: early escalation goes out once."""
    try:
        table().update_item(
            Key={"PK": ride_pk(ride_id), "SK": "META"},
            UpdateExpression="SET escalated_at = :t",
            ConditionExpression="attribute_exists(PK) AND attribute_not_exists(escalated_at)",
            ExpressionAttributeValues={":t": at.isoformat()},
        )
    except ClientError as error:
        if _is_conditional_failure(error):
            return False
        raise
    return True


def _encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, default=str).encode()).decode()


def _decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput("next: not a cursor returned by this API", field="next") from error
    if not isinstance(key, dict) or set(key) != {"PK", "SK", "GSI1PK", "GSI1SK"}:
        raise InvalidInput("next: not a cursor returned by this API", field="next")
    return key


def list_rides(
    fleet_id: str, status: str | None, since: datetime | None, limit: int, cursor: str | None
) -> tuple[list[Ride], str | None]:
    condition: Any = Key("GSI1PK").eq(fleet_rides_gsi(fleet_id))
    if since is not None:
        # Keys hold UTC ISO-8601 strings: compare like with like (a naive time is taken as UTC).
        since_utc = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
        condition = condition & Key("GSI1SK").gte(since_utc.isoformat())
    start_key = _decode_cursor(cursor)
    if start_key and start_key["GSI1PK"] != fleet_rides_gsi(fleet_id):
        raise InvalidInput("next: not a cursor returned by this API", field="next")
    rides: list[Ride] = []
    kwargs: dict[str, Any] = {
        "IndexName": "GSI1",
        "KeyConditionExpression": condition,
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if status:
        kwargs["FilterExpression"] = Attr("status").eq(status)
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


def rides_searching_past(deadline: datetime) -> list[str]:
    """Ids of rides still searching after `deadline` (the sparse GSI2 holds keys only: it stays cheap)."""
    return [
        str(item["PK"]).removeprefix("RIDE#")
        for item in _query_all(
            IndexName="GSI2",
            KeyConditionExpression=Key("GSI2PK").eq(SEARCHING_INDEX_PK) & Key("GSI2SK").lt(deadline.isoformat()),
        )
    ]


# ----- offers ------------------------------------------------------------------------------------


# Items per BatchWriteItem call, DynamoDB's maximum.
BATCH_WRITE_LIMIT = 25


def put_offers(offers: list[Offer]) -> None:
    # batch_writer sends BATCH_WRITE_LIMIT items per call and resends what DynamoDB left unprocessed.
    with table().batch_writer() as batch:
        for offer in offers:
            batch.put_item(Item=offer_item(offer))


def get_offer(ride_id: str, driver_id: str) -> Offer | None:
    item = table().get_item(Key={"PK": ride_pk(ride_id), "SK": offer_sk(driver_id)}, ConsistentRead=True).get("Item")
    return from_item(Offer, item) if item else None


def list_offers(ride_id: str) -> list[Offer]:
    return [
        from_item(Offer, item)
        for item in _query_all(
            KeyConditionExpression=Key("PK").eq(ride_pk(ride_id)) & Key("SK").begins_with("OFFER#"),
            ConsistentRead=True,
        )
    ]


def update_offer(ride_id: str, driver_id: str, from_statuses: Iterable[str] | None, **fields: Any) -> Offer | None:
    """Update an offer if it is still in one of `from_statuses` (any status when None)."""
    expression, names, values = _update_expression(fields)
    kwargs: dict[str, Any] = {
        "Key": {"PK": ride_pk(ride_id), "SK": offer_sk(driver_id)},
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
        "ReturnValues": "ALL_NEW",
    }
    condition = "attribute_exists(PK)"
    if from_statuses is not None:
        allowed = sorted(from_statuses)
        names["#current_status"] = "status"
        placeholders = []
        for i, status in enumerate(allowed):
            values[f":from{i}"] = status
            placeholders.append(f":from{i}")
        condition += f" AND #current_status IN ({', '.join(placeholders)})"
    kwargs["ConditionExpression"] = condition
    if values:
        kwargs["ExpressionAttributeValues"] = values
    try:
        answer = table().update_item(**kwargs)
    except ClientError as error:
        if _is_conditional_failure(error):
            return None
        raise
    return from_item(Offer, answer["Attributes"])


def _query_all(**kwargs: Any) -> Iterator[dict[str, Any]]:
    while True:
        page = table().query(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# ----- channels: senders, Telegram chats, registration tokens, webhook deliveries ------------------


def claim_senders(fleet_id: str, phones: Iterable[str]) -> list[str]:
    """Point each Twilio sender at this fleet; returns the senders another fleet already owns."""
    taken = []
    for phone in phones:
        try:
            table().put_item(
                Item={"PK": sender_pk(phone), "SK": "META", "item_type": "sender", "fleet_id": fleet_id},
                ConditionExpression="attribute_not_exists(PK) OR fleet_id = :fleet",
                ExpressionAttributeValues={":fleet": fleet_id},
            )
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise
            taken.append(phone)
    return taken


def fleet_for_sender(phone: str) -> str | None:
    item = table().get_item(Key={"PK": sender_pk(phone), "SK": "META"}).get("Item")
    return str(item["fleet_id"]) if item else None


def bind_telegram_chat(driver: Driver, chat_id: str) -> Driver:
    bound = driver.model_copy(update={"telegram_chat_id": chat_id})
    name = table().name
    items: list[Any] = [
        {
            "Put": {
                "TableName": name,
                "Item": {
                    "PK": fleet_pk(driver.fleet_id),
                    "SK": telegram_chat_sk(chat_id),
                    "item_type": "telegram_chat",
                    "driver_id": driver.driver_id,
                },
            }
        },
        {"Put": {"TableName": name, "Item": driver_item(bound)}},
    ]
    if driver.telegram_chat_id and driver.telegram_chat_id != chat_id:
        items.append(
            {
                "Delete": {
                    "TableName": name,
                    "Key": {"PK": fleet_pk(driver.fleet_id), "SK": telegram_chat_sk(driver.telegram_chat_id)},
                }
            }
        )
    table().meta.client.transact_write_items(TransactItems=items)
    return bound


def find_driver_by_chat(fleet_id: str, chat_id: str) -> Driver | None:
    guard = table().get_item(Key={"PK": fleet_pk(fleet_id), "SK": telegram_chat_sk(chat_id)}).get("Item")
    return get_driver(fleet_id, str(guard["driver_id"])) if guard else None


def put_registration(token: str, fleet_id: str, driver_id: str, expires_at: datetime) -> None:
    table().put_item(
        Item={
            "PK": registration_pk(token),
            "SK": "META",
            "item_type": "telegram_registration",
            "fleet_id": fleet_id,
            "driver_id": driver_id,
            "expires_at": int(expires_at.timestamp()),
        },
        ConditionExpression="attribute_not_exists(PK)",
    )


def consume_registration(token: str, fleet_id: str, now: datetime) -> str | None:
    """The driver id behind a registration token, deleting it so it works once; None if unknown or expired."""
    try:
        answer = table().delete_item(
            Key={"PK": registration_pk(token), "SK": "META"},
            ConditionExpression="attribute_exists(PK) AND fleet_id = :fleet AND expires_at > :now",
            ExpressionAttributeValues={":fleet": fleet_id, ":now": int(now.timestamp())},
            ReturnValues="ALL_OLD",
        )
    except ClientError as error:
        if _is_conditional_failure(error):
            return None
        raise
    return str(answer["Attributes"]["driver_id"])


def claim_delivery(source: str, delivery_id: str, expires_at: datetime) -> bool:
    """True the first time a webhook delivery is seen (atomic), False for a replay."""
    try:
        table().put_item(
            Item={
                "PK": dedupe_pk(source, delivery_id),
                "SK": "META",
                "item_type": "delivery",
                "expires_at": int(expires_at.timestamp()),
            },
            ConditionExpression="attribute_not_exists(PK)",
        )
    except ClientError as error:
        if _is_conditional_failure(error):
            return False
        raise
    return True


def release_delivery(source: str, delivery_id: str) -> None:
    """Forget a delivery whose processing failed, so the provider's retry is processed."""
    table().delete_item(Key={"PK": dedupe_pk(source, delivery_id), "SK": "META"})


def recent_offers_for_driver(driver_id: str, limit: int = 20) -> list[Offer]:
    page = table().query(
        IndexName="GSI1",
        KeyConditionExpression=Key("GSI1PK").eq(driver_offers_gsi(driver_id)),
        ScanIndexForward=False,
        Limit=limit,
    )
    return [from_item(Offer, item) for item in page.get("Items", [])]
