"""SPEC §7 scenarios against the local stack (LocalRuntime, in this process): figures, not assertions."""

import random
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
import requests
from urllib3.util.retry import Retry

from bench.rows import percentile
from bench.seeding import Numbers, fleet_body, write_drivers
from local_stack.runtime import LocalRuntime

if TYPE_CHECKING:  # imported when used: each LocalRuntime imports ridecast afresh
    from ridecast.domain.entities import Driver

OFFER_LINK = re.compile(r"/offers/([A-Za-z0-9._-]+)")


class Bench:
    """Fleets, drivers and rides for the scenarios, made through the API (and the table where speed matters)."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        self.api = runtime.base_url
        self.http = requests.Session()
        self.http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=128))
        self.numbers = Numbers()
        # One client for every status check: making a boto3 client costs tens of ms of CPU each time.
        self.sfn = boto3.client("stepfunctions")

    def phone(self) -> str:
        return self.numbers.phone()

    def fleet(self, response_seconds: int = 30, timeout_seconds: int = 300, telegram: bool = False) -> tuple[str, str]:
        body = fleet_body(self.numbers, response_seconds, timeout_seconds, telegram)
        answer = self.http.post(f"{self.api}/fleets", json=body, headers=self._auth(self.runtime.root_key), timeout=120)
        answer.raise_for_status()
        created = answer.json()
        return str(created["fleet_id"]), str(created["api_key"])

    def drivers(self, fleet_id: str, count: int, channel: str = "sms") -> list["Driver"]:
        return write_drivers(self.numbers, fleet_id, count, (channel,))

    def ride(self, api_key: str, customer_phone: str | None = None, timeout: float = 30) -> dict[str, Any]:
        body = {
            "customer": {"name": "Bench Customer", "phone": customer_phone or self.phone()},
            "pickup": {"address": "1 Bench St"},
            "dropoff": {"address": "2 Bench St"},
        }
        answer = self.http.post(f"{self.api}/rides", json=body, headers=self._auth(api_key), timeout=timeout)
        answer.raise_for_status()
        created: dict[str, Any] = answer.json()
        return created

    def messages(self, after: int = 0) -> list[dict[str, Any]]:
        """What the stand-ins were asked to send (`after` a sequence number: only the newer ones)."""
        return self.runtime.standins.outbox.messages(after=after)

    def offer_tokens(self, ride_id: str, expected: int, timeout: float = 60) -> list[str]:
        """The offer links of one ride (links name the ride; codes repeat across fleets)."""
        marker = f"/offers/{ride_id}."
        deadline = time.monotonic() + timeout
        while True:
            tokens = {
                match.group(1)
                for m in self.messages()
                if marker in m["body"] and (match := OFFER_LINK.search(m["body"]))
            }
            if len(tokens) >= expected or time.monotonic() > deadline:
                return sorted(tokens)
            time.sleep(0.05)

    def accept(self, token: str, timeout: float = 30) -> tuple[int, dict[str, Any], float]:
        started = time.perf_counter()
        answer = self.http.post(f"{self.api}/offers/{token}/accept", timeout=timeout)
        elapsed = time.perf_counter() - started
        return answer.status_code, answer.json(), elapsed

    def get_ride(self, api_key: str, ride_id: str) -> dict[str, Any]:
        answer = self.http.get(f"{self.api}/rides/{ride_id}", headers=self._auth(api_key), timeout=30)
        answer.raise_for_status()
        ride: dict[str, Any] = answer.json()
        return ride

    def wait_until(self, check: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return True
            time.sleep(interval)
        return check()

    @staticmethod
    def _auth(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


def execution_status(bench: Bench, ride_id: str) -> str | None:
    """The status of the ride's matching execution (named after the ride), None before it starts."""
    arn = str(bench.runtime.ref("MatchingStateMachine")).replace(":stateMachine:", ":execution:") + f":{ride_id}"
    try:
        return str(bench.sfn.describe_execution(executionArn=arn)["status"])
    except bench.sfn.exceptions.ExecutionDoesNotExist:
        return None


@contextmanager
def provider_conditions(
    runtime: LocalRuntime, latency_ms: float = 0, telegram_rate_limit: float | None = None, receipts: bool = True
) -> Iterator[None]:
    """The stand-ins' knobs for a while: latency, Telegram's rate limit, Twilio's delivery receipts."""
    conditions = runtime.standins
    before = (conditions.latency_ms, conditions.telegram_rate_limit, conditions.status_callbacks)
    conditions.latency_ms, conditions.telegram_rate_limit = latency_ms, telegram_rate_limit
    conditions.status_callbacks = receipts
    try:
        yield
    finally:
        conditions.latency_ms, conditions.telegram_rate_limit, conditions.status_callbacks = before


