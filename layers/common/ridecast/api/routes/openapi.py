"""GET /openapi.json: the OpenAPI 3.1 document of every route, generated from the route tables."""

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from ridecast.api.callers import ANYONE
from ridecast.api.routing import Routes, describe

routes = Routes(tag="openapi")


def areas() -> tuple[Routes, ...]:
    """Every area of the API; this document's own route comes last (it is a route too).

    Imported when the document is first asked for, not with the function: the other areas' routes, models
    and domain are the whole layer, and this function's cold start serves one route (SPEC §7)."""
    from ridecast.api.routes import (
        console,
        dispatch,
        drivers,
        fleets,
        health,
        offers,
        rides,
        stats,
        telegram_webhooks,
        twilio_webhooks,
    )

    return (
        health.routes,
        fleets.routes,
        drivers.routes,
        rides.routes,
        offers.routes,
        stats.routes,
        dispatch.routes,
        twilio_webhooks.twilio_replies,
        twilio_webhooks.twilio_receipts,
        telegram_webhooks.telegram_updates,
        console.routes,
        routes,
    )


_JSON_DOCUMENT = {"application/json": {"schema": {"type": "object"}}}


@cache
def document() -> str:
    """Built once per container: registering every area on one resolver is what describes them all."""
    return json.dumps(describe(*areas()), separators=(",", ":"))


@routes.get("/openapi.json", callers=ANYONE, success={"description": "OpenAPI 3.1", "content": _JSON_DOCUMENT})
def openapi_document() -> Response[Any]:
    """This document."""
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=document())
