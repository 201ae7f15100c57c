"""The one DynamoDB table every repository shares, and the few things they all do with it.

`conditionally` is the only place that reads DynamoDB's "your condition did not hold" errors: every
repository write that can race goes through it and decides what losing means for its aggregate.
"""

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ridecast.repositories.items import fleet_pk, to_attributes
from ridecast.repositories.wire import wire_client
from ridecast.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.service_resource import Table


@lru_cache(maxsize=1)
def table() -> "Table":
    """Created on first use and kept for the container's life (cleared between tests). DynamoDB validates every
    request itself: botocore's second check of each parameter against the API model cost a fifth of a
    broadcast's CPU (1.59 -> 1.30 ms per offer for 1,000 drivers against moto's server), and a typed
    repository cannot send a malformed request without a test failing on moto, which validates too."""
    return boto3.resource("dynamodb", config=Config(parameter_validation=False)).Table(get_settings().table_name)


def client() -> "DynamoDBClient":
    """The low-level client behind `table()`, for transactions."""
    return table().meta.client


@lru_cache(maxsize=1)
def typed_client() -> "DynamoDBClient":
    """A client for requests whose values are typed already (`typed`) and answers read by `untyped`: without the
    resource's hooks, which walk every request through the API model to type it (a third of a 1,000-driver
    broadcast's offer-write CPU), nor botocore's own walk of every attribute value (repositories/wire.py)."""
    return wire_client()


typed_value = TypeSerializer().serialize
_untype_value = TypeDeserializer().deserialize
UNPROCESSED_ATTEMPTS = 6  # 50 ms doubling: about 3 s of DynamoDB throttling before the caller hears of it


def typed(item: dict[str, Any]) -> dict[str, Any]:
    """An item as DynamoDB's wire format types it ({"S": ...}, {"N": ...}, ...), by boto3's serializer."""
    # Text is most of an item's values, and its type needs no library: {"S": text}.
    return {name: {"S": value} if type(value) is str else typed_value(value) for name, value in item.items()}


def untyped(item: dict[str, Any]) -> dict[str, Any]:
    """An item as the typed client answers it, in plain values (what the resource's table gives)."""
    return {name: value["S"] if "S" in value else _untype_value(value) for name, value in item.items()}


def resend_leftovers[R](send: Callable[[list[R]], list[R]], pending: list[R], attempts: int) -> list[R]:
    """`send` the requests, then again what it hands back as left over (a batch call's unprocessed items or keys,
    its throttled statements), 50 ms later and twice as long before each next try, `attempts` tries at most;
    what is still left over after them (nothing when every request went through)."""
    for attempt in range(attempts):
        pending = send(pending)
        if not pending or attempt + 1 == attempts:
            break
        time.sleep(0.05 * 2**attempt)
    return pending


def put_all(items: list[dict[str, Any]]) -> None:
    """Up to 25 items in one BatchWriteItem, resending what DynamoDB leaves unprocessed (throttling) with
    backoff, as boto3's batch_writer would but without its per-request typing walk."""
    name = get_settings().table_name

    def write(requests: list[Any]) -> list[Any]:
        unprocessed = typed_client().batch_write_item(RequestItems={name: requests}).get("UnprocessedItems", {})
        return list(unprocessed.get(name, []))

    left = resend_leftovers(write, [{"PutRequest": {"Item": typed(item)}} for item in items], UNPROCESSED_ATTEMPTS)
    if left:
        raise RuntimeError(
            f"DynamoDB left {len(left)} of {len(items)} items unwritten after {UNPROCESSED_ATTEMPTS} tries"
        )


def is_conditional_failure(error: ClientError) -> bool:
    """A write refused because its condition did not hold; a transaction counts only when a condition
    cancelled it (a conflict with another transaction or a throttle is a real error)."""
    code = error.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons", [])
        return any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons)
    return False


def conditionally[T](write: Callable[[], T]) -> T | None:
    """The write's answer, or None when its condition did not hold (someone else changed the item first).

    boto3 answers every call with a dict, so None can only mean "lost the condition".
    """
    try:
        return write()
    except ClientError as error:
        if is_conditional_failure(error):
            return None
        raise


def plain(value: Any) -> Any:
    """A value ready for DynamoDB: pydantic models and datetimes as JSON, floats as Decimal."""
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "model_dump_json"):
        return to_attributes(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


class UpdateExpression(NamedTuple):
    expression: str
    names: dict[str, str]
    values: dict[str, Any]


def update_expression(
    set_fields: dict[str, Any], remove: Iterable[str] = (), add: dict[str, int] | None = None
) -> UpdateExpression:
    """SET each field (a None value REMOVEs it instead), REMOVE `remove`, ADD `add`; every name through a
    placeholder so reserved words such as `status` need no care at the call site."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets: list[str] = []
    removes: list[str] = []
    for i, (field, value) in enumerate(set_fields.items()):
        names[f"#s{i}"] = field
        if value is None:
            removes.append(f"#s{i}")
            continue
        values[f":s{i}"] = plain(value)
        sets.append(f"#s{i} = :s{i}")
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
    return UpdateExpression(" ".join(parts), names, values)


def query_all(**kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item a query matches, following LastEvaluatedKey across pages."""
    yield from _pages(table().query, kwargs)


def partition_items(pk: str, sk_prefix: str, *, consistent: bool = False) -> Iterator[dict[str, Any]]:
    """Every item of partition `pk` whose sort key starts with `sk_prefix`, in plain values: `query_all`'s
    answer for reads of many items at once, on the typed client (a fraction of the CPU per item)."""
    query: dict[str, Any] = {
        "TableName": get_settings().table_name,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": sk_prefix}},
        "ConsistentRead": consistent,
    }
    yield from (untyped(item) for item in _pages(typed_client().query, query))


def _pages(query: Callable[..., Any], kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    while True:
        page = query(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def probe() -> dict[str, Any]:
    """Whether the table answers a read, and how fast: what GET /health reports for it."""
    started = time.perf_counter()
    try:
        table().get_item(Key={"PK": fleet_pk("health-probe"), "SK": "META"})
    except (BotoCoreError, ClientError) as error:
        return {"status": "error", "error": type(error).__name__}
    return {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
