"""The request body is read and checked here, before Powertools validates it against the route's model, so
its reader never meets a body it cannot read and no bad body ever reaches a 5xx (SPEC §3 "Strictness")."""

import base64
import binascii
import json
from typing import Any, Literal

from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from ridecast.api.errors import InvalidJson, UnreadableBody, UnsupportedMediaType
from ridecast.errors import InvalidInput

BodyKind = Literal["json", "form", "none"]

# Deeper than any request model goes (a fleet is four levels); far below the parser's recursion limit.
MAX_JSON_DEPTH = 32
TOO_DEEP = f"the request body is nested too deep: at most {MAX_JSON_DEPTH} levels (recursion limit)"
SMALLEST_NUMBER = 1e-9
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _raw_content_type(event: BaseProxyEvent) -> str:
    return ((event.headers or {}).get("content-type") or "").strip()


def _media_type(event: BaseProxyEvent) -> tuple[str, dict[str, str]]:
    header = _raw_content_type(event)
    media_type, *parameters = (part.strip() for part in header.split(";"))
    options = {}
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        options[name.strip().lower()] = value.strip().strip('"')
    return media_type.lower(), options


def _text(event: BaseProxyEvent) -> str:
    raw = event.get("body") or ""
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode("utf-8")
    except (binascii.Error, UnicodeEncodeError):
        raise UnreadableBody("the request body is not valid base64 (isBase64Encoded is set)") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableBody(f"the request body is not valid UTF-8 ({error.reason} at byte {error.start})") from None


def _number(literal: str) -> float:
    # 1e-167 is valid JSON and passes every range check, but DynamoDB stores nothing below 1e-130 and no
    # price, coordinate or rate in this API means anything below a billionth.
    value = float(literal)
    if value != 0 and abs(value) < SMALLEST_NUMBER:
        raise InvalidInput(f"body: {literal} is too close to zero; send 0 or a number of at least {SMALLEST_NUMBER}")
    return value


def _refuse_constant(name: str) -> Any:
    raise InvalidJson(f"the request body is not valid JSON: {name} is not a JSON number")


def _depth(value: Any) -> int:
    deepest, level = 0, [(value, 1)]
    while level:
        item, depth = level.pop()
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        level.extend((child, depth + 1) for child in children)
    return deepest


_JSON_KINDS: dict[type, str] = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",  # a whole body of null is no body; a ride of a batch cannot be null
}


def not_an_object(value: Any) -> InvalidInput:
    """The refusal of a JSON value that should have been an object (a body, or a ride of a batch)."""
    return InvalidInput(f"body: must be a JSON object, not {_JSON_KINDS[type(value)]}", field="body")


def check_json_object(event: BaseProxyEvent) -> None:
    """A JSON route's body: application/json, UTF-8, JSON, an object, not nested absurdly deep (or empty)."""
    media_type, options = _media_type(event)
    if media_type == MULTIPART and "boundary" not in options:
        raise UnreadableBody("Content-Type multipart/form-data without a boundary: send application/json")
    if media_type not in ("", JSON):
        raise UnsupportedMediaType(f"Content-Type {media_type}: send the body as application/json")
    if not _raw_content_type(event).startswith(JSON) and media_type:
        # Media types are case-insensitive, but Powertools reads the body as JSON only when the header says
        # application/json in lower case; anything else would fail there.
        raise UnsupportedMediaType("Content-Type: write application/json in lower case")
    if options.get("charset", "utf-8").lower() not in ("utf-8", "utf8"):
        raise UnsupportedMediaType("Content-Type charset: send the body as application/json in UTF-8")
    text = _text(event)
    if not text:
        return  # no body: the route's model says whether one is required
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_number)
    except json.JSONDecodeError as error:
        raise InvalidJson(f"the request body is not valid JSON: {error.msg} at position {error.pos}") from None
    except RecursionError:
        raise UnreadableBody(TOO_DEEP) from None
    if value is None:
        return  # `null` is no body, as an empty one
    if not isinstance(value, dict):
        raise not_an_object(value)
    if _depth(value) > MAX_JSON_DEPTH:
        raise UnreadableBody(TOO_DEEP)


def check_form(event: BaseProxyEvent) -> None:
    """A webhook's form post: form-encoded UTF-8, as Twilio sends it (an empty one is empty whatever its type)."""
    media_type, _ = _media_type(event)
    text = _text(event)
    if text and media_type != FORM:
        raise UnsupportedMediaType(f"Content-Type {media_type or '(none)'}: send the body as {FORM}")


def check_body(kind: BodyKind, event: BaseProxyEvent) -> None:
    if kind == "json":
        check_json_object(event)
    elif kind == "form":
        check_form(event)
