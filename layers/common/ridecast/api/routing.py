"""Routes declared once with who may call them, served by any resolver.

Each area (`ridecast/api/routes/<area>.py`) declares its routes on a `Routes` table; a function serves its
area with `resolver(area)` and `http_handler`, and `describe` registers every area on one resolver to
describe them all (GET /openapi.json).
A Powertools `Router` would do the sharing too, but it binds itself to the last resolver that includes it
(`router.api_resolver`), and locally every function lives in one process; a table registered afresh on each
resolver shares nothing.

One request goes: who may call (`Callers`, from the authorizer's context) → can the body be read
(`bodies`) → Powertools validates it against the route's model → the route → Powertools serialises the
returned model. Who may call comes first, so a stranger gets 401 and a wrong role 403 before any word about
the body; the body is read before Powertools so its reader never meets one it cannot read.
"""

import inspect
import json
import os
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Request, Response
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from ridecast.api.bodies import BodyKind, check_body
from ridecast.api.callers import Callers
from ridecast.api.errors import error_responses, install_error_handlers
from ridecast.observability import logger, metrics
from ridecast.wiring import INITIALISED_AHEAD_OF_CALLERS, build_loaded_models

Handler = TypeVar("Handler", bound=Callable[..., Any])

BEARER_SCHEME = "bearerAuth"
_LAMBDA_CONTEXT = "lambda_context"


@dataclass(frozen=True)
class Endpoint:
    method: str
    rule: str  # Powertools' form: /rides/<ride_id>
    func: Callable[..., Any]
    callers: Callers
    body: BodyKind
    options: Mapping[str, Any]
    # The OpenAPI requestBody of a route that reads its body itself (a webhook): Powertools describes only
    # the bodies it parses into a model.
    read_body: Mapping[str, Any] | None = None

    @property
    def path(self) -> str:
        """The OpenAPI and template.yaml form: /rides/{ride_id}."""
        return re.sub(r"<(\w+)>", r"{\1}", self.rule)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _takes_a_json_model(func: Callable[..., Any]) -> bool:
    for name, hint in typing.get_type_hints(func).items():
        if name == "return":
            continue
        for candidate in (hint, *typing.get_args(hint)):
            if inspect.isclass(candidate) and issubclass(candidate, BaseModel):
                return True
    return False


