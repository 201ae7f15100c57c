"""Fixture state machine tasks and schedule target."""

import os

import fixturelib
from snapshot_restore_py import register_after_restore, register_before_snapshot


class RideTaken(Exception):
    """Caught by name in the state machine."""


TICKS: list[object] = []
# How this function was started: a SnapStart init, then its hooks as Lambda runs them around the snapshot.
STARTED = {"initialization": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"), "hooks": []}
for name in ("first", "second"):
    register_before_snapshot(STARTED["hooks"].append, f"before snapshot {name}")
    register_after_restore(STARTED["hooks"].append, f"after restore {name}")


def handler(event, context):
    task = event.get("task")
    if task is None:
        TICKS.append(event)
        return {"ticked": True}
    if task == "started":
        return STARTED
    if task == "fail":
        raise RideTaken("someone else was faster")
    if task == "park":
        fixturelib.table().put_item(Item={"PK": event["ride"], "token": event["token"]})
        return {"parked": True}
    return {"echo": event}
