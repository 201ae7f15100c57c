"""bench/emulator_moto.py: the AWS emulator reads DynamoDB requests with readers built once per shape (what moto's own
parser reads, in the same order, failing where it fails; moto then answers as it would, malformed requests too), and
sizes items as moto does."""

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.parse import JSONParser
from moto.core.responses import BaseResponse
from moto.core.utils import get_service_model
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.responses import DynamoHandler

from bench import emulator_moto
from local_stack import moto_dynamodb
from tests.fixtures import create_table_from_template

TABLE = "parsing-test"
B64 = base64.b64encode(b"\x00\xffraw").decode()
EVERY_TYPE = {"s": {"S": "naïve"}, "n": {"N": "12.50"}, "b": {"B": B64}, "bool": {"BOOL": False}, "nul": {"NULL": True}}
EVERY_TYPE |= {"ss": {"SS": ["x"]}, "ns": {"NS": ["1"]}, "bs": {"BS": [B64]}}
EVERY_TYPE |= {"m": {"M": {"l": {"L": [{"S": "a"}, {"B": B64}, {"M": {"deep": {"BS": [B64]}}}]}}}}
KEY = {"PK": {"S": "p"}, "SK": {"S": "s"}}

REQUESTS = [
    # As Ridecast sends them: batches of typed items, pages of a partition, transactions, PartiQL
    ("BatchWriteItem", {"RequestItems": {TABLE: [{"PutRequest": {"Item": KEY | EVERY_TYPE}}] * 3}}),
    ("BatchWriteItem", {"RequestItems": {TABLE: [{"DeleteRequest": {"Key": KEY}}]}, "ReturnConsumedCapacity": "TOTAL"}),
    (
        "Query",
        {"TableName": TABLE, "KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": {"S": "p"}}},
    ),
    ("Query", {"TableName": TABLE, "Limit": 5, "ScanIndexForward": False, "ExclusiveStartKey": {"PK": {"B": B64}}}),
    ("UpdateItem", {"Key": KEY, "UpdateExpression": "ADD c :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}),
    ("TransactWriteItems", {"TransactItems": [{"Put": {"TableName": TABLE, "Item": KEY}}, {"ConditionCheck": {}}]}),
    ("BatchExecuteStatement", {"Statements": [{"Statement": "UPDATE", "Parameters": [{"S": "x"}, {"N": "2"}]}]}),
    ("ListTables", {}),
    # What the model does not say is dropped, nulls too; members come in the model's order
    ("PutItem", {"Unknown": 1, "Item": {"a": {"S": None, "N": "1", "X": 2}}, "TableName": TABLE}),
    ("PutItem", {"Item": {"a": {"S": "1", "N": "2"}, "b": {}}}),
    ("Query", {"Limit": "7"}),
    ("Query", {"Limit": 1.7}),
    ("Query", {"Limit": True}),
    ("RestoreTableToPointInTime", {"RestoreDateTime": 1700000000, "TargetTableName": "t"}),
    ("PutItem", {"Item": {"a": {"SS": "abc"}}}),  # a string where a list goes: moto iterates its characters
    ("PutItem", {"Item": None}),
    # Malformed: moto's parser raises, and so does ours, the same error
    ("PutItem", {"Item": "x"}),
    ("PutItem", {"Item": {"a": "x"}}),
    ("PutItem", {"Item": {"a": []}}),
    ("PutItem", {"Item": {"a": {"NS": 5}}}),
    ("PutItem", {"Item": {"a": {"B": "!not base64!"}}}),
    ("PutItem", {"Item": {"a": {"M": {"b": {"L": [{"S": "x"}, "bad"]}}}}}),
    ("Query", {"Limit": "seven"}),
    ("RestoreTableToPointInTime", {"RestoreDateTime": "garbage"}),
]
BODIES = [(name, json.dumps(body)) for name, body in REQUESTS]
BODIES += [("PutItem", "not json"), ("PutItem", ""), ("PutItem", "[1, 2]"), ("GetItem", '{"Key": {"a": {"S": "é"}}}')]


def _parsed(parse: Any) -> tuple[Any, ...]:
    try:
        parsed = parse()
    except Exception as error:  # the failure itself is what is compared
        return ("raised", type(error), str(error))
    # Key order too: moto builds each structure in the order of the model's members
    return ("parsed", parsed, json.dumps(parsed, default=repr))


@pytest.mark.parametrize(("operation", "body"), BODIES)
def test_a_request_is_read_as_motos_parser_reads_it(operation: str, body: str) -> None:
    # Given a DynamoDB request body, as text and as the bytes a server receives
    model = get_service_model("dynamodb").operation_model(operation)
    for raw in (body, body.encode()):
        request: Any = {"method": "POST", "values": {}, "headers": {}, "body": raw, "url_path": "/", "url_params": {}}

        # When moto's parser and the local stack's read it
        theirs = _parsed(lambda: JSONParser(model).parse(request))  # noqa: B023
        ours = _parsed(lambda: emulator_moto.reader(model.input_shape)(emulator_moto.read_body(raw)))  # noqa: B023

        # Then both read the same values, or fail the same way
        assert ours == theirs


def test_it_is_installed_on_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given moto as it is (put back after the test)
    monkeypatch.setattr(DynamoHandler, "parse_parameters", BaseResponse.parse_parameters)
    monkeypatch.setattr(DynamoType, "size", emulator_moto._moto_size)

    # When the emulator installs its changes
    emulator_moto.install()

    # Then moto parses requests and sizes values the emulator's way
    assert DynamoHandler.parse_parameters is emulator_moto.parse_parameters
    assert DynamoType.size is emulator_moto.size


@pytest.fixture
def unvalidated(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A client that sends what it is given, as a broken client would: DynamoDB is what validates it."""
    moto_dynamodb.install()
    monkeypatch.setattr(DynamoHandler, "parse_parameters", emulator_moto.parse_parameters)
    monkeypatch.setattr(DynamoType, "size", emulator_moto.size)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1", config=Config(parameter_validation=False))
        create_table_from_template(client, TABLE)
        yield client


def _answer(client: Any, operation: str, request: dict[str, Any]) -> tuple[Any, ...]:
    try:
        answer = getattr(client, operation)(**request)
    except ClientError as error:
        return (error.response["ResponseMetadata"]["HTTPStatusCode"], error.response["Error"])
    return (200, {k: v for k, v in answer.items() if k != "ResponseMetadata"})


MALFORMED = [
    ("put_item", {"TableName": TABLE, "Item": KEY | {"a": {"S": 5}}}),
    ("put_item", {"TableName": TABLE, "Item": KEY | {"a": {"N": "twelve"}}}),
    ("put_item", {"TableName": TABLE, "Item": KEY | {"a": {"SS": []}}}),
    ("put_item", {"TableName": TABLE, "Item": {"PK": {"S": "p"}}}),
    ("put_item", {"TableName": TABLE, "Item": KEY | {"a": {"S": "é" * 202_500}}}),  # 405,000 bytes of text alone
    ("batch_write_item", {"RequestItems": {TABLE: [{"PutRequest": {"Item": KEY}}] * 2}}),
    ("query", {"TableName": TABLE}),
    ("query", {"TableName": TABLE, "KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {}}),
    ("get_item", {"TableName": TABLE, "Key": {"PK": {"S": "p"}}}),
]


@pytest.mark.parametrize(("operation", "request_"), MALFORMED)
def test_a_malformed_request_gets_motos_own_answer(
    unvalidated: Any, monkeypatch: pytest.MonkeyPatch, operation: str, request_: dict[str, Any]
) -> None:
    # Given a request DynamoDB refuses, sent past the client's validation
    # When the emulator's parsing answers it, then moto's own
    ours = _answer(unvalidated, operation, request_)
    monkeypatch.setattr(DynamoHandler, "parse_parameters", BaseResponse.parse_parameters)
    monkeypatch.setattr(DynamoType, "size", emulator_moto._moto_size)
    theirs = _answer(unvalidated, operation, request_)

    # Then the answer is moto's: a 4xx naming the problem
    assert ours == theirs
    assert 400 <= ours[0] < 500, ours


SIZED = [
    {"S": "naïve ✓"},
    {"S": ""},
    {"N": "-12.500"},
    {"N": "1E+10"},
    {"B": b"\x00\xff"},
    {"B": "AP8="},
    {"BOOL": True},
    {"NULL": True},
    {"SS": ["a", "éé"]},
    {"NS": ["1", "2.5"]},
    {"BS": [b"x"]},
    {"L": [{"S": "a"}, {"N": "1"}, {"M": {"k": {"S": "v"}}}]},
    {"M": {"naïve": {"S": "x"}, "n": {"N": "10"}, "l": {"L": []}}},
    {"S": True},  # what a client that skips validation may send
]


@pytest.mark.parametrize("value", SIZED)
def test_a_value_is_sized_as_moto_sizes_it(value: dict[str, Any]) -> None:
    # Given a DynamoDB value of any type
    typed = DynamoType(value)

    # When the emulator and moto size it
    ours, theirs = emulator_moto.size(typed), emulator_moto._moto_size(typed)

    # Then the sizes are the same
    assert ours == theirs
