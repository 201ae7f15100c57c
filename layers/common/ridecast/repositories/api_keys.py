"""API keys: stored twice, by hash (what the authorizer looks up) and under their fleet (to list and revoke)."""

from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key

from ridecast.domain.entities import ApiKey, ApiPrincipal
from ridecast.repositories.items import api_key_pk, api_key_sk, fleet_pk, from_item, to_attributes
from ridecast.repositories.table import client, query_all, table


def api_key_puts(key: ApiKey, key_hash: str) -> list[Any]:
    """The two items of a key, as transaction parts (a fleet's creation writes its first key with it)."""
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


def _key_of_ref(item: dict[str, Any]) -> ApiKey:
    return from_item(ApiKey, {k: v for k, v in item.items() if k != "key_hash"})


class DynamoApiKeyStore:
    def add(self, key: ApiKey, key_hash: str) -> None:
        client().transact_write_items(TransactItems=api_key_puts(key, key_hash))

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
        keys = [ref_key, {"PK": api_key_pk(str(ref["key_hash"])), "SK": "META"}]
        client().transact_write_items(
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
        return _key_of_ref(table().get_item(Key=ref_key, ConsistentRead=True)["Item"])

    def principal_for(self, key_hash: str) -> ApiPrincipal | None:
        item = table().get_item(Key={"PK": api_key_pk(key_hash), "SK": "META"}).get("Item")
        if not item or item.get("revoked_at"):
            return None
        return ApiPrincipal(kind="fleet", fleet_id=str(item["fleet_id"]), role=item["role"], key_id=str(item["key_id"]))
