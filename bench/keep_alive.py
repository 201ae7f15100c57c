"""A WSGI application served over HTTP/1.1 connections that stay open, for the benchmarks' stand-ins of remote
services (the AWS emulator, the providers).

werkzeug's development server (which moto's server mode and the local stack use) ends every response with
`Connection: close` and starts a thread per connection, so each call of a client pays a TCP connect and close
on both sides. DynamoDB, Twilio and Telegram keep their clients' connections open; a benchmark that charged the
code under test for reconnecting would measure the stand-in's server, not the code. Here aiohttp's low-level
server (one handler takes every path: no router or middlewares to pass) keeps the connections and hands each
request to the WSGI application on its one event-loop thread (one request at a time: moto's backends are not
thread-safe, and the stand-ins are quick). `delay_seconds(path)` is how long the service takes to answer,
waited without holding a thread, so a thousand requests in flight cost no threads.
A `shortcut` may answer a request itself, after that wait, sparing it the WSGI round trip (environ, werkzeug's
request and response: most of a quick stand-in's CPU); it returns None for the requests it leaves to the app.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from wsgiref.types import WSGIApplication

from aiohttp import web
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

# Hop-by-hop headers are the server's own business; aiohttp writes them for the connection it keeps.
HOP_BY_HOP = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive"})
type Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
type Shortcut = Callable[[web.BaseRequest, bytes], web.Response | None]  # a request and its body → its answer, or None


def no_delay(path: str) -> float:
    return 0.0


def no_shortcut(request: web.BaseRequest, body: bytes) -> None:
    return None


def application(
    app: WSGIApplication, delay_seconds: Callable[[str], float] = no_delay, shortcut: Shortcut = no_shortcut
) -> Handler:
    async def handle(request: web.BaseRequest) -> web.Response:
        # From the stream: request.read() refuses bodies over 1 MB, and a DynamoDB BatchWriteItem may be 16 MB.
        body = await request.content.read()
        if (delay := delay_seconds(request.path)) > 0:
            await asyncio.sleep(delay)
        if (quick := shortcut(request, body)) is not None:
            return quick
        environ = EnvironBuilder(
            method=request.method,
            path=request.raw_path,
            base_url=f"{request.scheme}://{request.host}",
            headers=Headers(list(request.headers.items())),
            data=body,
        ).get_environ()
        answer = Response.from_app(app, environ, buffered=True)
        headers = [(name, value) for name, value in answer.headers.items() if name.lower() not in HOP_BY_HOP]
        return web.Response(body=answer.get_data(), status=answer.status_code, headers=headers)

    return handle


def serve(handler: Handler, port: int, ready: Callable[[int], None]) -> None:
    """Serve `handler` on 127.0.0.1:`port` (0: any free port) until SIGTERM or SIGINT; `ready` gets the port."""

    async def main() -> None:
        # handle_signals: SIGTERM and SIGINT raise GracefulExit out of the loop, which ends the run cleanly.
        runner = web.ServerRunner(web.Server(handler, access_log=None), handle_signals=True)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        ready(runner.addresses[0][1])
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(web.GracefulExit):
        asyncio.run(main())
