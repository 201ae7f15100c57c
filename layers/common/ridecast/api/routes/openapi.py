"""GET /openapi.json: the OpenAPI 3.1 document of every route, generated from the route tables."""

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from ridecast.api.callers import ANYONE
from ridecast.api.routes import drivers, fleets, health, offers, rides, webhooks
from ridecast.api.routing import BEARER_SCHEME, Routes, resolver

routes = Routes(tag="openapi")

# Every area of the API; this document's own route comes last (it is a route too).
AREAS: tuple[Routes, ...] = (
    health.routes,
    fleets.routes,
    drivers.routes,
    rides.routes,
    offers.routes,
    webhooks.twilio_replies,
    webhooks.twilio_receipts,
    webhooks.telegram_updates,
    routes,
)

_JSON_DOCUMENT = {"application/json": {"schema": {"type": "object"}}}


@cache
def document() -> str:
    """Built once per container: registering every area on one resolver is what describes them all."""
    return resolver(*AREAS).get_openapi_json_schema(
        title="Ridecast",
        version="1",
        description="Ride dispatch for taxi and private-hire fleets. Send `Authorization: Bearer <api key>`.",
        security_schemes={BEARER_SCHEME: HTTPBearer(description="A fleet API key, or the platform root key")},
    )


@routes.get("/openapi.json", callers=ANYONE, success={"description": "OpenAPI 3.1", "content": _JSON_DOCUMENT})
def openapi_document() -> Response[Any]:
    """This document."""
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=document())
