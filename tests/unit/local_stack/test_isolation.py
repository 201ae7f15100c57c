"""Concurrent invocations in one process see their own Powertools request state, as separate containers do."""

import json
import threading
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from local_stack.lambdas import invocation_isolation


def _event(path: str, marker: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"GET {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"x-marker": marker},
        "requestContext": {"http": {"method": "GET", "path": path}, "stage": "$default"},
        "isBase64Encoded": False,
    }


def test_concurrent_requests_read_their_own_event_and_route() -> None:
    # Given a resolver whose route reads the current event after yielding the GIL to other requests
    app = APIGatewayHttpResolver()
    barrier = threading.Barrier(8)

    @app.get("/echo/<marker>")
    def echo(marker: str) -> dict[str, str]:
        barrier.wait(timeout=10)  # every request is inside its route at once
        return {"path": marker, "header": app.current_event.headers["x-marker"]}

    isolation = invocation_isolation()
    isolation.start()
    try:
        answers: dict[str, Any] = {}

        def call(marker: str) -> None:
            answers[marker] = app.resolve(_event(f"/echo/{marker}", marker), {})

        threads = [threading.Thread(target=call, args=(f"m{i}",)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
    finally:
        isolation.stop()
    # Then each request answered with its own path parameter and its own header
    for marker, answer in answers.items():
        assert json.loads(answer["body"]) == {"path": marker, "header": marker}
    assert len(answers) == 8
