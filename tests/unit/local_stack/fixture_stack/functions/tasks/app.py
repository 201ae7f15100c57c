"""Fixture state machine tasks and schedule target."""

import fixturelib


class RideTaken(Exception):
    """Caught by name in the state machine."""


TICKS: list[object] = []


def handler(event, context):
    task = event.get("task")
    if task is None:
        TICKS.append(event)
        return {"ticked": True}
    if task == "fail":
        raise RideTaken("someone else was faster")
    if task == "park":
        fixturelib.table().put_item(Item={"PK": event["ride"], "token": event["token"]})
        return {"parked": True}
    return {"echo": event}
