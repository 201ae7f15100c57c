"""The local stack's TransactWriteItems keeps moto's outcomes while backing up only the items it names."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from local_stack import moto_dynamodb
from tests.fixtures import create_table_from_template

TABLE = "transactions-test"


@pytest.fixture
def client() -> Iterator[Any]:
    moto_dynamodb.install()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table_from_template(dynamodb, TABLE)
        yield dynamodb


def _key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "META"}}


def _put(pk: str, **attributes: str) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": _key(pk) | {k: {"S": v} for k, v in attributes.items()}}}


def _item(client: Any, pk: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = client.get_item(TableName=TABLE, Key=_key(pk), ConsistentRead=True).get("Item")
    return item


def test_it_is_installed_on_moto() -> None:
    moto_dynamodb.install()
    assert DynamoDBBackend.transact_write_items is moto_dynamodb.transact_write_items


def test_a_transaction_whose_conditions_hold_writes_every_item(client: Any) -> None:
    # Given an item to update
    client.put_item(TableName=TABLE, Item=_key("a") | {"status": {"S": "searching"}})

    # When a transaction updates it conditionally and puts a new item
    client.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": _key("a"),
                    "UpdateExpression": "SET #s = :new",
                    "ConditionExpression": "#s = :old",
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":new": {"S": "assigned"}, ":old": {"S": "searching"}},
                }
            },
            _put("b", status="accepted"),
        ]
    )

    # Then both are written
    assert _item(client, "a")["status"] == {"S": "assigned"}  # type: ignore[index]
    assert _item(client, "b")["status"] == {"S": "accepted"}  # type: ignore[index]


def test_a_cancelled_transaction_leaves_every_item_as_it_was(client: Any) -> None:
    # Given an existing item and a key that does not exist yet
    client.put_item(TableName=TABLE, Item=_key("a") | {"status": {"S": "searching"}, "n": {"N": "1"}})

    # When a transaction puts a new item, updates the existing one, then fails a condition on a third
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(
            TransactItems=[
                _put("new", status="accepted"),
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": _key("a"),
                        "UpdateExpression": "SET #s = :new REMOVE n",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":new": {"S": "assigned"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": _key("missing"),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )

    # Then moto's answer is unchanged, and nothing the transaction touched stays written
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert "ConditionalCheckFailed" in str(refused.value)
    assert _item(client, "new") is None
    assert _item(client, "a") == _key("a") | {"status": {"S": "searching"}, "n": {"N": "1"}}
    assert _item(client, "missing") is None


def test_a_transaction_naming_one_item_twice_is_refused_whole(client: Any) -> None:
    # Given an existing item
    client.put_item(TableName=TABLE, Item=_key("a") | {"status": {"S": "searching"}})

    # When a transaction writes it twice
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(TransactItems=[_put("a", status="one"), _put("a", status="two")])

    # Then it is refused and the item is as it was
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert _item(client, "a") == _key("a") | {"status": {"S": "searching"}}
