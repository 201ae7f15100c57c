"""HTTP glue shared by the API functions: who is calling, and every error mapped to a status once."""

import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import ValidationError

from ridecast.domain.entities import ApiPrincipal
from ridecast.errors import RidecastError, Unauthenticated
from ridecast.observability import logger


def json_response(status_code: int, body: Any) -> Response[Any]:
    return Response(status_code=status_code, content_type=content_types.APPLICATION_JSON, body=body)


def current_principal(app: APIGatewayHttpResolver) -> ApiPrincipal | None:
    """The authorizer resolved the key; an unknown key reaches us as `anonymous` so we can answer 401."""
    context = app.current_event.request_context.authorizer.get_lambda or {}
    kind = context.get("principal")
    if kind == "root":
        return ApiPrincipal(kind="root")
    if kind == "fleet" and context.get("fleet_id") and context.get("role") in ("admin", "dispatcher"):
        return ApiPrincipal(
            kind="fleet", fleet_id=context["fleet_id"], role=context["role"], key_id=context.get("key_id")
        )
    return None


def _describe(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
    return f"{location}: {error.get('msg', 'is invalid')}"


def _refuse_caller(app: APIGatewayHttpResolver, guard: Callable[[], object] | None) -> Response[Any] | None:
    """Request validation runs before the route can check the key: an unknown key must still get 401 and
    a key with the wrong role 403 (SPEC §3), not a description of our schema. `guard` is the function's own
    role check; routes without the authorizer carry no principal at all."""
    context = app.current_event.request_context.authorizer.get_lambda or {}
    refused: RidecastError | None = None
    if context.get("principal") == "anonymous":
        refused = Unauthenticated("missing or unknown API key: send 'Authorization: Bearer <key>'")
    elif guard is not None:
        try:
            guard()
        except RidecastError as error:
            refused = error
    if refused is None:
        return None
    logger.info("request refused", extra={"status": refused.status_code, "error": refused.code})
    return json_response(refused.status_code, refused.body())


_REQUEST_READER = "aws_lambda_powertools.event_handler.middlewares.openapi_validation"
_READING_STEPS = frozenset({"_get_body", "_parse_json_data", "_parse_form_data", "_parse_multipart_data"})


def _raised_reading_the_request(error: BaseException) -> bool:
    """Whether Powertools raised this while reading the request body (JSON, form, multipart), before any
    of our code ran: then the request is at fault, not the service. An error from the route only passes
    through the validation middleware's `handler`, never through these steps."""
    frame = error.__traceback__
    while frame is not None:
        code = frame.tb_frame
        if code.f_globals.get("__name__") == _REQUEST_READER and code.f_code.co_name in _READING_STEPS:
            return True
        frame = frame.tb_next
    return False


def install_error_handlers(app: APIGatewayHttpResolver, guard: Callable[[], object] | None = None) -> None:
    """Map every error to its status, once. `guard` (the function's role check) runs before a request
    that failed validation is answered 4xx, so who may call is decided before what they sent."""

    @app.exception_handler(RidecastError)  # type: ignore[untyped-decorator]
    def _domain_error(error: RidecastError) -> Response[Any]:
        if error.status_code >= 500:
            logger.exception("request failed", extra={"error": error.code})
        else:
            logger.info("request refused", extra={"status": error.status_code, "error": error.code})
        return json_response(error.status_code, error.body())

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid_request(error: RequestValidationError) -> Response[Any]:
        if (refused := _refuse_caller(app, guard)) is not None:
            return refused
        errors = [dict(e) for e in error.errors()]
        if any(e.get("type") == "json_invalid" for e in errors):
            return json_response(400, {"error": "invalid_json", "message": "the request body is not valid JSON"})
        details = [{"field": _describe(e).split(":")[0], "message": str(e.get("msg"))} for e in errors]
        message = "; ".join(_describe(e) for e in errors[:5])
        logger.info("request invalid", extra={"errors": message})
        return json_response(422, {"error": "invalid_input", "message": message, "errors": details})

    @app.exception_handler(ValidationError)  # type: ignore[untyped-decorator]
    def _invalid_domain_value(error: ValidationError) -> Response[Any]:
        # A value the request model let through but the domain refused is still the caller's input.
        message = "; ".join(_describe(dict(e)) for e in error.errors()[:5])
        logger.info("request invalid for the domain", extra={"errors": message})
        return json_response(422, {"error": "invalid_input", "message": message})

    @app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
    def _unsupported_content_type(error: RequestUnsupportedContentType) -> Response[Any]:
        if (refused := _refuse_caller(app, guard)) is not None:
            return refused
        message = "Content-Type: send the body as application/json"
        return json_response(415, {"error": "unsupported_media_type", "message": message})

    @app.exception_handler(UnicodeDecodeError)  # type: ignore[untyped-decorator]
    def _undecodable_body(error: UnicodeDecodeError) -> Response[Any]:
        # The gateway hands over a non-UTF-8 body base64-encoded; decoding it is the first thing to fail.
        if (refused := _refuse_caller(app, guard)) is not None:
            return refused
        return json_response(400, {"error": "invalid_json", "message": "the request body is not valid UTF-8 JSON"})

    @app.exception_handler([ValueError, RecursionError])  # type: ignore[untyped-decorator]
    def _unreadable_body(error: Exception) -> Response[Any]:
        # JSON nested deeper than the parser's recursion limit, a multipart body without its boundary: Powertools
        # raises these while reading the request. Anything raised by our own code is a bug and stays a 500.
        if not _raised_reading_the_request(error):
            raise error
        if (refused := _refuse_caller(app, guard)) is not None:
            return refused
        logger.info("request unreadable", extra={"error": type(error).__name__})
        return json_response(400, {"error": "invalid_body", "message": f"the request body cannot be read: {error}"})

    @app.not_found
    def _no_route(_: Exception) -> Response[Any]:
        return json_response(404, {"error": "not_found", "message": "no such route"})


def parse_json_object(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
