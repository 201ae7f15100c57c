"""API Gateway HTTP API, as far as our Lambdas can tell: route selection, payload format 2.0 events, the
Lambda REQUEST authorizer with its cache, and the mapping of a handler's answer back to HTTP."""

from __future__ import annotations

import base64
import fnmatch
import json
import secrets
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from werkzeug.wrappers import Request, Response

from local_stack.sam import AuthorizerSpec, CorsSpec, HttpApiSpec, Route
from local_stack.template import ACCOUNT_ID, REGION

API_ID = "local"
STAGE = "$default"
Invoke = Callable[[str, dict[str, Any]], Any]

# HTTP API hands these bodies over as text; anything else (form posts included) arrives base64-encoded.
_TEXT_TYPES = (
    "application/json",
    "application/javascript",
    "application/xml",
    "application/yaml",
)


def _json_response(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=dict(headers or {}), content_type="application/json")


# ---------------------------------------------------------------------- routes
@dataclass(frozen=True)
class _Segment:
    text: str
    kind: int  # 0 literal, 1 {variable}, 2 {greedy+}

    @property
    def name(self) -> str:
        return self.text[1:-1].rstrip("+")


def _segments(path: str) -> tuple[_Segment, ...]:
    out = []
    for part in path.split("/")[1:]:
        if part.startswith("{") and part.endswith("+}"):
            out.append(_Segment(part, 2))
        elif part.startswith("{") and part.endswith("}"):
            out.append(_Segment(part, 1))
        else:
            out.append(_Segment(part, 0))
    return tuple(out)


class RouteTable:
    """Most specific route wins: literal segments over {variables} over {greedy+}, a method over ANY,
    and $default last, as API Gateway selects them."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = [(route, _segments(route.path) if route.path != "$default" else ()) for route in routes]

    @property
    def routes(self) -> list[Route]:
        return [route for route, _ in self._routes]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        parts = path.split("/")[1:]
        candidates: list[tuple[tuple[int, tuple[int, ...], bool], Route, dict[str, str]]] = []
        for route, pattern in self._routes:
            if route.method not in ("ANY", method.upper()):
                continue
            if route.path == "$default":
                candidates.append(((1, (), route.method == "ANY"), route, {}))
                continue
            params = _match(pattern, parts)
            if params is not None:
                candidates.append(((0, tuple(s.kind for s in pattern), route.method == "ANY"), route, params))
        if not candidates:
            return None
        _, route, params = min(candidates, key=lambda candidate: candidate[0])
        return route, params


def _match(pattern: tuple[_Segment, ...], parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, segment in enumerate(pattern):
        if segment.kind == 2:
            rest = parts[index:]
            if not rest or rest == [""]:
                return None
            params[segment.name] = "/".join(rest)
            return params
        if index >= len(parts):
            return None
        if segment.kind == 1:
            if not parts[index]:
                return None
            params[segment.name] = parts[index]
        elif segment.text != parts[index]:
            return None
    return params if len(parts) == len(pattern) else None


# ---------------------------------------------------------------------- events
@dataclass(frozen=True)
class IncomingRequest:
    """One HTTP request as API Gateway sees it, before any route or authorizer is involved."""

    method: str
    raw_path: str
    raw_query: str
    headers: dict[str, str]
    cookies: list[str]
    query: dict[str, str]
    body: bytes
    source_ip: str
    domain_name: str
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    received: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def path(self) -> str:
        return unquote(self.raw_path)

    @classmethod
    def from_werkzeug(cls, request: Request, domain_name: str) -> IncomingRequest:
        environ = request.environ
        raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(request.path))
        raw_path = raw_uri.split("?", 1)[0] or "/"
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in request.headers.items():
            key = name.lower()
            if key == "cookie":
                cookies.extend(part.strip() for part in value.split(";") if part.strip())
                continue
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        source_ip = str(request.remote_addr or "127.0.0.1")
        headers.setdefault("x-forwarded-for", source_ip)
        headers.setdefault("x-forwarded-proto", "http")
        headers.setdefault("x-forwarded-port", domain_name.rpartition(":")[2] or "80")
        headers.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}")
        raw_query = str(environ.get("QUERY_STRING", ""))
        query: dict[str, str] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        return cls(
            method=request.method.upper(),
            raw_path=raw_path,
            raw_query=raw_query,
            headers=headers,
            cookies=cookies,
            query=query,
            body=request.get_data(cache=True),
            source_ip=source_ip,
            domain_name=domain_name,
        )

    def request_context(self, route_key: str) -> dict[str, Any]:
        return {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": self.domain_name,
            "domainPrefix": self.domain_name.split(".")[0],
            "http": {
                "method": self.method,
                "path": self.raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": self.source_ip,
                "userAgent": self.headers.get("user-agent", ""),
            },
            "requestId": self.request_id,
            "routeKey": route_key,
            "stage": STAGE,
            "time": self.received.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(self.received.timestamp() * 1000),
        }

    def route_arn(self) -> str:
        return f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{STAGE}/{self.method}{self.raw_path}"


def build_http_event(
    incoming: IncomingRequest,
    route: Route,
    path_parameters: Mapping[str, str],
    authorizer_context: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The payload format 2.0 event; optional members are left out when empty, as API Gateway does."""
    context = incoming.request_context(route.route_key)
    if authorizer_context is not None:
        context["authorizer"] = {"lambda": dict(authorizer_context)}
    event: dict[str, Any] = {"version": "2.0", **_request_members(incoming, route, path_parameters, context)}
    if incoming.body:
        content_type = incoming.headers.get("content-type", "")
        if is_text_content_type(content_type):
            try:
                event["body"] = incoming.body.decode("utf-8")
                event["isBase64Encoded"] = False
            except UnicodeDecodeError:
                event["body"] = base64.b64encode(incoming.body).decode()
                event["isBase64Encoded"] = True
        else:
            event["body"] = base64.b64encode(incoming.body).decode()
            event["isBase64Encoded"] = True
    else:
        event["isBase64Encoded"] = False
    return event


