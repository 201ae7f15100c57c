"""bench/keep_alive.py: the benchmarks' remote services answer on connections that stay open, pass the WSGI
application's answer through unchanged, wait their answer time without a thread each, and let a shortcut answer
the requests it takes (after that wait) without the application."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from aiohttp import ClientSession, TCPConnector, web
from aiohttp.test_utils import RawTestServer
from werkzeug.wrappers import Request, Response

from bench.keep_alive import application


@Request.application
def echo(request: Request) -> Response:
    body = {
        "method": request.method,
        "path": request.path,
        "query": request.args.to_dict(),
        "body": request.get_data(as_text=True),
    }
    return Response(
        str(body), status=201 if request.method == "POST" else 200, headers={"X-Echo": request.headers.get("X-In", "")}
    )


async def _calls(delay: float, count: int) -> tuple[list[tuple[int, str, str]], int, float]:
    served = application(echo, lambda path: delay if path.startswith("/slow") else 0.0)
    async with RawTestServer(served) as server:
        connector = TCPConnector(limit=count)
        async with ClientSession(connector=connector) as session:
            started = time.perf_counter()

            async def call(i: int) -> tuple[int, str, str]:
                url = server.make_url(f"/slow/{i}?n={i}")
                async with session.post(url, data=f"body {i}", headers={"X-In": str(i)}) as answer:
                    return answer.status, answer.headers["X-Echo"], await answer.text()

            answers = list(await asyncio.gather(*(call(i) for i in range(count))))
            elapsed = time.perf_counter() - started
            again = [await call(i) for i in range(3)]
            return answers + again, sum(len(c) for c in connector._conns.values()), elapsed


def test_answers_pass_through_on_connections_kept_open() -> None:
    # Given a WSGI application served by the keep-alive server, answering /slow after 0.2 s
    # When 50 requests arrive at once, then 3 more one after another
    # (on a thread of its own: a browser test's driver may have left this thread's event loop running)
    with ThreadPoolExecutor(max_workers=1) as thread:
        answers, open_connections, elapsed = thread.submit(asyncio.run, _calls(0.2, 50)).result()

    # Then each answer is the application's own: status, headers and body
    status, echoed, body = answers[7]
    assert (status, echoed) == (201, "7")
    assert "'path': '/slow/7'" in body
    assert "'query': {'n': '7'}" in body
    assert "'body': 'body 7'" in body
    # And the 50 waits overlapped instead of queueing behind each other
    assert elapsed < 0.2 * 10
    # And the connections stayed open for reuse: the last three calls opened none
    assert open_connections == 50


def _quick(request: web.BaseRequest, body: bytes) -> web.Response | None:
    """Answers the paths that end in /quick itself, with the body it was given; leaves the rest to the app."""
    return web.Response(text=f"quick {body.decode()}", status=202) if request.path.endswith("/quick") else None


async def _shortcut_calls(delay: float) -> list[tuple[int, str, float]]:
    served = application(echo, lambda path: delay if path.startswith("/slow") else 0.0, _quick)
    async with RawTestServer(served) as server, ClientSession() as session:

        async def call(path: str) -> tuple[int, str, float]:
            started = time.perf_counter()
            async with session.post(server.make_url(path), data=b"hello") as answer:
                return answer.status, await answer.text(), time.perf_counter() - started

        return [await call(path) for path in ("/quick", "/echo", "/slow/quick")]


def test_a_shortcut_answers_its_requests_after_the_wait_and_leaves_the_others_to_the_app() -> None:
    # Given a WSGI application served with a shortcut that answers /…/quick itself, and /slow waiting 0.2 s
    # When /quick, /echo and /slow/quick are called (on a thread of its own, as above)
    with ThreadPoolExecutor(max_workers=1) as thread:
        quick, echoed, slow = thread.submit(asyncio.run, _shortcut_calls(0.2)).result()

    # Then the shortcut answered its own, with the request's body
    assert quick[:2] == (202, "quick hello")
    # And the application answered the others
    assert echoed[0] == 201
    assert "'body': 'hello'" in echoed[1]
    # And the shortcut's answer still came after the service's wait
    assert slow[:2] == (202, "quick hello")
    assert slow[2] >= 0.2


@Request.application
def size(request: Request) -> Response:
    return Response(str(len(request.get_data())))


async def _post(body: bytes) -> tuple[int, str]:
    async with RawTestServer(application(size)) as server, ClientSession() as session:
        answer = await session.post(server.make_url("/batch"), data=body)
        return answer.status, await answer.text()


def test_bodies_over_aiohttps_default_megabyte_reach_the_application() -> None:
    # Given a body of 3 MB (a DynamoDB BatchWriteItem may be 16 MB; aiohttp's request.read() stops at 1 MB)
    # When it is posted (on a thread of its own, as above)
    with ThreadPoolExecutor(max_workers=1) as thread:
        status, answer = thread.submit(asyncio.run, _post(b"x" * 3_000_000)).result()

    # Then the application got all of it
    assert (status, answer) == (200, "3000000")
