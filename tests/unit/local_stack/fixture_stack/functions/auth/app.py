"""Fixture authorizer: `Bearer good` passes, `Bearer bad` is refused, `Bearer explode` fails."""

import fixturelib


def handler(event, context):
    fixturelib.CALLS.append("auth")
    key = event["headers"].get("authorization", "")
    if key == "Bearer explode":
        raise RuntimeError("authorizer bug")
    return {"isAuthorized": key == "Bearer good", "context": {"who": key.removeprefix("Bearer ")}}
