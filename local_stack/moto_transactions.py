"""moto's TransactWriteItems, with a backup of the items a transaction names instead of the whole table.

moto backs a transaction up by deep-copying the entire table once for each item in it, so a transaction
costs time and garbage in proportion to everything the table holds. A test session that accumulates a few
hundred fleets and their rides spent most of its CPU copying the table, its writes slowed to seconds and the
process grew to gigabytes. moto's own transaction logic still decides every outcome here; only its backup is
replaced: the named items are saved before it runs and put back if it raises (a cancelled transaction, or
one refused as a whole). moto's DynamoDB calls are serialized by the local stack's hook (local_stack.aws), so
nothing else writes between the save and the restore.
"""

import copy
from types import SimpleNamespace
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table

_moto_transact_write_items = DynamoDBBackend.transact_write_items


def _deepcopy_except_tables(value: Any, memo: dict[int, Any] | None = None) -> Any:
    # The table "backup" becomes the live table itself, so moto's own rollback is a no-op; ours replaces it.
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _named_key(backend: DynamoDBBackend, operation: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    table_name = operation.get("TableName")
    if not isinstance(table_name, str) or table_name not in backend.tables:
        return None
    if "Key" in operation:
        return table_name, dict(operation["Key"])
    table, item = backend.tables[table_name], operation.get("Item") or {}
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    if not all(name in item for name in names):
        return None  # moto refuses it before writing anything
    return table_name, {name: item[name] for name in names}


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    saved: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    for entry in transact_items[:100]:  # moto refuses more than 100 before writing anything
        for operation in entry.values():
            named = _named_key(self, operation) if isinstance(operation, dict) else None
            if named is not None:
                before = self.get_item(*named)
                saved.append((*named, copy.deepcopy(before.to_json()["Attributes"]) if before else None))
    try:
        _moto_transact_write_items(self, transact_items)
    except BaseException:
        # In reverse, so a key named twice (which moto refuses) ends as it was before the first.
        for table_name, key, attributes in reversed(saved):
            if attributes is None:
                if self.get_item(table_name, key) is not None:
                    self.delete_item(table_name, key)
            else:
                self.put_item(table_name, attributes)
        raise


def install() -> None:
    """Idempotent; applies to every moto DynamoDB backend of the process."""
    if DynamoDBBackend.transact_write_items is not transact_write_items:
        dynamodb_models.copy = SimpleNamespace(deepcopy=_deepcopy_except_tables)  # type: ignore[attr-defined,assignment]
        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
