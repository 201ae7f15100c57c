"""GET /console: the live web console (SPEC §9), a page and its files; its script calls this API with the key
the operator types in, so serving it needs no key."""

from aws_lambda_powertools.event_handler import Request, Response

from ridecast.api import console
from ridecast.api.callers import ANYONE
from ridecast.api.routing import Routes
from ridecast.errors import NotFound

routes = Routes(tag="console")

_NOT_MODIFIED = {304: {"description": "The browser's copy (If-None-Match) is current"}}


def _serve(name: str, request: Request) -> Response[str]:
    found = console.console_file(name)
    if found is None:
        raise NotFound(f"no console file {name!r}", file=name)
    headers = {**console.SECURITY_HEADERS, "ETag": found.etag, "Vary": "Accept-Encoding"}
    if found.fresh_for(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers, body="")
    # HTTP APIs do not compress: gzip here (when the browser accepts it) sends about a third of the bytes.
    return Response(status_code=200, content_type=found.content_type, body=found.body, headers=headers, compress=True)


@routes.get(
    "/console",
    callers=ANYONE,
    success={"description": "The console page", "content": {"text/html": {"schema": {"type": "string"}}}},
    responses=_NOT_MODIFIED,
)
def console_page(request: Request) -> Response[str]:
    """The live web console: sign in with a fleet key, watch matchings, steer dispatch."""
    return _serve(console.PAGE, request)


@routes.get(
    "/console/assets/<name>",
    callers=ANYONE,
    errors=(404,),
    success={
        "description": "A style sheet, ES module or page of the console",
        "content": {
            media_type: {"schema": {"type": "string"}} for media_type in ("text/css", "text/javascript", "text/html")
        },
    },
    responses=_NOT_MODIFIED,
)
def console_asset(name: str, request: Request) -> Response[str]:
    """One of the console's files (style sheet, ES modules), by name."""
    return _serve(name, request)
