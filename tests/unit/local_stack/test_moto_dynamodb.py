"""The local stack's TransactWriteItems keeps moto's outcomes while backing up only the items it names."""

import copy
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models import table as table_module
from moto.dynamodb.models.table import Table

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


def test_a_query_on_the_table_key_finds_its_partition_in_order_with_conditions_filters_and_pages(client: Any) -> None:
    # Given three partitions of offers, each also on a GSI1 partition of its own
    for ride in ("r1", "r2", "r3"):
        for n in range(5):
            item = {"PK": {"S": ride}, "SK": {"S": f"OFFER#{n}"}, "n": {"N": str(n)}}
            item |= {"GSI1PK": {"S": f"G{ride}"}, "GSI1SK": {"S": f"{4 - n}"}}
            client.put_item(TableName=TABLE, Item=item)
        client.put_item(TableName=TABLE, Item={"PK": {"S": ride}, "SK": {"S": "META"}})
    offers = {":pk": {"S": "r2"}, ":offer": {"S": "OFFER#"}}
    condition = "PK = :pk AND begins_with(SK, :offer)"

    # When r2's offers are asked for newest first, two a page, odd ones only
    pages: list[list[str]] = []
    kwargs: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": condition,
        "FilterExpression": "n <> :two",
        "ExpressionAttributeValues": offers | {":two": {"N": "2"}},
        "ScanIndexForward": False,
        "Limit": 2,
    }
    while True:
        page = client.query(**kwargs)
        pages.append([i["SK"]["S"] for i in page["Items"]])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # Then they are r2's alone, in reverse key order, filtered after the limit as DynamoDB does
    assert [sk for page in pages for sk in page] == ["OFFER#4", "OFFER#3", "OFFER#1", "OFFER#0"]
    assert pages[0] == ["OFFER#4", "OFFER#3"]
    whole = client.query(
        TableName=TABLE, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": offers[":pk"]}
    )
    assert [i["SK"]["S"] for i in whole["Items"]] == ["META", *(f"OFFER#{n}" for n in range(5))]
    # And a query on an index still sees every partition's items there, in the index's order
    on_index = client.query(
        TableName=TABLE,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :g",
        ExpressionAttributeValues={":g": {"S": "Gr3"}},
    )
    assert [i["SK"]["S"] for i in on_index["Items"]] == [f"OFFER#{n}" for n in (4, 3, 2, 1, 0)]


EVERY_TYPE = {
    "text": {"S": "naïve ✓"},
    "number": {"N": "12.50"},
    "blob": {"B": b"\x00\xffraw"},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "nested": {"M": {"list": {"L": [{"S": "a"}, {"N": "1"}, {"M": {"deep": {"BOOL": False}}}]}}},
    "texts": {"SS": ["x", "y"]},
    "numbers": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"\x01", b"\x02"]},
}


def test_reads_answer_every_attribute_type_as_moto_serializer_does(client: Any) -> None:
    # Given an item with every DynamoDB type, binary ones included
    client.put_item(TableName=TABLE, Item=_key("typed") | EVERY_TYPE)

    # When it is read by GetItem, Query, Scan and BatchGetItem
    got = client.get_item(TableName=TABLE, Key=_key("typed"))["Item"]
    queried = client.query(
        TableName=TABLE, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": "typed"}}
    )
    scanned = client.scan(TableName=TABLE)["Items"]
    batch = client.batch_get_item(RequestItems={TABLE: {"Keys": [_key("typed")]}})["Responses"][TABLE]

    # Then each answers the item exactly as written (sets in any order), with counts where the API has them
    def comparable(item: dict[str, Any]) -> dict[str, Any]:
        return {k: {t: sorted(v) if t in ("SS", "NS", "BS") else v for t, v in a.items()} for k, a in item.items()}

    expected = comparable(_key("typed") | EVERY_TYPE)
    assert [comparable(i) for i in (got, queried["Items"][0], scanned[0], batch[0])] == [expected] * 4
    assert (queried["Count"], queried["ScannedCount"]) == (1, 1)


def test_an_item_over_moto_size_limit_is_refused_and_one_under_it_is_kept(client: Any) -> None:
    # Given two items: one just under moto's 405,000-byte limit (names and values counted), one just over
    under = _key("under") | {"data": {"S": "x" * (405000 - len("PKunderSKMETAdata"))}}
    over = _key("over") | {"data": {"S": "x" * (405001 - len("PKoverSKMETAdata"))}}

    # When both are put
    client.put_item(TableName=TABLE, Item=under)
    with pytest.raises(ClientError) as refused:
        client.put_item(TableName=TABLE, Item=over)

    # Then the one under is stored and the one over refused as DynamoDB refuses it, leaving nothing
    assert _item(client, "under") is not None
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "Item size has exceeded the maximum allowed size" in refused.value.response["Error"]["Message"]
    assert _item(client, "over") is None


