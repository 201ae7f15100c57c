"""Drivers, with two guard items under their fleet: one per phone (a phone drives once per fleet) and
one per Telegram chat (inbound messages find their driver)."""

from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from ridecast.domain.entities import Driver, GeoPoint
from ridecast.errors import ChatAlreadyBound, DriverNotFound, DuplicatePhone
from ridecast.repositories.items import (
    driver_item,
    driver_sk,
    fleet_pk,
    from_item,
    phone_sk,
    telegram_chat_sk,
    to_attributes,
)
from ridecast.repositories.table import client, conditionally, partition_items, query_all, table


def _phone_guard_put(table_name: str, driver: Driver) -> Any:
    """The guard item a driver's transaction must be able to create."""
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


def _duplicate_phone(driver: Driver) -> DuplicatePhone:
    return DuplicatePhone(f"a driver with phone {driver.phone} already exists in this fleet")


class DynamoDriverStore:
    def create(self, driver: Driver) -> None:
        name = table().name
        items: list[Any] = [
            _phone_guard_put(name, driver),
            {
                "Put": {
                    "TableName": name,
                    "Item": driver_item(driver),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
        if conditionally(lambda: client().transact_write_items(TransactItems=items)) is None:
            raise _duplicate_phone(driver)

    def replace(self, previous: Driver, driver: Driver) -> None:
        if previous.phone == driver.phone:
            saved = conditionally(
                lambda: table().put_item(Item=driver_item(driver), ConditionExpression="attribute_exists(PK)")
            )
            if saved is None:
                raise DriverNotFound(f"driver {driver.driver_id} not found")
            return
        # A phone change moves the uniqueness guard in the same transaction as the driver.
        name = table().name
        items: list[Any] = [
            _phone_guard_put(name, driver),
            {"Delete": {"TableName": name, "Key": {"PK": fleet_pk(driver.fleet_id), "SK": phone_sk(previous.phone)}}},
            {"Put": {"TableName": name, "Item": driver_item(driver)}},
        ]
        if conditionally(lambda: client().transact_write_items(TransactItems=items)) is None:
            raise _duplicate_phone(driver)

    def get(self, fleet_id: str, driver_id: str) -> Driver | None:
        item = table().get_item(Key={"PK": fleet_pk(fleet_id), "SK": driver_sk(driver_id)}).get("Item")
        return from_item(Driver, item) if item else None

    def find_by_phone(self, fleet_id: str, phone: str) -> Driver | None:
        return self._behind_guard(fleet_id, phone_sk(phone))

    def find_by_chat(self, fleet_id: str, chat_id: str) -> Driver | None:
        return self._behind_guard(fleet_id, telegram_chat_sk(chat_id))

    def _behind_guard(self, fleet_id: str, guard_sk: str) -> Driver | None:
        guard = table().get_item(Key={"PK": fleet_pk(fleet_id), "SK": guard_sk}).get("Item")
        return self.get(fleet_id, str(guard["driver_id"])) if guard else None

    def for_fleet(self, fleet_id: str) -> list[Driver]:
        # A broadcast's first read, of every driver: on the typed client.
        return [from_item(Driver, item) for item in partition_items(fleet_pk(fleet_id), "DRIVER#")]

    def names(self, fleet_id: str) -> dict[str, str]:
        # Two attributes of each driver, not its ~15: DynamoDB bills bytes read, moto's answer costs per value.
        items = query_all(
            KeyConditionExpression=Key("PK").eq(fleet_pk(fleet_id)) & Key("SK").begins_with("DRIVER#"),
            ProjectionExpression="driver_id, #name",
            ExpressionAttributeNames={"#name": "name"},
        )
        return {str(item["driver_id"]): str(item["name"]) for item in items}

    def touch(self, fleet_id: str, driver_id: str, seen_at: datetime, *, via_whatsapp: bool = False) -> None:
        expression = "SET last_seen_at = :t" + (", last_whatsapp_inbound_at = :t" if via_whatsapp else "")
        touched = conditionally(
            lambda: table().update_item(
                Key={"PK": fleet_pk(fleet_id), "SK": driver_sk(driver_id)},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":t": seen_at.isoformat()},
            )
        )
        if touched is None:
            raise DriverNotFound(f"driver {driver_id} not found")

    def locate(self, fleet_id: str, driver_id: str, location: GeoPoint, seen_at: datetime) -> None:
        # One update, not a read and a put: a live location arrives every few seconds, alongside other writes.
        seen = seen_at.isoformat()
        located = conditionally(
            lambda: table().update_item(
                Key={"PK": fleet_pk(fleet_id), "SK": driver_sk(driver_id)},
                UpdateExpression="SET #location = :l, location_at = :t, last_seen_at = :t",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#location": "location"},
                ExpressionAttributeValues={":l": to_attributes(location), ":t": seen},
            )
        )
        if located is None:
            raise DriverNotFound(f"driver {driver_id} not found")

    def bind_telegram_chat(self, driver: Driver, chat_id: str) -> Driver:
        """The chat now finds this driver; a chat the driver had before stops finding them. A chat bound to
        another driver stays theirs: ChatAlreadyBound (conditional, so two /start at once bind one)."""
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
                    "ConditionExpression": "attribute_not_exists(PK) OR driver_id = :driver",
                    "ExpressionAttributeValues": {":driver": driver.driver_id},
                }
            },
            {"Put": {"TableName": name, "Item": driver_item(bound)}},
        ]
        if driver.telegram_chat_id and driver.telegram_chat_id != chat_id:
            old_chat = {"PK": fleet_pk(driver.fleet_id), "SK": telegram_chat_sk(driver.telegram_chat_id)}
            items.append({"Delete": {"TableName": name, "Key": old_chat}})
        if conditionally(lambda: client().transact_write_items(TransactItems=items)) is None:
            raise ChatAlreadyBound(f"telegram chat {chat_id} is bound to another driver")
        return bound
