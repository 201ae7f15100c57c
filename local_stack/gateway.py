"""API Gateway HTTP API, as far as our Lambdas can tell: template.yaml's routes, payload format 2.0 events, the Lambda
REQUEST authorizer with its ReauthorizeEvery cache, a handler's answer back to HTTP. Routes and authorizers come from
aws-sam-cli (local_stack.template), whose LambdaAuthorizer finds identity sources and judges the authorizer's answer."""

import base64
import copy
import json
import secrets
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from samcli.local.apigw.path_converter import PathConverter  # type: ignore[import-untyped]
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from local_stack.standins import json_response
from local_stack.template import ACCOUNT_ID, REGION, Authorizer, Route

API_ID = "local"
STAGE = "$default"
Invoke = Callable[[str, dict[str, Any]], Any]
# HTTP API hands these bodies over as text; anything else (form posts included) arrives base64-encoded.
_TEXT_TYPES = ("application/json", "application/javascript", "application/xml", "application/yaml")


class RouteTable:
    """A literal segment wins over a {variable}, as API Gateway selects routes (werkzeug ranks them so)."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = list(routes)
        flask_path = PathConverter.convert_path_to_flask  # /rides/{ride_id} → /rides/<ride_id>
        rules = [Rule(flask_path(r.path), endpoint=str(i), methods=[r.method]) for i, r in enumerate(self.routes)]
        self._map = Map(rules, merge_slashes=False)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        try:
            index, params = self._map.bind("local").match(path, method=method)
        except HTTPException:  # not found, method not allowed: API Gateway says 404 to both
            return None
        return self.routes[int(index)], {name: str(value) for name, value in params.items()}


def request_members(request: Request, domain_name: str, route: Route, params: Mapping[str, str]) -> dict[str, Any]:
    """What the route's and its authorizer's events both say (format 2.0); empty optional members left out, as AWS."""
    environ = request.environ
    raw_path = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(request.path)).split("?", 1)[0]
    # The WSGI environ holds one value per header name (the server joins repeats with commas, as AWS does).
    headers = {name.lower(): value for name, value in request.headers.items() if name.lower() != "cookie"}
    cookies = [part.strip() for part in request.headers.get("cookie", "").split(";") if part.strip()]
    source_ip = str(request.remote_addr or "127.0.0.1")
    added = {"x-forwarded-for": source_ip, "x-forwarded-proto": "http"}
    added["x-forwarded-port"] = domain_name.rpartition(":")[2] or "80"
    added["x-amzn-trace-id"] = f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"
    headers = added | headers  # what the request says wins
    raw_query = str(environ.get("QUERY_STRING", ""))
    query = {key: ",".join(values) for key, values in request.args.lists()}
    now = datetime.now(UTC)
    http = {"method": request.method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": source_ip}
    context: dict[str, Any] = {"accountId": ACCOUNT_ID, "apiId": API_ID, "domainName": domain_name}
    context |= {"domainPrefix": domain_name.split(".")[0], "http": {**http, "userAgent": headers.get("user-agent", "")}}
    context |= {"requestId": str(uuid.uuid4()), "routeKey": route.route_key, "stage": STAGE}
    context |= {"time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"), "timeEpoch": int(now.timestamp() * 1000)}
    members: dict[str, Any] = {"routeKey": route.route_key, "rawPath": raw_path, "rawQueryString": raw_query}
    members |= ({"cookies": cookies} if cookies else {}) | {"headers": headers}
    members |= ({"queryStringParameters": query} if query else {}) | {"requestContext": context}
    return members | ({"pathParameters": dict(params)} if params else {})


def http_event(members: Mapping[str, Any], body: bytes, authorizer_context: Mapping[str, Any] | None) -> dict[str, Any]:
    """The payload format 2.0 event: text bodies as text, anything else (form posts too) base64-encoded."""
    event: dict[str, Any] = {"version": "2.0", **copy.deepcopy(dict(members)), "isBase64Encoded": False}
    if authorizer_context is not None:
        event["requestContext"]["authorizer"] = {"lambda": dict(authorizer_context)}
    media_type = members["headers"].get("content-type", "").split(";", 1)[0].strip().lower()
    if body and (media_type.startswith("text/") or media_type in _TEXT_TYPES or media_type.endswith(("+json", "+xml"))):
        with suppress(UnicodeDecodeError):
            event["body"] = body.decode("utf-8")
    if body and "body" not in event:
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def response_from_result(result: Any) -> Response:
    """Payload format 2.0 response mapping; an answer API Gateway could not map raises ValueError (AWS says 500)."""
    try:
        status = int(result["statusCode"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"no numeric statusCode in {str(result)[:80]!r}") from None
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise ValueError(f"body must be a string, got {type(body).__name__}")
    raw = (base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()) if body else b""
    response = Response(raw, status=status)
    response.headers.remove("Content-Type")
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", str(cookie))
    return response


class Gateway:
    def __init__(
        self, routes: Iterable[Route], invoke: Invoke, domain_name: str, log: Callable[[str], None] | None = None
    ) -> None:
        self.routes = RouteTable(routes)
        self._invoke, self._domain_name, self._log = invoke, domain_name, log
        # API Gateway caches a decision per identity source values for ReauthorizeEvery seconds.
        self.authorizer_cache: dict[tuple[str, ...], tuple[float, tuple[bool, dict[str, Any]]]] = {}

    def handle(self, request: Request) -> Response:
        started = time.monotonic()
        matched = self.routes.match(request.method, request.path)
        if matched is None:
            response, route, request_id = json_response(404, {"message": "Not Found"}), None, str(uuid.uuid4())
            params: dict[str, str] = {}
        else:
            route, params = matched
            members = request_members(request, self._domain_name, route, params)
            response, request_id = self._dispatch(request, route, members), members["requestContext"]["requestId"]
        response.headers["apigw-requestid"] = request_id
        if self._log is not None:
            key, elapsed_ms = route.route_key if route else "-", (time.monotonic() - started) * 1000
            # An offer token is the driver's key to the ride: masked as ridecast.observability.mask_token does
            # (the gateway imports nothing of the layer, which is on the path only for the functions).
            token = params.get("token")
            path = request.path.replace(token, f"{token[:4]}***") if token else request.path
            self._log(f"{request.method} {path} → {response.status_code} ({key}, {elapsed_ms:.0f} ms)")
        return response

    def _dispatch(self, request: Request, route: Route, members: dict[str, Any]) -> Response:
        try:  # a failing authorizer is the API's fault too (ours refuses by answering)
            authorizer_context: dict[str, Any] | None = None
            if route.authorizer is not None:
                denied, authorizer_context = self._authorize(route.authorizer, members)
                if denied is not None:
                    return denied
            event = http_event(members, request.get_data(cache=True), authorizer_context)
            return response_from_result(self._invoke(route.function_id, event))
        except Exception:
            print(f"local stack: {route.route_key} failed", file=sys.stderr)
            traceback.print_exc()
            return json_response(500, {"message": "Internal Server Error"})

    def _authorize(
        self, authorizer: Authorizer, members: dict[str, Any]
    ) -> tuple[Response | None, dict[str, Any] | None]:
        sources = {"headers": Headers(members["headers"]), "querystring": members["rawQueryString"]}
        identity = [source.find_identity_value(**sources) for source in authorizer.sam.identity_sources]
        # A missing identity source is refused before the authorizer runs (and costs nothing).
        if not all(identity):
            return json_response(401, {"message": "Unauthorized"}), None
        key = (authorizer.name, *(str(value) for value in identity))
        expires, decision = self.authorizer_cache.get(key, (0.0, (False, {})))
        if expires <= time.monotonic():
            method, path = members["requestContext"]["http"]["method"], members["rawPath"]
            arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{STAGE}/{method}{path}"
            event = {"version": "2.0", "type": "REQUEST", "routeArn": arn, "identitySource": list(key[1:]), **members}
            # aws-sam-cli judges the answer (simple response or IAM policy); a malformed one raises.
            answer = json.dumps(self._invoke(authorizer.function_id, event))
            decision = authorizer.sam.is_valid_response(answer, arn), authorizer.sam.get_context(answer)
            # Atomic: concurrent requests at worst ask twice. ReauthorizeEvery 0: stale at once, as uncached.
            self.authorizer_cache[key] = (time.monotonic() + authorizer.ttl_seconds, decision)
        allowed, context = decision
        if not allowed:
            return json_response(403, {"message": "Forbidden"}), None
        return None, context