def test_item_operations_answer_the_json_motos_serializer_wrote(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given items of every attribute type, and each answer also serialized by moto's own serializer
    from moto.dynamodb.responses import DynamoResult

    both: list[tuple[str, Any, Any]] = []

    def compared(self: DynamoResult, context: Any) -> Any:
        ours, theirs = moto_dynamodb.execute_result(self, context), moto_dynamodb._moto_execute_result(self, context)
        both.append((context.operation_model.name, ours, theirs))
        return ours

    monkeypatch.setattr(DynamoResult, "execute_result", compared)
    values = {"n": {"N": "1.5"}, "b": {"B": b"\x00\xff"}, "ss": {"SS": ["a", "b"]}, "nul": {"NULL": True}}
    values |= {"m": {"M": {"l": {"L": [{"BOOL": False}, {"NS": ["1", "2"]}, {"BS": [b"x"]}]}}}}
    # When they are written, read, queried and updated
    for sk in ("A", "B"):
        client.put_item(TableName=TABLE, Item={"PK": {"S": "p"}, "SK": {"S": sk}, **values})
    client.get_item(TableName=TABLE, Key={"PK": {"S": "p"}, "SK": {"S": "A"}})
    client.get_item(TableName=TABLE, Key={"PK": {"S": "p"}, "SK": {"S": "none"}})
    client.query(
        TableName=TABLE, KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": {"S": "p"}}, Limit=1
    )
    update = {
        "UpdateExpression": "SET n = :n",
        "ExpressionAttributeValues": {":n": {"N": "2"}},
        "ReturnValues": "ALL_OLD",
    }
    client.update_item(TableName=TABLE, Key={"PK": {"S": "p"}, "SK": {"S": "A"}}, **update)
    client.describe_table(TableName=TABLE)
    # Then every answer is moto's once parsed (DescribeTable's datetimes are still moto's serializer's to write)
    operations = ["PutItem", "PutItem", "GetItem", "GetItem", "Query", "UpdateItem", "DescribeTable"]
    assert [name for name, _, _ in both] == operations
    for name, ours, theirs in both:
        assert (ours[0], json.loads(ours[2])) == (theirs[0], json.loads(theirs[2])), name


def test_a_query_on_a_partition_answers_what_moto_answers_unpatched(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a partition written out of key order, numbers among its text keys, next to another partition
    for sk in ("OFFER#10", "META", "OFFER#9", "OFFER#2", "DRIVER#b", "DRIVER#a", "OFFER#1"):
        client.put_item(TableName=TABLE, Item={"PK": {"S": "p"}, "SK": {"S": sk}, "n": {"N": str(len(sk))}})
    client.put_item(TableName=TABLE, Item={"PK": {"S": "q"}, "SK": {"S": "OFFER#0"}})
    queries: list[dict[str, Any]] = [
        {"KeyConditionExpression": "PK = :p"},
        {"KeyConditionExpression": "PK = :p AND begins_with(SK, :o)", "ScanIndexForward": False, "Limit": 2},
        {"KeyConditionExpression": "PK = :p AND SK > :o", "FilterExpression": "n > :six", "ProjectionExpression": "SK"},
    ]
    values = {":p": {"S": "p"}, ":o": {"S": "OFFER#"}, ":six": {"N": "6"}}

    def answers() -> list[Any]:
        def used(query: dict[str, Any]) -> dict[str, Any]:
            text = " ".join(str(v) for v in query.values())
            return {name: value for name, value in values.items() if name in text}

        return [client.query(TableName=TABLE, ExpressionAttributeValues=used(q), **q) for q in queries]

    # When each query is answered by the local stack, then by moto without its Query patch
    ours = answers()
    monkeypatch.setattr(Table, "query", moto_dynamodb._moto_query)
    monkeypatch.setattr(table_module, "copy", copy)
    theirs = answers()

    # Then the answers are the same, in the same order, and in key order
    for answer in (*ours, *theirs):
        answer.pop("ResponseMetadata")
    assert ours == theirs
    assert [i["SK"]["S"] for i in ours[0]["Items"]] == sorted(
        ["OFFER#10", "META", "OFFER#9", "OFFER#2", "DRIVER#b", "DRIVER#a", "OFFER#1"]
    )
    assert [i["SK"]["S"] for i in ours[1]["Items"]] == ["OFFER#9", "OFFER#2"]
