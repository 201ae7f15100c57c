"""moto's DynamoDB at DynamoDB's own cost where Ridecast calls it by the thousand; moto still decides every outcome.
Unpatched, a Query on the table's key sorted the table and deep-copied its answer (now: its partition, in key order,
uncopied; per thread: the bench's moto server answers on several); TransactWriteItems deep-copied the table per item
(now: the items named, put back if it raises); a PartiQL statement ran over a copy of every item (now: a keyed `UPDATE
"t" SET "a"=?, "b"=? WHERE "PK"=? AND "SK"=? [AND "x"=?]` reads one item, failing as DynamoDB does); an item's size was
summed per attribute (now: once); item answers went through moto's model-walking serializer (now: plain JSON)."""

import base64
import copy
import json
import threading
from contextlib import suppress
from types import SimpleNamespace
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models import table as table_module
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import bytesize
from moto.dynamodb.responses import DynamoResult
from py_partiql_parser._internal.update_parser import UpdateParser

_moto_query, _moto_all_items = Table.query, Table.all_items
_query = threading.local()
_moto_transact_write_items = DynamoDBBackend.transact_write_items
_moto_batch_execute_statement = DynamoDBBackend.batch_execute_statement
CONDITION_FAILED = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
_moto_execute_result = DynamoResult.execute_result
_ITEM_OPERATIONS = {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem"}
_ITEM_OPERATIONS |= {"TransactWriteItems", "TransactGetItems", "ExecuteStatement", "BatchExecuteStatement"}


def _deepcopy_except_tables(value: Any, memo: dict[int, Any] | None = None) -> Any:
    # moto's table "backup" becomes the live table, so its own rollback is a no-op; ours replaces it.
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
    # moto's backend passes index_name as the 8th argument of Table.query.
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name or hash_key is None or not self.range_key_attr:
        return _moto_query(self, hash_key, *args, **kwargs)
    # moto filters and sorts them as before: in key order already (text keys), its sort by DynamoType's __lt__ is quick
    partition, text_keys = (self.items.get(hash_key) or {}).values(), self.range_key_type == "S"
    _query.partition = sorted(partition, key=lambda item: item.range_key.value) if text_keys else list(partition)
    try:
        return _moto_query(self, hash_key, *args, **kwargs)
    finally:
        _query.partition = None


def _deepcopy_unless_queried(value: Any, memo: dict[int, Any] | None = None) -> Any:
    # Table.query deep-copies the items it answers (~0.2 ms an item), which nothing changes before they are answered.
    return value if getattr(_query, "partition", None) is not None else copy.deepcopy(value, memo)


def all_items(self: Table) -> list[Any]:
    # An empty partition goes moto's own way, which finds nothing in it either.
    return getattr(_query, "partition", None) or _moto_all_items(self)


def _named_key(backend: DynamoDBBackend, operation: Any) -> tuple[str, dict[str, Any]] | None:
    table = backend.tables.get(str(operation.get("TableName"))) if isinstance(operation, dict) else None
    if table is None:
        return None
    if "Key" in operation:
        return table.name, dict(operation["Key"])
    item = operation.get("Item") or {}
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return (table.name, {n: item[n] for n in names}) if all(n in item for n in names) else None


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    saved: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    for named in filter(None, (_named_key(self, op) for entry in transact_items[:100] for op in entry.values())):
        before = self.get_item(*named)
        saved.append((*named, copy.deepcopy(before.to_json()["Attributes"]) if before else None))
    try:
        _moto_transact_write_items(self, transact_items)
    except BaseException:
        # In reverse, so a key named twice (which moto refuses) ends as it was before the first.
        for table_name, key, attributes in reversed(saved):
            if attributes is not None:
                self.put_item(table_name, attributes)
            elif self.get_item(table_name, key) is not None:
                self.delete_item(table_name, key)
        raise


def _keyed_update(backend: DynamoDBBackend, statement: dict[str, Any]) -> dict[str, Any] | None:
    """DynamoDB's answer to one keyed UPDATE with parameters only; None when it is not of that shape."""
    text, parameters = statement["Statement"], list(statement.get("Parameters", []))
    if not text.lstrip().upper().startswith("UPDATE "):
        return None
    try:
        table_name, updates, filters = UpdateParser().parse(text)
    except AssertionError:  # the parser's way of saying it does not read this statement
        return None
    table = backend.tables.get(table_name)
    if table is None or any(v != "?" for _, v in [*updates, *filters]) or len(parameters) != len(updates + filters):
        return None
    set_values = dict(zip((name for name, _ in updates), parameters, strict=False))
    where = dict(zip((name for name, _ in filters), parameters[len(updates) :], strict=True))
    hash_value, range_value = where.pop(table.hash_key_attr, None), where.pop(table.range_key_attr or "", None)
    if hash_value is None or (table.range_key_attr and range_value is None):
        return None
    item = table.get_item(DynamoType(hash_value), DynamoType(range_value) if range_value else None)
    current = item.to_json()["Attributes"] if item is not None else None
    if current is None or any(current.get(name) != value for name, value in where.items()):
        return {"TableName": table_name, "Error": CONDITION_FAILED}
    table.put_item({**current, **set_values})
    return {"TableName": table_name}


def batch_execute_statement(self: DynamoDBBackend, statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answers = [_keyed_update(self, statement) for statement in statements]
    if all(answer is not None for answer in answers):
        return [answer for answer in answers if answer is not None]
    # A batch with other statements: moto's own way for those (the keyed ones already applied stay applied).
    others = [s for s, answer in zip(statements, answers, strict=True) if answer is None]
    theirs = iter(_moto_batch_execute_statement(self, others))
    return [answer if answer is not None else next(theirs) for answer in answers]


def item_init(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
    self.hash_key, self.range_key = hash_key, range_key
    values = {key: DynamoType(value) for key, value in attrs.items()}
    # moto's limit (405,000 bytes, between DynamoDB's measured 409 and 410 KB) on the same sum, taken once.
    if sum(bytesize(key) + value.size() for key, value in values.items()) > 405000:
        raise ItemSizeTooLarge
    self.attrs = LimitedSizeDict(values)  # its update() adds them without checking each again


def execute_result(self: DynamoResult, context: Any) -> Any:
    """An item operation's answer is DynamoDB JSON already: moto's serializer walked botocore's model for every
    value of every item (~0.5 ms an item; a 100-offer Query, 50 ms of CPU) to write the same JSON."""
    if context.operation_model.name in _ITEM_OPERATIONS and not isinstance(self.result, Exception):
        with suppress(TypeError):  # bytes (B, BS) base64-encoded as DynamoDB sends them; a datetime is moto's to write
            body = json.dumps(self.result, default=lambda value: base64.b64encode(value).decode())
            return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
    return _moto_execute_result(self, context)


def install() -> None:
    """Idempotent; applies to every moto DynamoDB backend of the process."""
    dynamodb_models.copy = SimpleNamespace(deepcopy=_deepcopy_except_tables)  # type: ignore[attr-defined,assignment]
    Table.query, Table.all_items = query, all_items  # type: ignore[method-assign]
    table_module.copy = SimpleNamespace(copy=copy.copy, deepcopy=_deepcopy_unless_queried)  # type: ignore[attr-defined,assignment]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    DynamoDBBackend.batch_execute_statement = batch_execute_statement  # type: ignore[method-assign]
    Item.__init__ = item_init  # type: ignore[method-assign]
    DynamoResult.execute_result = execute_result  # type: ignore[method-assign,assignment]
