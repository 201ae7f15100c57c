"""API keys: stored twice, by hash (what the authorizer looks up) and under their fleet (to list and revoke).

A fleet keeps at least one admin key (SPEC §11): a per-fleet counter of active admin keys
(`FLEET#<fleet>` / `COUNTER#ADMIN_KEYS`) moves in the same transaction as every admin key added or revoked,
and a revocation is conditional on it staying above zero, so two admins revoking the last two keys at once
cannot both win."""

from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from ridecast.domain.entities import ApiKey, ApiPrincipal
from ridecast.errors import LastAdminKey
from ridecast.repositories.items import api_key_pk, api_key_sk, fleet_pk, from_item, to_attributes
from ridecast.repositories.table import client, conditionally, query_all, table

ADMIN_KEYS_COUNTER_SK = "COUNTER#ADMIN_KEYS"


def _admin_counter_key(fleet_id: str) -> dict[str, str]:
    return {"PK": fleet_pk(fleet_id), "SK": ADMIN_KEYS_COUNTER_SK}


def _count_admin_keys(fleet_id: str, by: int, condition: str | None = None) -> dict[str, Any]:
    update: dict[str, Any] = {
        "TableName": table().name,
        "Key": _admin_counter_key(fleet_id),
        "UpdateExpression": "ADD active :by",
        "ExpressionAttributeValues": {":by": by},
    }
    if condition:
        update["ConditionExpression"] = condition
        update["ExpressionAttributeValues"][":one"] = 1
    return {"Update": update}


def api_key_puts(key: ApiKey, key_hash: str) -> list[Any]:
    """The two items of a key, as transaction parts (a fleet's creation writes its first key with it)."""
    name = table().name
    attributes = to_attributes(key)
    counted = [_count_admin_keys(key.fleet_id, 1)] if key.role == "admin" else []
    return [
        *counted,
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


def _key_of_ref(item: dict[str, Any]) -> ApiKey:
    return from_item(ApiKey, {k: v for k, v in item.items() if k != "key_hash"})


class DynamoApiKeyStore:
    def add(self, key: ApiKey, key_hash: str) -> None:
        if key.role == "admin":
            self._ensure_admin_counter(key.fleet_id)
        client().transact_write_items(TransactItems=api_key_puts(key, key_hash))

    def _ensure_admin_counter(self, fleet_id: str) -> None:
        """Fleets created before the counter get it once, counted from their keys (first writer wins)."""
        if table().get_item(Key=_admin_counter_key(fleet_id), ConsistentRead=True).get("Item"):
            return
        active = sum(1 for k in self.for_fleet(fleet_id) if k.role == "admin" and k.revoked_at is None)
        conditionally(
            lambda: table().put_item(
                Item={**_admin_counter_key(fleet_id), "item_type": "counter", "active": active},
                ConditionExpression="attribute_not_exists(PK)",
            )
        )

    def for_fleet(self, fleet_id: str) -> list[ApiKey]:
        return [
            _key_of_ref(item)
            for item in query_all(
                KeyConditionExpression=Key("PK").eq(fleet_pk(fleet_id)) & Key("SK").begins_with("APIKEY#")
            )
        ]

    def revoke(self, fleet_id: str, key_id: str, at: datetime) -> ApiKey | None:
        ref_key = {"PK": fleet_pk(fleet_id), "SK": api_key_sk(key_id)}
        ref = table().get_item(Key=ref_key, ConsistentRead=True).get("Item")
        if ref is None:
            return None
        if ref.get("revoked_at"):
            return _key_of_ref(ref)  # revoked before: the first revocation time stays
        is_admin = ref.get("role") == "admin"
        if is_admin:
            self._ensure_admin_counter(fleet_id)
        keys = [ref_key, {"PK": api_key_pk(str(ref["key_hash"])), "SK": "META"}]
        revocation: list[Any] = [
            {
                "Update": {
                    "TableName": table().name,
                    "Key": key,
                    "UpdateExpression": "SET revoked_at = :t",
                    # Only one revocation of a key counts (and moves the admin counter).
                    "ConditionExpression": "attribute_not_exists(revoked_at)",
                    "ExpressionAttributeValues": {":t": at.isoformat()},
                }
            }
            for key in keys
        ]
        counted: list[Any] = [_count_admin_keys(fleet_id, -1, condition="active > :one")] if is_admin else []
        if conditionally(lambda: client().transact_write_items(TransactItems=[*revocation, *counted])) is None:
            current = table().get_item(Key=ref_key, ConsistentRead=True)["Item"]
            if not current.get("revoked_at"):
                raise LastAdminKey("a fleet keeps at least one admin key: issue another admin key first")
        return _key_of_ref(table().get_item(Key=ref_key, ConsistentRead=True)["Item"])

    def is_revoked(self, fleet_id: str, key_id: str) -> bool:
        ref = (
            table().get_item(Key={"PK": fleet_pk(fleet_id), "SK": api_key_sk(key_id)}, ConsistentRead=True).get("Item")
        )
        return bool(ref and ref.get("revoked_at"))

    def principal_for(self, key_hash: str) -> ApiPrincipal | None:
        item = table().get_item(Key={"PK": api_key_pk(key_hash), "SK": "META"}).get("Item")
        if not item or item.get("revoked_at"):
            return None
        return ApiPrincipal(kind="fleet", fleet_id=str(item["fleet_id"]), role=item["role"], key_id=str(item["key_id"]))