def build_authorizer_event(
    incoming: IncomingRequest, route: Route, path_parameters: Mapping[str, str], identity: list[str]
) -> dict[str, Any]:
    return {
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": incoming.route_arn(),
        "identitySource": identity,
        **_request_members(incoming, route, path_parameters, incoming.request_context(route.route_key)),
    }


def _request_members(
    incoming: IncomingRequest, route: Route, path_parameters: Mapping[str, str], context: dict[str, Any]
) -> dict[str, Any]:
    """What the route's event and its authorizer's event both say about the request (format 2.0)."""
    members: dict[str, Any] = {
        "routeKey": route.route_key,
        "rawPath": incoming.raw_path,
        "rawQueryString": incoming.raw_query,
    }
    if incoming.cookies:
        members["cookies"] = list(incoming.cookies)
    members["headers"] = dict(incoming.headers)
    if incoming.query:
        members["queryStringParameters"] = dict(incoming.query)
    members["requestContext"] = context
    if path_parameters:
        members["pathParameters"] = {key: unquote(value) for key, value in path_parameters.items()}
    return members


def is_text_content_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return (
        media_type.startswith("text/")
        or media_type in _TEXT_TYPES
        or media_type.endswith("+json")
        or media_type.endswith("+xml")
    )


class HandlerAnswerError(ValueError):
    """The Lambda answered something API Gateway cannot turn into a response (AWS says 500)."""


def response_from_result(result: Any) -> Response:
    """Payload format 2.0 response mapping, including the 'no statusCode → 200 JSON' shortcut."""
    if not (isinstance(result, dict) and "statusCode" in result):
        text = result if isinstance(result, str) else json.dumps(result)
        return Response(text, status=200, content_type="application/json")
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        raise HandlerAnswerError(f"statusCode {result['statusCode']!r} is not a number") from None
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise HandlerAnswerError(f"body must be a string, got {type(body).__name__}")
    raw = (base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()) if body else b""
    response = Response(raw, status=status)
    response.headers.remove("Content-Type")
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.add(name, str(value))
    for cookie in result.get("cookies") or []:
        response.headers.add("Set-Cookie", str(cookie))
    return response


# ---------------------------------------------------------------------- authorizer
@dataclass(frozen=True)
class AuthorizerDecision:
    allowed: bool
    context: dict[str, Any]