@dataclass
class Routes:
    """One area's routes (an OpenAPI tag)."""

    tag: str
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        rule: str,
        *,
        callers: Callers,
        status_code: int = 200,
        errors: tuple[int, ...] = (),
        body: BodyKind | None = None,
        success: dict[str, Any] | None = None,
        responses: dict[int, dict[str, Any]] | None = None,
        read_body: dict[str, Any] | None = None,
        summary: str | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare a route. `errors` are the 4xx its domain can answer besides those its callers and body
        imply (all with the ErrorOut body); `body` defaults to "json" when the handler takes a request model;
        `success` and `responses` document answers that are not JSON (a page, TwiML); `read_body` the body of
        a route that reads it itself."""

        def register(func: Handler) -> Handler:
            kind = body or ("json" if _takes_a_json_model(func) else "none")
            refusals = (401, 403) if callers.need_a_key else ()
            unreadable = {"json": (400, 415, 422), "form": (400, 415), "none": ()}[kind]
            statuses = sorted({*refusals, *unreadable, *errors})
            documented = {
                status_code: success or {"description": "OK"},
                **error_responses(*statuses),
                **(responses or {}),
            }
            options = {
                "status_code": status_code,
                "responses": documented,
                "tags": [self.tag],
                "summary": summary or (func.__doc__ or func.__name__).strip().splitlines()[0],
                "description": f"Who may call: {callers.description}.",
                "security": [{BEARER_SCHEME: []}] if callers.need_a_key else [],
            }
            self.endpoints.append(Endpoint(method.upper(), rule, func, callers, kind, options, read_body))
            return func

        return register

    def get(self, rule: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", rule, **options)

    def post(self, rule: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", rule, **options)

    def patch(self, rule: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", rule, **options)

    def delete(self, rule: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", rule, **options)


@cache
def _validation() -> tuple[BaseMiddlewareHandler[Any], BaseMiddlewareHandler[Any]]:
    """Powertools' request and response validation, made on the first request rather than at import: they
    bring its OpenAPI field machinery, which builds a pydantic model as it loads (with pydantic's plugin
    lookup), and the Lambda init of every HTTP function paid for it (SPEC §7). A function that starts from a
    snapshot makes them before the snapshot (`warm`)."""
    from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
        OpenAPIRequestValidationMiddleware,
        OpenAPIResponseValidationMiddleware,
    )

    return (
        OpenAPIRequestValidationMiddleware(),  # type: ignore[no-untyped-call]
        # An answer that does not match its own model is our bug: a 500, never a 422 to the caller.
        OpenAPIResponseValidationMiddleware(has_response_validation_error=True),
    )


def _validate_request(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    return _validation()[0](app, next_middleware)


def _validate_response(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
    return _validation()[1](app, next_middleware)


def resolver(*areas: Routes) -> APIGatewayHttpResolver:
    """A resolver serving these areas, with who-may-call, body reading, validation and errors in order."""
    # Powertools' own validation would run first of all; ours is placed after who may call and the body.
    app = APIGatewayHttpResolver(enable_validation=False)
    endpoints = {endpoint.key: endpoint for area in areas for endpoint in area.endpoints}

    def refuse_early(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[Any]:
        request = app.request
        endpoint = endpoints.get(f"{request.method} {request.route}")
        if endpoint is not None:  # None: no such route, and the not-found answer follows
            endpoint.callers.refuse_or_pass(request)
            check_body(endpoint.body, request.resolved_event)
        return next_middleware(app)

    app.use([refuse_early, _validate_request, _validate_response])
    install_error_handlers(app)
    for endpoint in endpoints.values():
        app.route(endpoint.rule, endpoint.method, **endpoint.options)(endpoint.func)
    return app


def _security_schemes() -> dict[str, Any]:
    # Powertools' OpenAPI models take 0.1 s to import: only describing the routes pays for them.
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {BEARER_SCHEME: HTTPBearer(description="A fleet API key, or the platform root key")}


def describe(*areas: Routes) -> dict[str, Any]:
    """The OpenAPI 3.1 document of these areas' routes."""
    document: dict[str, Any] = json.loads(
        resolver(*areas).get_openapi_json_schema(
            title="Ridecast",
            version="1",
            description="Ride dispatch for taxi and private-hire fleets. Send `Authorization: Bearer <api key>`.",
            security_schemes=_security_schemes(),
        )
    )
    for endpoint in (endpoint for area in areas for endpoint in area.endpoints):
        if endpoint.read_body is not None:
            document["paths"][endpoint.path][endpoint.method.lower()]["requestBody"] = dict(endpoint.read_body)
    return document


def handle(app: APIGatewayHttpResolver, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Resolve one invocation; routes that need the Lambda context get it with `lambda_context(request)`."""
    app.context[_LAMBDA_CONTEXT] = context  # cleared by resolve() when the invocation ends
    return app.resolve(event, context)


def warm(app: APIGatewayHttpResolver) -> None:
    """Make now what the first request would: the validation middleware, each route's parameters and body
    field with their validators (describing the routes touches them all, through Powertools' public API),
    and every model's own validators."""
    _validation()
    app.get_openapi_schema(security_schemes=_security_schemes())
    build_loaded_models()  # the models the routes build themselves (`RideOut.from_domain`), and the domain's


def lambda_context(request: Request) -> LambdaContext | None:
    context: LambdaContext | None = request.context.get(_LAMBDA_CONTEXT)
    return context


def http_handler(
    app: APIGatewayHttpResolver, *, with_metrics: bool = True
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda handler of a function serving `app`: correlation ids in every log line, then EMF metrics
    (left out where a route records none, as /health). X-Ray sees the invocation through the platform's
    own segments (`Tracing: Active`), see ridecast/observability.py.
    Initialised ahead of any caller (SnapStart, provisioned concurrency), the function warms its routes then,
    so the snapshot holds them (as it holds the ports, ridecast/wiring.py)."""
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") in INITIALISED_AHEAD_OF_CALLERS:
        warm(app)

    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return handle(app, event, context)

    handler = lambda_handler
    if with_metrics:
        handler = metrics.log_metrics(handler)
    logged: Callable[[dict[str, Any], LambdaContext], dict[str, Any]] = logger.inject_lambda_context(
        handler, correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
    )
    return logged