def accept_storm(bench: Bench, drivers: int = 1000) -> dict[str, Any]:
    """1,000 simultaneous accepts of one ride (target: exactly 1 winner, 999 already_taken, 0 errors)."""
    fleet_id, key = bench.fleet()
    bench.drivers(fleet_id, drivers)
    ride = bench.ride(key)
    tokens = bench.offer_tokens(ride["ride_id"], drivers, timeout=120)
    barrier = threading.Barrier(len(tokens))

    def accept(token: str) -> tuple[int, dict[str, Any], float]:
        # Each driver opens the offer page, then taps Accept on the same connection, all at once: 1,000
        # connections opened in the same instant would overflow the local gateway's listen queue (128)
        # and measure that instead. Opening the page is retried as a browser would; the accept never is.
        with requests.Session() as phone:
            retry = Retry(total=5, backoff_factor=0.2, allowed_methods={"GET"})
            phone.mount("http://", requests.adapters.HTTPAdapter(max_retries=retry))
            page = f"{bench.api}/offers/{token}"
            try:
                opened = phone.get(page, timeout=120).status_code
            except requests.RequestException:
                opened = 0
            barrier.wait()  # every thread reaches it, page or not: a missing one would hold the others forever
            if opened != 200:
                return opened, {"result": f"offer page {opened}"}, 0.0
            started = time.perf_counter()
            try:
                answer = phone.post(f"{page}/accept", timeout=120)
                return answer.status_code, answer.json(), time.perf_counter() - started
            except (requests.RequestException, ValueError) as error:
                failure = {"result": type(error).__name__, "detail": str(error)[:300]}
                return 0, failure, time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        answers = list(pool.map(accept, tokens))
    results = Counter(body.get("result", f"http {status}") for status, body, _ in answers)
    latencies = [elapsed * 1000 for _, _, elapsed in answers]
    final = bench.get_ride(key, ride["ride_id"])
    return {
        "accepts": len(tokens),
        "assigned": results.get("assigned", 0),
        "already_taken": results.get("already_taken", 0),
        # A 5xx or no answer at all; a 4xx other than already_taken shows under "other".
        "errors": sum(1 for status, _, _ in answers if status >= 500 or status == 0),
        "other": {k: v for k, v in results.items() if k not in ("assigned", "already_taken")},
        "error_samples": [body["detail"] for _, body, _ in answers if "detail" in body][:3],
        "ride_status": final["status"],
        "latency_ms_p50": round(percentile(latencies, 0.5), 1),
        "latency_ms_p95": round(percentile(latencies, 0.95), 1),
        "latency_ms_max": round(max(latencies), 1),
    }


def accept_to_customer(bench: Bench, rides: int = 20) -> dict[str, Any]:
    """From an accept's answer to the customer's 'your driver' message in the outbox (target p95 ≤ 500 ms)."""
    fleet_id, key = bench.fleet()
    bench.drivers(fleet_id, 5)
    delays = []
    for _ in range(rides):
        customer = bench.phone()
        ride = bench.ride(key, customer_phone=customer)
        token = bench.offer_tokens(ride["ride_id"], 5)[0]
        status, _, _ = bench.accept(token)
        accepted_at = time.perf_counter()

        def customer_told(phone: str = customer) -> bool:
            return any("Your driver" in m["body"] for m in bench.runtime.messages_to(phone))

        told = bench.wait_until(customer_told, timeout=30, interval=0.002)
        if status == 200 and told:
            delays.append((time.perf_counter() - accepted_at) * 1000)
    return {
        "rides": rides,
        "measured": len(delays),
        "ms_p50": round(percentile(delays, 0.5), 1),
        "ms_p95": round(percentile(delays, 0.95), 1),
        "ms_max": round(max(delays), 1) if delays else None,
    }


