"""BatchExecuteStatement's single-item UPDATEs for moto, at the cost DynamoDB has: one item looked up by its key.

moto runs every PartiQL statement over a JSON copy of every item of every table (~0.1 ms per item per
statement: 240 ms a statement at 2,000 items), and a WHERE that matches nothing is silently a no-op where
DynamoDB answers ConditionalCheckFailed. Ridecast's offer bookkeeping (ridecast.repositories.offers) sends
`UPDATE "table" SET "a"=?, "b"=? WHERE "PK"=? AND "SK"=? [AND "attr"=?]` statements by the dozen; this answers
those from the keyed item, with DynamoDB's verdicts, and hands anything else to moto as before. Installed by
importing the module (local_stack.aws does); a moto server in a process of its own can import it too.
"""

from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from py_partiql_parser._internal.update_parser import UpdateParser

_moto_batch_execute_statement = DynamoDBBackend.batch_execute_statement
CONDITION_FAILED = {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}


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


DynamoDBBackend.batch_execute_statement = batch_execute_statement  # type: ignore[method-assign]
