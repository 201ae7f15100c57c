"""ridecast.repositories.table: the shared table, the one conditional-write helper, updates, paging, the probe."""

from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from ridecast.repositories import table
from tests.fixtures import REGION, table_properties
from tests.unit.conftest import AwsStack


def _refused(code: str, reasons: list[str] | None = None) -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": "refused"}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(response, "TransactWriteItems")  # type: ignore[arg-type]


def _raise(error: Exception) -> Any:
    raise error


def test_the_table_is_built_from_the_template(aws: AwsStack) -> None:
    # Given the table the fixture created, Then its keys and indexes are the template's, projections included
    described = aws.dynamodb.describe_table(TableName=aws.table_name)["Table"]
    declared = {i["IndexName"]: i["Projection"]["ProjectionType"] for i in table_properties()["GlobalSecondaryIndexes"]}
    created = {i["IndexName"]: i["Projection"]["ProjectionType"] for i in described["GlobalSecondaryIndexes"]}
    assert created == declared
    ttl = aws.dynamodb.describe_time_to_live(TableName=aws.table_name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == table_properties()["TimeToLiveSpecification"]["AttributeName"]


def test_a_write_whose_condition_holds_gives_its_answer(aws: AwsStack) -> None:
    answer = table.conditionally(
        lambda: table.table().put_item(Item={"PK": "X", "SK": "1"}, ConditionExpression="attribute_not_exists(PK)")
    )
    assert answer is not None
    assert aws.raw_item("X", "1") == {"PK": "X", "SK": "1"}


def test_a_write_whose_condition_fails_is_none_and_changes_nothing(aws: AwsStack) -> None:
    # Given an item
    table.table().put_item(Item={"PK": "X", "SK": "1", "n": 1})
    # When a write conditional on its absence is made, Then the helper says the condition did not hold
    answer = table.conditionally(
        lambda: table.table().put_item(
            Item={"PK": "X", "SK": "1", "n": 2}, ConditionExpression="attribute_not_exists(PK)"
        )
    )
    assert answer is None
    assert aws.raw_item("X", "1") == {"PK": "X", "SK": "1", "n": 1}


def test_a_transaction_cancelled_by_a_condition_is_none_and_writes_no_part(aws: AwsStack) -> None:
    # Given an item one part of a transaction requires to be absent (the table's client takes plain values)
    table.table().put_item(Item={"PK": "X", "SK": "1"})
    parts: list[Any] = [
        {"Put": {"TableName": aws.table_name, "Item": {"PK": "Y", "SK": "1"}}},
        {
            "Put": {
                "TableName": aws.table_name,
                "Item": {"PK": "X", "SK": "1"},
                "ConditionExpression": "attribute_not_exists(PK)",
            }
        },
    ]
    # When the transaction runs, Then the helper reports the lost condition and no part was written
    assert table.conditionally(lambda: table.client().transact_write_items(TransactItems=parts)) is None
    assert aws.raw_item("Y", "1") is None


@pytest.mark.parametrize(
    "error",
    [
        _refused("TransactionCanceledException", ["None", "TransactionConflict"]),
        _refused("ProvisionedThroughputExceededException"),
        _refused("ValidationException"),
    ],
    ids=["transaction conflict", "throttled", "invalid request"],
)
def test_any_other_refusal_is_raised_not_taken_for_a_lost_condition(error: ClientError) -> None:
    with pytest.raises(ClientError) as raised:
        table.conditionally(lambda: _raise(error))
    assert raised.value is error


def test_a_cancelled_transaction_counts_as_a_lost_condition_when_any_part_lost_one() -> None:
    assert table.is_conditional_failure(_refused("TransactionCanceledException", ["None", "ConditionalCheckFailed"]))
    assert table.is_conditional_failure(_refused("ConditionalCheckFailedException"))
    assert not table.is_conditional_failure(_refused("TransactionCanceledException", []))


def test_update_expression_sets_removes_and_adds_through_placeholders() -> None:
    update = table.update_expression(
        {"status": "assigned", "task_token": None, "price": 4.5}, ("GSI2PK",), {"version": 1}
    )
    assert update.expression == "SET #s0 = :s0, #s2 = :s2 REMOVE #s1, #r0 ADD #a0 :a0"
    assert update.names == {"#s0": "status", "#s1": "task_token", "#s2": "price", "#r0": "GSI2PK", "#a0": "version"}
    assert update.values == {":s0": "assigned", ":s2": table.plain(4.5), ":a0": 1}
    assert type(update.values[":s2"]).__name__ == "Decimal"


def test_query_all_follows_every_page(aws: AwsStack) -> None:
    # Given more items in a partition than one page of the query holds
    with table.table().batch_writer() as batch:
        for n in range(7):
            batch.put_item(Item={"PK": "P", "SK": f"{n:02d}"})
    # When all are queried two at a time, Then every one comes back, in key order
    found = table.query_all(KeyConditionExpression="PK = :p", ExpressionAttributeValues={":p": "P"}, Limit=2)
    assert [item["SK"] for item in found] == [f"{n:02d}" for n in range(7)]


def test_the_probe_reports_a_reachable_table_as_ok(aws: AwsStack) -> None:
    answer = table.probe()
    assert answer["status"] == "ok"
    assert isinstance(answer["latency_ms"], float)


def test_the_probe_reports_a_missing_table_by_its_error_name(aws: AwsStack) -> None:
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName=aws.table_name)
    assert table.probe() == {"status": "error", "error": "ResourceNotFoundException"}


def test_put_all_writes_typed_items_that_read_back_as_written(aws: AwsStack) -> None:
    # Given items with strings, numbers, nested maps and lists
    items = [
        {"PK": "P", "SK": f"{n:02d}", "n": n, "place": {"lat": Decimal("51.5"), "tags": ["a", "b"]}} for n in range(25)
    ]

    # When they are put in one batch
    table.put_all(items)

    # Then each reads back through the resource exactly as given
    assert list(table.query_all(KeyConditionExpression=Key("PK").eq("P"))) == items


def test_put_all_resends_what_dynamodb_left_unprocessed_then_gives_up(
    aws: AwsStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given DynamoDB leaving the last item of a batch unprocessed, on the first `times` calls
    calls: list[int] = []
    real = table.typed_client().batch_write_item

    def leaving_the_last(times: int) -> Any:
        def batch_write_item(RequestItems: dict[str, list[Any]]) -> Any:
            ((name, requests),) = RequestItems.items()
            calls.append(len(requests))
            if len(calls) > times:
                return real(RequestItems=RequestItems)
            if requests[:-1]:
                real(RequestItems={name: requests[:-1]})
            return {"UnprocessedItems": {name: requests[-1:]}}

        return batch_write_item

    monkeypatch.setattr(table.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(table.typed_client(), "batch_write_item", leaving_the_last(times=1))
    # When two items are put
    table.put_all([{"PK": "U", "SK": "1"}, {"PK": "U", "SK": "2"}])
    # Then the one left over went again, alone, and both are stored
    assert calls == [2, 1]
    assert [i["SK"] for i in table.query_all(KeyConditionExpression=Key("PK").eq("U"))] == ["1", "2"]

    # And when DynamoDB never takes an item, the caller hears of it after the bounded tries
    calls.clear()
    monkeypatch.setattr(table.typed_client(), "batch_write_item", leaving_the_last(times=100))
    with pytest.raises(RuntimeError, match="1 of 1 items unwritten"):
        table.put_all([{"PK": "V", "SK": "1"}])
    assert len(calls) == table.UNPROCESSED_ATTEMPTS
