"""SPEC §7 scenarios against the local stack (LocalRuntime, in this process): figures, not assertions."""

import random
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import boto3
import requests

from local_stack.aws import dynamodb_emulator_seconds
from local_stack.runtime import LocalRuntime

OFFER_LINK = re.compile(r"/offers/([A-Za-z0-9._-]+)")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


class Bench:
    """Fleets, drivers and rides for the scenarios, made through the API (and the domain where speed matters)."""

    def __init__(self, runtime: LocalRuntime, providers_url: str | None = None) -> None:
        self.runtime = runtime
        self.providers_url = providers_url
        self.api = runtime.base_url
        self.http = requests.Session()
        self.http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=128))
        self._phones = iter(range(10_000_000, 99_999_999))
        self._senders = iter(range(1000, 9999))

    def phone(self) -> str:
        return f"+4477{next(self._phones)}"

    def fleet(self, response_seconds: int = 30, timeout_seconds: int = 300, telegram: bool = False) -> tuple[str, str]:
        sender = next(self._senders)
        body: dict[str, Any] = {
            "name": f"Bench fleet {sender}",
            "admin_contacts": [{"name": "Ops", "phone": self.phone()}],
            "settings": {
                "driver_response_seconds": response_seconds,
                "matching_timeout_seconds": timeout_seconds,
                # Load tests book far beyond a real desk's 60 rides a minute (SPEC §11 default).
                "max_rides_per_minute": 100000,
            },
            "twilio": {
                "account_sid": "AC" + f"{sender:032x}",
                "auth_token": "bench-auth-token-0123456789",
                "senders": [{"channel": "sms", "from": f"+1500555{sender:04d}"}],
            },
        }
        if telegram:
            body["telegram"] = {
                "bot_token": f"{sender}00:bench-bot-token-abcdefghijklmnop",
                "bot_username": f"bench{sender}_bot",
                "webhook_secret": "bench-webhook-secret-0123",
            }
        answer = self.http.post(f"{self.api}/fleets", json=body, headers=self._auth(self.runtime.root_key), timeout=30)
        answer.raise_for_status()
        created = answer.json()
        return str(created["fleet_id"]), str(created["api_key"])

    def drivers(self, fleet_id: str, count: int, channel: str = "sms") -> list[Any]:
        """Written straight to the table in batches: setting up thousands of drivers is not what is measured
        (moto copies the table for every transaction, so the API's transactional create slows with size)."""
        from ridecast.domain.clock import utcnow
        from ridecast.domain.entities import Driver
        from ridecast.ids import new_id
        from ridecast.repositories.items import driver_item, fleet_pk, phone_sk, telegram_chat_sk
        from ridecast.repositories.table import table

        now = utcnow()
        made = []
        with table().batch_writer() as batch:
            for index in range(count):
                chat_id = str(900_000_000 + index) if channel == "telegram" else None
                driver = Driver(
                    driver_id=new_id("d"),
                    fleet_id=fleet_id,
                    name=f"Driver {index}",
                    phone=self.phone(),
                    channel=channel,
                    telegram_chat_id=chat_id,
                    created_at=now,
                    updated_at=now,
                    last_seen_at=now,
                )
                batch.put_item(Item=driver_item(driver))
                guard = {"PK": fleet_pk(fleet_id), "SK": phone_sk(driver.phone), "driver_id": driver.driver_id}
                batch.put_item(Item=guard)
                if chat_id:
                    batch.put_item(
                        Item={"PK": fleet_pk(fleet_id), "SK": telegram_chat_sk(chat_id), "driver_id": driver.driver_id}
                    )
                made.append(driver)
        return made

    def ride_without_matching(self, fleet_id: str) -> str:
        """A searching ride whose execution is not started: the scenario drives the task itself."""
        from ridecast.domain.clock import utcnow
        from ridecast.domain.entities import Customer, Place, Ride
        from ridecast.ids import new_id, ride_code
        from ridecast.wiring import stores

        now = utcnow()
        ride = Ride(
            ride_id=new_id("r"),
            fleet_id=fleet_id,
            code=ride_code(stores().fleets.next_ride_sequence(fleet_id)),
            customer=Customer(name="Bench", phone=self.phone()),
            pickup=Place(address="1 Bench St"),
            dropoff=Place(address="2 Bench St"),
            created_at=now,
            deadline_at=now + timedelta(minutes=5),
        )
        stores().rides.add(ride)
        return ride.ride_id

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

    def messages(self) -> list[dict[str, Any]]:
        """What the providers were asked to send: the runtime's stand-ins, or the out-of-process ones."""
        return remote_outbox(self.providers_url) if self.providers_url else self.runtime.outbox

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


