"""SPEC §7 API latency under 50 requests/s: a paced, open-loop load generator against the local stack.

Open loop: request i is due at start + i / rate whatever the earlier ones are doing, and its latency counts
from when it was due, so a slow answer delays no later request and a backlog in the client shows as latency
(back-to-back requests would slow down with the server and hide its queueing: coordinated omission).
"""

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from bench.rows import percentile

RATE = 50.0  # requests per second
SECONDS = 10.0
# Enough clients that 50/s never waits for a free one while answers stay under a second or two.
CLIENTS = 64

Send = Callable[[requests.Session, int], int]  # a client session, the request's number → HTTP status


def open_loop(send: Send, rate: float = RATE, seconds: float = SECONDS, clients: int = CLIENTS) -> dict[str, Any]:
    """Latency (from the moment each request was due) and outcome of `rate x seconds` paced requests."""
    sessions = threading.local()
    count = round(rate * seconds)
    start = time.perf_counter() + 0.2
    latencies: list[float] = [0.0] * count
    statuses: list[int] = [0] * count

    def one(index: int, due: float) -> None:
        session = getattr(sessions, "session", None)
        if session is None:  # one keep-alive connection per client, as a real API client holds
            session = sessions.session = requests.Session()
        try:
            statuses[index] = send(session, index)
        except requests.RequestException:
            statuses[index] = 0
        latencies[index] = (time.perf_counter() - due) * 1000

    with ThreadPoolExecutor(max_workers=clients) as pool:
        for index in range(count):
            due = start + index / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            pool.submit(one, index, due)
        issued = time.perf_counter() - start
    return {
        "requests": count,
        "achieved_per_second": round(count / issued, 1) if issued > 0 else None,
        "ms_p50": round(percentile(latencies, 0.5), 1),
        "ms_p95": round(percentile(latencies, 0.95), 1),
        "ms_max": round(max(latencies), 1),
        "errors": sum(1 for status in statuses if status >= 500 or status == 0),
        "not_2xx": sum(1 for status in statuses if not 200 <= status < 300),
    }


def api_latency(bench: Any) -> dict[str, Any]:
    """`GET /rides/{id}` then `POST /rides`, each at 50 requests/s for 10 s. The fleet has no drivers: each
    booking starts its matching, which ends at once for want of drivers, so the one process of the local
    stack serves the API rather than 500 matchings (on AWS those are Lambdas of their own)."""
    _, key = bench.fleet()
    headers = {"Authorization": f"Bearer {key}"}
    ride_id = bench.ride(key, timeout=120)["ride_id"]
    phones = [bench.phone() for _ in range(round(RATE * SECONDS))]  # a customer each: nothing is deduplicated

    def get_ride(session: requests.Session, _: int) -> int:
        return session.get(f"{bench.api}/rides/{ride_id}", headers=headers, timeout=30).status_code

    def post_ride(session: requests.Session, index: int) -> int:
        body = {"customer": {"name": "Load", "phone": phones[index]}, "pickup": {"address": "1 Load St"}}
        body["dropoff"] = {"address": "2 Load St"}
        return session.post(f"{bench.api}/rides", json=body, headers=headers, timeout=30).status_code

    routes = {"GET /rides/{id}": open_loop(get_ride), "POST /rides": open_loop(post_ride)}
    return {"rate_per_second": RATE, "seconds": SECONDS, "routes": routes}
