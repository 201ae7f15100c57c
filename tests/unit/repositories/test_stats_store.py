"""What the stats repository sends DynamoDB: limits moto does not enforce (tests/unit/repositories/test_fakes_match.py
checks what it stores against the fake)."""

from typing import Any

import pytest

from ridecast.domain.ports import Stores
from ridecast.repositories.table import client

# DynamoDB's limits: an expression string of 4 KB, and 100 items in one transaction.
EXPRESSION_BYTES = 4096
TRANSACTION_ITEMS = 100


def test_an_ending_for_two_and_a_half_thousand_drivers_stays_within_dynamodbs_limits(stores: Stores) -> None:
    # Given the writes the repository sends, recorded
    sent: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(params)

    client().meta.events.register("provide-client-params.dynamodb.TransactWriteItems", record)
    # When a ride offered to 2,500 drivers ends (more than one transaction holds)
    drivers = {f"{counter}#driver-{n:05d}": 1 for n in range(2_500) for counter in ("offers", "timeouts")}
    hour_counts = {"ended#timed_out": 1, "drivers_notified": 2_500, **{f"ttm#{b}": 1 for b in range(25)}}
    assert stores.stats.count_ended("f1", "r1", hour="2026-03-01T09", hour_counts=hour_counts, driver_counts=drivers)
    # Then it went in transactions of at most 100 items (the drivers' in several), no expression over 4 KB
    assert len(sent) > 1
    for transaction in sent:
        items = transaction["TransactItems"]
        assert len(items) <= TRANSACTION_ITEMS
        updates = [item["Update"]["UpdateExpression"] for item in items if "Update" in item]
        assert max(len(expression.encode()) for expression in updates) <= EXPRESSION_BYTES
    # And every driver's counts read back once, even after the ending is retried
    assert not stores.stats.count_ended(
        "f1", "r1", hour="2026-03-01T09", hour_counts=hour_counts, driver_counts=drivers
    )
    day, span = ("day", "2026-03-01"), ("span", "2026-02-28")
    found = stores.stats.read("f1", [day], [day, span])
    assert found.drivers == {day: drivers, span: drivers}
    assert found.rides[day]["drivers_notified"] == 2_500


def test_an_ending_retried_after_some_of_its_drivers_groups_counts_each_once(stores: Stores) -> None:
    # Given a ride offered to 2,500 drivers whose ending failed after its drivers' first group was written
    drivers = {f"offers#driver-{n:05d}": 1 for n in range(2_500)}
    failing = {"calls": 0}

    def fail_after_the_first(params: dict[str, Any], **_: Any) -> None:
        failing["calls"] += 1
        if failing["calls"] == 2:
            raise ConnectionError("the network went away")

    client().meta.events.register("provide-client-params.dynamodb.TransactWriteItems", fail_after_the_first)
    with pytest.raises(ConnectionError):
        stores.stats.count_ended("f1", "r1", hour="2026-03-01T09", hour_counts={}, driver_counts=drivers)
    # When Step Functions retries it
    assert stores.stats.count_ended("f1", "r1", hour="2026-03-01T09", hour_counts={}, driver_counts=drivers)
    # Then every driver has one offer
    assert stores.stats.read("f1", [], [("day", "2026-03-01")]).drivers == {("day", "2026-03-01"): drivers}