@contextmanager
def external_providers(latency_ms: float, telegram_rate_limit: float) -> Iterator[str]:
    """The provider stand-ins in a process of their own (python -m bench.providers_server)."""
    process = subprocess.Popen(  # noqa: S603 - our interpreter running our own module
        [
            sys.executable,
            "-m",
            "bench.providers_server",
            "--latency-ms",
            str(latency_ms),
            "--telegram-rate-limit",
            str(telegram_rate_limit),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        yield line.removeprefix("listening on ")
    finally:
        process.terminate()
        process.wait(timeout=10)


def remote_outbox(providers_url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = requests.get(f"{providers_url}/_local/outbox", timeout=30).json()["messages"]
    return messages


def execution_status(runtime: LocalRuntime, ride_id: str) -> str | None:
    """The status of the ride's matching execution (named after the ride), None before it starts."""
    client = boto3.client("stepfunctions")
    arn = str(runtime.ref("MatchingStateMachine")).replace(":stateMachine:", ":execution:") + f":{ride_id}"
    try:
        return str(client.describe_execution(executionArn=arn)["status"])
    except client.exceptions.ExecutionDoesNotExist:
        return None


@contextmanager
def provider_conditions(
    runtime: LocalRuntime, latency_ms: float = 0, telegram_rate_limit: float | None = None
) -> Iterator[None]:
    conditions = runtime.standins  # latency_ms, telegram_rate_limit
    before = (conditions.latency_ms, conditions.telegram_rate_limit)
    conditions.latency_ms, conditions.telegram_rate_limit = latency_ms, telegram_rate_limit
    try:
        yield
    finally:
        conditions.latency_ms, conditions.telegram_rate_limit = before


def broadcast_1000(bench: Bench) -> dict[str, Any]:
    """Broadcast to 1,000 drivers, the provider stand-in answering in 50 ms, no rate limit (target ≤ 2 s)."""
    fleet_id, _ = bench.fleet()
    bench.drivers(fleet_id, 1000)
    ride_id = bench.ride_without_matching(fleet_id)
    with provider_conditions(bench.runtime, latency_ms=50):
        emulated_before, cpu_before = dynamodb_emulator_seconds(), time.process_time()
        started = time.perf_counter()
        result = bench.runtime.invoke("MatchingFunction", {"task": "broadcast", "ride_id": ride_id})
        seconds = time.perf_counter() - started
        cpu_seconds, emulated = time.process_time() - cpu_before, dynamodb_emulator_seconds() - emulated_before
    return {
        "drivers": 1000,
        "offers_sent": result.get("offers_sent"),
        "seconds": round(seconds, 3),
        # moto answering DynamoDB in this process: real DynamoDB costs the Lambda a network wait instead.
        "dynamodb_emulator_seconds": round(emulated, 3),
        # CPU of this process (the Lambda, moto included) while it ran: past ~1 s per core, the broadcast is
        # CPU-bound, not waiting on the provider.
        "process_cpu_seconds": round(cpu_seconds, 3),
        "target_seconds": 2.0,
    }


def telegram_rate_limit(bench: Bench, providers_url: str, drivers: int = 300, limit: float = 30) -> dict[str, Any]:
    """Broadcast over a 30 msg/s Telegram limit (the stand-in answers 429 past it): achieved rate, offers lost.

    Target ≥ 90 % of the limit, none lost."""
    fleet_id, _ = bench.fleet(telegram=True)
    made = bench.drivers(fleet_id, drivers, channel="telegram")
    ride_id = bench.ride_without_matching(fleet_id)
    chats = {d.telegram_chat_id for d in made}
    started = time.perf_counter()
    result = bench.runtime.invoke("MatchingFunction", {"task": "broadcast", "ride_id": ride_id})
    seconds = time.perf_counter() - started
    sent = [m for m in remote_outbox(providers_url) if m["channel"] == "telegram" and m["to"] in chats]
    # The rate the provider saw, first message to last (the task's total also loads drivers and saves offers).
    stamps = sorted(datetime.fromisoformat(m["sent_at"].replace("Z", "+00:00")) for m in sent)
    span = (stamps[-1] - stamps[0]).total_seconds() if len(stamps) > 1 else 0.0
    rate = (len(sent) - 1) / span if span else 0.0
    from ridecast.wiring import stores

    failed = sum(1 for o in stores().offers.for_ride(ride_id) if o.status == "failed")
    return {
        "drivers": drivers,
        "limit_per_second": limit,
        "delivered": len(sent),
        "offers_failed": failed,
        "offers_sent": result.get("offers_sent"),
        "seconds": round(seconds, 2),
        "sending_seconds": round(span, 2),
        "messages_per_second": round(rate, 1),
        "share_of_limit": round(rate / limit, 3),
        "target_share": 0.9,
    }


def accept_storm(bench: Bench, drivers: int = 100) -> dict[str, Any]:
    """100 simultaneous accepts of one ride (target: exactly 1 winner, 99 already_taken, 0 errors)."""
    fleet_id, key = bench.fleet()
    bench.drivers(fleet_id, drivers)
    ride = bench.ride(key)
    tokens = bench.offer_tokens(ride["ride_id"], drivers)
    barrier = threading.Barrier(len(tokens))

    def accept(token: str) -> tuple[int, dict[str, Any], float]:
        barrier.wait()
        return bench.accept(token)

    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        answers = list(pool.map(accept, tokens))
    results = Counter(body.get("result", f"http {status}") for status, body, _ in answers)
    latencies = [elapsed * 1000 for _, _, elapsed in answers]
    final = bench.get_ride(key, ride["ride_id"])
    return {
        "accepts": len(tokens),
        "assigned": results.get("assigned", 0),
        "already_taken": results.get("already_taken", 0),
        "errors": sum(1 for status, _, _ in answers if status >= 500),
        "other": {k: v for k, v in results.items() if k not in ("assigned", "already_taken")},
        "ride_status": final["status"],
        "latency_ms_p50": round(percentile(latencies, 0.5), 1),
        "latency_ms_p95": round(percentile(latencies, 0.95), 1),
        "latency_ms_max": round(max(latencies), 1),
    }


def accept_to_customer(bench: Bench, rides: int = 10) -> dict[str, Any]:
    """From an accept's answer to the customer's 'your driver' message in the outbox (target ≤ 1 s)."""
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
        "ms_max": round(max(delays), 1) if delays else None,
        "target_ms": 1000,
    }


def rides_50_by_100(bench: Bench, rides: int = 50, drivers: int = 100) -> dict[str, Any]:
    """50 rides x 100 drivers at once: all matched, each by exactly one driver, no offer left `sent`."""
    fleet_id, key = bench.fleet()
    bench.drivers(fleet_id, drivers)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=rides) as pool:
        # One process emulates 50 Lambdas at once here: answers are slow, so be patient with them.
        created = list(pool.map(lambda _: bench.ride(key, timeout=300), range(rides)))
    rng = random.Random(7)

    def three_drivers_race(ride: dict[str, Any]) -> list[int]:
        tokens = bench.offer_tokens(ride["ride_id"], drivers, timeout=180)
        return [bench.accept(token, timeout=300)[0] for token in rng.sample(tokens, 3)]

    with ThreadPoolExecutor(max_workers=rides) as pool:
        statuses = [s for answer in pool.map(three_drivers_race, created) for s in answer]
    from ridecast.wiring import stores

    def settled() -> bool:
        return all(execution_status(bench.runtime, r["ride_id"]) != "RUNNING" for r in created)

    bench.wait_until(settled, timeout=180, interval=0.5)
    seconds = time.perf_counter() - started
    assigned = single_winner = 0
    left_sent = 0
    for ride in created:
        final = stores().rides.get(ride["ride_id"])
        offers = stores().offers.for_ride(ride["ride_id"])
        accepted = [o for o in offers if o.status == "accepted"]
        assigned += final is not None and final.status == "assigned"
        single_winner += len(accepted) == 1 and final is not None and accepted[0].driver_id == final.driver_id
        left_sent += sum(1 for o in offers if o.status == "sent")
    return {
        "rides": rides,
        "drivers": drivers,
        "assigned": assigned,
        "exactly_one_driver": single_winner,
        "offers_left_sent": left_sent,
        "accept_errors": sum(1 for s in statuses if s >= 500),
        "seconds": round(seconds, 1),
    }


def time_to_first_offer(bench: Bench, rides: int = 10) -> dict[str, Any]:
    """POST /rides answered → first offer in the outbox (what the issue asks the closing note to report)."""
    fleet_id, key = bench.fleet()
    bench.drivers(fleet_id, 5)
    delays = []
    for _ in range(rides):
        started = time.perf_counter()
        ride = bench.ride(key)
        bench.offer_tokens(ride["ride_id"], 1)
        delays.append((time.perf_counter() - started) * 1000)
    return {"rides": rides, "ms_p50": round(statistics.median(delays), 1), "ms_max": round(max(delays), 1)}


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
    with cost.measured() as usage:
        ride = bench.ride(key)
        token = bench.offer_tokens(ride["ride_id"], drivers)[0]
        bench.accept(token)
        bench.wait_until(lambda: execution_status(bench.runtime, ride["ride_id"]) == "SUCCEEDED", timeout=30)
        time.sleep(1.5)  # the stand-in's delivery receipts arrive after the messages
        history = stepfunctions.client().get_execution_history(
            executionArn=bench.runtime.ref("MatchingStateMachine").replace(":stateMachine:", ":execution:")
            + f":{ride['ride_id']}",
            maxResults=1000,
        )["events"]
        priced = cost.price(usage, cost.state_transitions(history))
        return {"drivers": drivers, **priced, "states_entered": cost.states_entered(history)}