class AuthorizerCache:
    """API Gateway caches a decision per identity source values for ReauthorizeEvery seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[tuple[str, tuple[str, ...]], tuple[float, AuthorizerDecision]] = {}
        self._lock = threading.Lock()

    def get(self, authorizer: str, identity: tuple[str, ...]) -> AuthorizerDecision | None:
        with self._lock:
            entry = self._entries.get((authorizer, identity))
            if entry is None or entry[0] <= self._clock():
                return None
            return entry[1]

    def put(self, authorizer: str, identity: tuple[str, ...], ttl: int, decision: AuthorizerDecision) -> None:
        if ttl <= 0:
            return
        with self._lock:
            self._entries[(authorizer, identity)] = (self._clock() + ttl, decision)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def decision_from_answer(spec: AuthorizerSpec, answer: Any, route_arn: str) -> AuthorizerDecision:
    if not isinstance(answer, dict):
        raise HandlerAnswerError("authorizer answer is not an object")
    context = answer.get("context") or {}
    if not isinstance(context, dict):
        raise HandlerAnswerError("authorizer context is not an object")
    if spec.simple_responses:
        if not isinstance(answer.get("isAuthorized"), bool):
            raise HandlerAnswerError("simple authorizer answer needs a boolean isAuthorized")
        return AuthorizerDecision(answer["isAuthorized"], context)
    statements = (answer.get("policyDocument") or {}).get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    effects = set()
    for statement in statements:
        resources = statement.get("Resource") or []
        resources = [resources] if isinstance(resources, str) else resources
        if any(fnmatch.fnmatchcase(route_arn, pattern) for pattern in resources):
            effects.add(statement.get("Effect"))
    return AuthorizerDecision("Allow" in effects and "Deny" not in effects, context)


# ---------------------------------------------------------------------- the gateway
class Gateway:
    def __init__(
        self,
        api: HttpApiSpec,
        invoke: Invoke,
        domain_name: str,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.routes = RouteTable(api.routes)
        self._authorizers = api.authorizers
        self._cors = api.cors
        self._invoke = invoke
        self._domain_name = domain_name
        self._log = log
        self.authorizer_cache = AuthorizerCache()

    def handle(self, request: Request) -> Response:
        incoming = IncomingRequest.from_werkzeug(request, self._domain_name)
        started = time.monotonic()
        response, route = self._dispatch(incoming)
        response.headers["apigw-requestid"] = incoming.request_id
        self._apply_cors(incoming, response)
        if self._log is not None:
            elapsed_ms = (time.monotonic() - started) * 1000
            key = route.route_key if route else "-"
            self._log(f"{incoming.method} {incoming.raw_path} → {response.status_code} ({key}, {elapsed_ms:.0f} ms)")
        return response

    def _dispatch(self, incoming: IncomingRequest) -> tuple[Response, Route | None]:
        if self._is_preflight(incoming):
            return Response(status=204), None
        matched = self.routes.match(incoming.method, incoming.path)
        if matched is None:
            return _json_response(404, {"message": "Not Found"}), None
        route, params = matched
        authorizer_context: dict[str, Any] | None = None
        if route.authorizer is not None:
            denied, authorizer_context = self._authorize(incoming, route, params)
            if denied is not None:
                return denied, route
        event = build_http_event(incoming, route, params, authorizer_context)
        try:
            result = self._invoke(route.function_id, event)
            return response_from_result(result), route
        except Exception:
            print(f"local stack: {route.function_id} failed on {route.route_key}", file=sys.stderr)
            traceback.print_exc()
            return _json_response(500, {"message": "Internal Server Error"}), route

    def _authorize(
        self, incoming: IncomingRequest, route: Route, params: Mapping[str, str]
    ) -> tuple[Response | None, dict[str, Any] | None]:
        assert route.authorizer is not None
        spec = self._authorizers[route.authorizer]
        identity = [incoming.headers.get(h.lower(), "") for h in spec.identity_headers]
        identity += [incoming.query.get(q, "") for q in spec.identity_query_strings]
        # A missing identity source is refused before the authorizer runs (and costs nothing).
        if any(not value for value in identity):
            return _json_response(401, {"message": "Unauthorized"}), None
        decision = self.authorizer_cache.get(spec.name, tuple(identity))
        if decision is None:
            event = build_authorizer_event(incoming, route, params, identity)
            try:
                answer = self._invoke(spec.function_id, event)
                decision = decision_from_answer(spec, answer, incoming.route_arn())
            except Exception as error:
                # The REST API convention API Gateway keeps: an authorizer failing with exactly
                # "Unauthorized" means 401; any other failure is the API's fault.
                if str(error) == "Unauthorized":
                    return _json_response(401, {"message": "Unauthorized"}), None
                print(f"local stack: authorizer {spec.name} failed", file=sys.stderr)
                traceback.print_exc()
                return _json_response(500, {"message": "Internal Server Error"}), None
            if identity:
                self.authorizer_cache.put(spec.name, tuple(identity), spec.ttl_seconds, decision)
        if not decision.allowed:
            return _json_response(403, {"message": "Forbidden"}), None
        return None, decision.context

    # ------------------------------------------------------------------ CORS (only if the template sets it)
    def _origin_allowed(self, origin: str) -> bool:
        return self._cors is not None and ("*" in self._cors.allow_origins or origin in self._cors.allow_origins)

    def _is_preflight(self, incoming: IncomingRequest) -> bool:
        return (
            incoming.method == "OPTIONS"
            and "origin" in incoming.headers
            and "access-control-request-method" in incoming.headers
            and self._cors is not None
        )

    def _apply_cors(self, incoming: IncomingRequest, response: Response) -> None:
        origin = incoming.headers.get("origin")
        cors: CorsSpec | None = self._cors
        if cors is None or origin is None or not self._origin_allowed(origin):
            return
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in cors.allow_origins else origin
        if cors.allow_credentials:
            response.headers["Access-Control-Allow-Credentials"] = "true"
        if cors.expose_headers:
            response.headers["Access-Control-Expose-Headers"] = ",".join(cors.expose_headers)
        if self._is_preflight(incoming):
            response.headers["Access-Control-Allow-Methods"] = ",".join(cors.allow_methods) or "*"
            response.headers["Access-Control-Allow-Headers"] = ",".join(cors.allow_headers) or "*"
            if cors.max_age is not None:
                response.headers["Access-Control-Max-Age"] = str(cors.max_age)
