"""ridecast.repositories.wire: the typed client hands attribute values through, and says exactly what botocore's
own serializer and parser say (compared with them here), through to what the repositories read back."""

import base64
import json
from decimal import Decimal
from typing import Any

import pytest
from botocore.parsers import JSONParser
from botocore.serialize import JSONSerializer

from ridecast.repositories import table
from ridecast.repositories.wire import AttributeValuesAsAnswered, AttributeValuesAsTheyAre
from tests.unit.conftest import AwsStack

# Every kind of value a repository writes, nested the ways Ridecast nests them.
ITEM: dict[str, Any] = {
    "PK": "RIDE#r1",
    "SK": "OFFER#d1",
    "text": "Zoë's ride — 1 Main St",
    "count": 3,
    "price": Decimal("12.50"),
    "flag": True,
    "off": False,
    "nothing": None,
    "location": {"lat": Decimal("51.5"), "lng": Decimal("-0.12"), "label": {"en": "home"}},
    "history": ["a", Decimal("1"), {"x": [True, None]}],
    "tags": {"b", "a"},
    "counts": {Decimal("1"), Decimal("2")},
    "empty_map": {},
    "empty_list": [],
}


def _operation(name: str) -> Any:
    return table.typed_client().meta.service_model.operation_model(name)


def test_a_batch_write_body_is_byte_for_byte_botocores(aws: AwsStack) -> None:
    # Given a batch of typed items, When the typed client's serializer and botocore's own serialize it
    params = {"RequestItems": {aws.table_name: [{"PutRequest": {"Item": table.typed(ITEM)}}] * 3}}
    operation = _operation("BatchWriteItem")
    ours = AttributeValuesAsTheyAre().serialize_to_request(params, operation)
    botocores = JSONSerializer().serialize_to_request(params, operation)
    # Then the request is the same, body and headers
    assert ours["body"] == botocores["body"]
    assert ours["headers"] == botocores["headers"]


def test_a_query_answer_is_what_botocore_parses(aws: AwsStack) -> None:
    # Given DynamoDB's answer to a query, as it writes it
    items = [table.typed(ITEM), table.typed({**ITEM, "SK": "OFFER#d2"})]
    body = json.dumps({"Items": items, "Count": 2, "ScannedCount": 2, "LastEvaluatedKey": items[0]}).encode()
    answer = {"body": body, "headers": {"x-amzn-requestid": "r"}, "status_code": 200}
    shape = _operation("Query").output_shape
    # When both parsers read it, Then they give the same answer, items, keys and metadata
    assert AttributeValuesAsAnswered().parse(answer, shape) == JSONParser().parse(answer, shape)


def test_an_answer_that_may_hold_binary_values_is_parsed_the_models_way(aws: AwsStack) -> None:
    # Given an answer with a binary attribute (base64 on the wire, bytes once parsed)
    item = {"PK": {"S": "X"}, "blob": {"B": base64.b64encode(b"\x00\x01").decode()}, "set": {"BS": ["AAE="]}}
    answer = {"body": json.dumps({"Item": item}).encode(), "headers": {}, "status_code": 200}
    shape = _operation("GetItem").output_shape
    # When the typed client's parser reads it
    parsed = AttributeValuesAsAnswered().parse(answer, shape)
    # Then the binary values are decoded as botocore decodes them
    assert parsed == JSONParser().parse(answer, shape)
    assert parsed["Item"]["blob"] == {"B": b"\x00\x01"}


def test_an_item_with_a_binary_value_is_refused_not_sent_half_encoded(aws: AwsStack) -> None:
    # Given an item with bytes in it (Ridecast stores none), When it is written on the typed client
    # Then json refuses it before anything is sent, and nothing is written
    with pytest.raises(TypeError, match="not JSON serializable"):
        table.put_all([{"PK": "X", "SK": "1", "blob": b"\x00"}])
    assert aws.raw_item("X", "1") is None


def test_items_written_and_read_on_the_typed_client_are_the_tables_own(aws: AwsStack) -> None:
    # Given items written by put_all (the typed client)
    table.put_all([ITEM, {**ITEM, "SK": "OFFER#d2"}, {"PK": "RIDE#r1", "SK": "OTHER#1"}])
    # When they are read back both ways: the resource's table, and partition_items on the typed client
    by_resource = list(table.query_all(KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": "RIDE#r1"}))
    by_typed_client = list(table.partition_items("RIDE#r1", "OFFER#"))
    # Then the typed client reads exactly what the resource reads, only the items under the prefix
    assert by_typed_client == [item for item in by_resource if item["SK"].startswith("OFFER#")]
    assert by_typed_client[0] == ITEM


def test_the_typed_client_writes_and_reads_through_the_pass_through_walks(
    aws: AwsStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a watch on the pass-through serializer and parser (botocore's endpoint makes a parser per answer)
    used: list[str] = []
    serialize, parse = AttributeValuesAsTheyAre._serialize, AttributeValuesAsAnswered._parse_shape
    monkeypatch.setattr(AttributeValuesAsTheyAre, "_serialize", lambda *a: used.append("serializer") or serialize(*a))
    monkeypatch.setattr(AttributeValuesAsAnswered, "_parse_shape", lambda *a: used.append("parser") or parse(*a))
    # When items are written and read on the typed client
    table.put_all([ITEM])
    assert list(table.partition_items("RIDE#r1", "OFFER#")) == [ITEM]
    # Then both walks were the pass-through ones
    assert set(used) == {"serializer", "parser"}


def test_partition_items_follows_every_page(aws: AwsStack) -> None:
    # Given more items under one prefix than one page of DynamoDB's answer holds (1 MB)
    padding = "x" * 30_000
    table.put_all([{"PK": "FLEET#f", "SK": f"DRIVER#{i:03d}", "padding": padding} for i in range(25)])
    table.put_all([{"PK": "FLEET#f", "SK": f"DRIVER#{i:03d}", "padding": padding} for i in range(25, 50)])
    # When they are read, Then every one comes back, in key order
    read = [item["SK"] for item in table.partition_items("FLEET#f", "DRIVER#")]
    assert read == [f"DRIVER#{i:03d}" for i in range(50)]
