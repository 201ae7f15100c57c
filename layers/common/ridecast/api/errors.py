"""Every error becomes its HTTP answer here, once: the domain's typed errors, the request errors found
before a route runs, and Powertools' request validation. The OpenAPI document describes the same body."""

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel, ConfigDict, ValidationError

from ridecast.errors import RateLimited, RidecastError
from ridecast.observability import logger


class UnreadableBody(RidecastError):
    """Not JSON, not UTF-8, nested too deep, a Content-Type that does not parse: the body cannot be read."""

    status_code = 400
    code = "invalid_body"


class InvalidJson(UnreadableBody):
    code = "invalid_json"


class UnsupportedMediaType(RidecastError):
    status_code = 415
    code = "unsupported_media_type"


class FieldError(BaseModel):
    model_config = ConfigDict(defer_build=True)  # see ridecast.domain.entities.DomainModel

    field: str
    message: str


class ErrorOut(BaseModel):
    """Every 4xx answer: `error` names the kind, `message` says what to fix. Some carry more, e.g. `field`,
    `errors` (each invalid field), or an offer's `result`."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    error: str | None = None
    message: str
    errors: list[FieldError] | None = None


ERROR_DESCRIPTIONS = {
    400: "The body cannot be read (not JSON, not UTF-8, nested too deep)",
    401: "Missing, unknown or revoked API key",
    403: "The key's role may not do this, or a webhook's signature or secret does not check out",
    404: "No such resource (or it belongs to another fleet)",
    409: "Conflicts with the resource's state",
    415: "The route takes application/json",
    422: "Invalid body or parameters; the message names the field",
    429: "Too many requests; retry after the Retry-After header's seconds",
    503: "A service it depends on (e-mail, matching) is unavailable for now; try again",
}


def error_responses(*statuses: int) -> dict[int, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses, all with the ErrorOut body."""
    return {
        status: {"description": ERROR_DESCRIPTIONS[status], "content": {"application/json": {"model": ErrorOut}}}
        for status in statuses
    }


def _answer(status_code: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status_code, content_type=content_types.APPLICATION_JSON, body=body)


def _describe(error: dict[str, Any]) -> tuple[str, str]:
    location = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
    return location, str(error.get("msg", "is invalid"))


def invalid_input_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The 422 body for pydantic's errors: one message naming up to five fields, and every field apart."""
    described = [_describe(e) for e in errors]
    message = "; ".join(f"{field}: {text}" for field, text in described[:5])
    details = [{"field": field, "message": text} for field, text in described]
    return {"error": "invalid_input", "message": message, "errors": details}


def _invalid(errors: list[dict[str, Any]]) -> Response[dict[str, Any]]:
    body = invalid_input_body(errors)
    logger.info("request invalid", extra={"errors": body["message"]})
    return _answer(422, body)


def install_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(RidecastError)  # type: ignore[untyped-decorator]
    def _domain_error(error: RidecastError) -> Response[dict[str, Any]]:
        if error.status_code >= 500:
            logger.exception("request failed", extra={"error": error.code})
        else:
            logger.info("request refused", extra={"status": error.status_code, "error": error.code})
        answer = _answer(error.status_code, error.body())
        if isinstance(error, RateLimited):
            answer.headers["Retry-After"] = str(error.retry_after_seconds)
        return answer

    @app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
    def _invalid_request(error: RequestValidationError) -> Response[dict[str, Any]]:
        return _invalid([dict(e) for e in error.errors()])

    @app.exception_handler(RequestUnsupportedContentType)  # type: ignore[untyped-decorator]
    def _unsupported_content_type(_: RequestUnsupportedContentType) -> Response[dict[str, Any]]:
        # bodies.py refuses these before Powertools reads the body; should its rule ever differ, the same 415.
        refused = UnsupportedMediaType("Content-Type: send the body as application/json")
        return _answer(refused.status_code, refused.body())

    @app.exception_handler(ValidationError)  # type: ignore[untyped-decorator]
    def _invalid_domain_value(error: ValidationError) -> Response[dict[str, Any]]:
        # A value the request model let through but the domain refused is still the caller's input.
        return _invalid([dict(e) for e in error.errors()])

    @app.not_found
    def _no_route(_: Exception) -> Response[dict[str, Any]]:
        return _answer(404, {"error": "not_found", "message": "no such route"})