class OfferWatcher:
    """Tails the outbox on one thread and tells each ride's waiter when its offers arrive (50 threads each
    reading thousands of messages would load the stack they measure)."""

    def __init__(self, bench: Bench) -> None:
        self._bench, self._seen = bench, 0
        self._arrived: dict[str, list[tuple[str, float]]] = {}
        self._changed = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._tail, daemon=True)

    def __enter__(self) -> "OfferWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exception: object) -> None:
        self._stopped = True
        self._thread.join(timeout=5)

    def _tail(self) -> None:
        while not self._stopped:
            new = self._bench.messages(after=self._seen)
            now = time.perf_counter()
            with self._changed:
                for message in new:
                    if link := OFFER_LINK.search(message["body"]):
                        token = link.group(1)
                        self._arrived.setdefault(token.split(".", 1)[0], []).append((token, now))
                self._seen += len(new)
                self._changed.notify_all()
            time.sleep(0.02)

    def offers(self, ride_id: str, count: int, timeout: float) -> list[tuple[str, float]]:
        """The first `count` offers of the ride: (token, when the watcher saw it)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self._arrived.get(ride_id, [])) >= count, timeout=timeout)
            return list(self._arrived.get(ride_id, []))[:count]


def rides_50_by_100(bench: Bench, rides: int = 50, drivers: int = 100, answering: int = 3) -> dict[str, Any]:
    """50 rides x 100 drivers at once, `answering` drivers of each ride accepting within 1 s of their offer:
    all matched, each by exactly one driver, no offer left `sent`, mean time to match (target ≤ 3 s)."""
    fleet_id, key = bench.fleet()
    bench.drivers(fleet_id, drivers)
    rng = random.Random(7)
    statuses: list[int] = []
    failures: list[str] = []  # a booking or an accept that got no answer: the row reports it, and goes on
    headers = bench._auth(key)
    body = {"customer": {"name": "Bench", "phone": bench.phone()}, "pickup": {"address": "1 Bench St"}}
    body["dropoff"] = {"address": "2 Bench St"}

    # A connection of its own per request: a keep-alive one the busy stack dropped would fail the next use.
    def book(_: int) -> str | None:
        try:
            answer = requests.post(f"{bench.api}/rides", json=body, headers=headers, timeout=300)
            answer.raise_for_status()
            return str(answer.json()["ride_id"])
        except requests.RequestException as error:
            failures.append(f"booking: {type(error).__name__}: {error}"[:300])
            return None

    def drivers_answer(ride_id: str | None) -> None:
        if ride_id is None:
            return
        # The first drivers the offer reaches answer, each within 1 s of receiving it.
        offers = watcher.offers(ride_id, answering, timeout=180)
        for token, due in sorted(((t, seen + rng.uniform(0, 1)) for t, seen in offers), key=lambda pair: pair[1]):
            time.sleep(max(0.0, due - time.perf_counter()))
            try:
                statuses.append(requests.post(f"{bench.api}/offers/{token}/accept", timeout=300).status_code)
            except requests.RequestException as error:
                failures.append(f"accept: {type(error).__name__}: {error}"[:300])

    started = time.perf_counter()
    with provider_conditions(bench.runtime, latency_ms=50, receipts=False), OfferWatcher(bench) as watcher:
        with ThreadPoolExecutor(max_workers=rides) as pool:
            # One process emulates 50 Lambdas at once here: answers are slow, so be patient with them.
            booked = list(pool.map(book, range(rides)))
            list(pool.map(drivers_answer, booked))
        created = [{"ride_id": ride_id} for ride_id in booked if ride_id is not None]

        def settled() -> bool:
            return all(execution_status(bench, r["ride_id"]) != "RUNNING" for r in created)

        bench.wait_until(settled, timeout=180, interval=0.5)
    seconds = time.perf_counter() - started
    from ridecast.wiring import stores

    assigned = single_winner = left_sent = 0
    times_to_match = []
    for ride in created:
        final = stores().rides.get(ride["ride_id"])
        offers = stores().offers.for_ride(ride["ride_id"])
        accepted = [o for o in offers if o.status == "accepted"]
        left_sent += sum(1 for o in offers if o.status == "sent")
        if final is None or final.status != "assigned":
            continue
        assigned += 1
        single_winner += len(accepted) == 1 and accepted[0].driver_id == final.driver_id
        if final.time_to_match_seconds is not None:
            times_to_match.append(final.time_to_match_seconds)
    return {
        "rides": rides,
        "drivers": drivers,
        "assigned": assigned,
        "exactly_one_driver": single_winner,
        "offers_left_sent": left_sent,
        "accept_errors": sum(1 for s in statuses if s >= 500),
        "requests_unanswered": len(failures),
        "failure_samples": failures[:3],
        "mean_time_to_match_seconds": round(statistics.mean(times_to_match), 2) if times_to_match else None,
        "max_time_to_match_seconds": round(max(times_to_match), 2) if times_to_match else None,
        "seconds": round(seconds, 1),
    }


def cost_per_matched_ride(bench: Bench, drivers: int = 10) -> dict[str, Any]:
    """One ride offered to 10 drivers, accepted by one, Twilio delivery receipts included, priced."""
    from bench import cost
    from ridecast.adapters import stepfunctions

    fleet_id, key = bench.fleet()
    bench.drivers(fleet_id, drivers)
    # Warm up (the authorizer's cache and each function's first import are not per ride), then cancel it.
    warm = bench.ride(key)
    bench.http.post(f"{bench.api}/rides/{warm['ride_id']}/cancel", json={}, headers=bench._auth(key), timeout=30)
    time.sleep(1.5)
    with cost.measured() as usage, provider_conditions(bench.runtime, receipts=True):
        ride = bench.ride(key)
        token = bench.offer_tokens(ride["ride_id"], drivers)[0]
        bench.accept(token)
        bench.wait_until(lambda: execution_status(bench, ride["ride_id"]) == "SUCCEEDED", timeout=30)
        time.sleep(1.5)  # the stand-in's delivery receipts arrive after the messages
        history = stepfunctions.client().get_execution_history(
            executionArn=bench.runtime.ref("MatchingStateMachine").replace(":stateMachine:", ":execution:")
            + f":{ride['ride_id']}",
            maxResults=1000,
        )["events"]
        priced = cost.price(usage, cost.state_transitions(history))
        return {"drivers": drivers, **priced, "states_entered": cost.states_entered(history)}
