"""SPEC §7 broadcasts, measured honestly: the provider stand-ins (50 ms a request) and the AWS emulator (moto
in server mode, tables from template.yaml) each run in a process of their own, as both are remote in
production; the broadcast runs in a third, the worker, which plays the matching Lambda: the MatchingFunction's
environment from the template, boto3 pointed at the emulator by AWS_ENDPOINT_URL, and a call of the public
domain function `broadcast(ports(), ride_id)` (so a faster sending path shows here without edits).

The worker is not the process that runs the local stack: that one has moto's and the local stack's botocore
hooks installed (the latter serializes every DynamoDB call), which would slow the code under test.
Each broadcast is timed to the last message the provider accepted (its outbox stamps them), and the CPU of
each process over it is read from /proc: the worker's per offer, the emulator's and the stand-ins' apart.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from bench.emulator import FAKE_CREDENTIALS, REPO, aws_emulator, cpu_seconds, serving

PROVIDER_LATENCY_MS = 50
TELEGRAM_LIMIT = 30  # messages/s per bot, as the stand-in enforces it (429 past it)
# What each row broadcasts to: drivers, their channels in turn.
# Smallest first: moto's DynamoDB slows as its table grows, which real DynamoDB does not.
ROWS: dict[str, tuple[int, tuple[str, ...]]] = {
    "telegram_rate_limit": (200, ("telegram",)),
    "broadcast_1000": (1000, ("sms",)),
    "broadcast_10000": (10000, ("sms", "whatsapp")),
}
WARM_UP_DRIVERS = 10


def run(rows: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Start the stand-ins and the emulator, run the worker over `rows`, stop them; each row's figures."""
    provider_args = ["--latency-ms", str(PROVIDER_LATENCY_MS), "--telegram-rate-limit", str(TELEGRAM_LIMIT)]
    with serving("bench.providers_server", *provider_args) as (providers, line), aws_emulator() as emulator:
        providers_url = line.removeprefix("listening on ")
        environment = {
            **os.environ,
            **emulator["environment"],
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": emulator["url"],
            "TWILIO_API_BASE_URL": f"{providers_url}/_local/twilio",
            "TELEGRAM_API_BASE_URL": f"{providers_url}/_local/telegram",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            # The handlers' EMF metrics would go to stdout, costing I/O the benchmark would measure.
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            command = [sys.executable, "-m", "bench.broadcasts", "--worker", "--out", out.name]
            command += ["--providers", providers_url, "--providers-pid", str(providers.pid)]
            command += ["--emulator-pid", str(emulator["pid"]), "--rows", ",".join(rows)]
            # The worker's stdout is the Lambda's log (and EMF metrics): not the benchmark's output.
            subprocess.run(command, env=environment, cwd=REPO, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
            results: dict[str, dict[str, Any]] = json.loads(Path(out.name).read_text())
    return results


# ----- the worker: the matching Lambda's side ----------------------------------------------------------------


def _worker(rows: Sequence[str], providers_url: str, providers_pid: int, emulator_pid: int) -> dict[str, Any]:
    sys.path.insert(0, str(REPO / "layers" / "common"))
    from bench.seeding import Numbers, fleet_body, searching_ride, write_drivers
    from ridecast.domain.fleets.accounts import create_fleet
    from ridecast.domain.fleets.commands import NewFleet
    from ridecast.domain.matching.broadcast import broadcast
    from ridecast.wiring import ports

    numbers = Numbers()
    results: dict[str, Any] = {}
    for row in rows:
        drivers, channels = ROWS[row]
        telegram = "telegram" in channels
        try:
            # A warm container: the first broadcast's imports, clients and connections are not per offer.
            warm_fleet, _, _ = create_fleet(ports(), NewFleet(**fleet_body(numbers, telegram=telegram)))
            write_drivers(numbers, warm_fleet.fleet_id, WARM_UP_DRIVERS, channels)
            broadcast(ports(), searching_ride(numbers, warm_fleet.fleet_id))

            set_up = time.perf_counter()
            fleet, _, _ = create_fleet(ports(), NewFleet(**fleet_body(numbers, telegram=telegram)))
            made = write_drivers(numbers, fleet.fleet_id, drivers, channels)
            ride_id = searching_ride(numbers, fleet.fleet_id)
            set_up = time.perf_counter() - set_up
            recipients = {d.telegram_chat_id if d.channel == "telegram" else d.phone for d in made}
            before = _cpu(emulator_pid, providers_pid)
            started_at, started = time.time(), time.perf_counter()
            answer = broadcast(ports(), ride_id)
            returned = time.perf_counter() - started
            after = _cpu(emulator_pid, providers_pid)
            results[row] = _figures(drivers, answer, returned, started_at, before, after, ride_id, recipients)
            results[row] |= _accepted(providers_url, recipients, started_at, telegram)
            results[row]["setup_seconds"] = round(set_up, 1)  # drivers written to the emulator: not measured
        except Exception as error:  # one row failing must not hide the others' figures
            results[row] = {"error": f"{type(error).__name__}: {error}"}
        print(f"bench: {row}: {results[row]}", file=sys.stderr, flush=True)
    return results


def _cpu(emulator_pid: int, providers_pid: int) -> tuple[float, float | None, float | None]:
    return time.process_time(), cpu_seconds(emulator_pid), cpu_seconds(providers_pid)


def _figures(
    drivers: int,
    answer: dict[str, Any],
    returned: float,
    started_at: float,
    before: tuple[float, float | None, float | None],
    after: tuple[float, float | None, float | None],
    ride_id: str,
    recipients: set[str | None],
) -> dict[str, Any]:
    from ridecast.wiring import stores

    offers = stores().offers.for_ride(ride_id)
    worker_cpu = after[0] - before[0]
    emulator = after[1] - before[1] if after[1] is not None and before[1] is not None else None
    providers = after[2] - before[2] if after[2] is not None and before[2] is not None else None
    return {
        "drivers": drivers,
        "offers_sent": answer.get("offers_sent"),
        "offers_failed": sum(1 for o in offers if o.status == "failed"),
        "offers_by_channel": {c: sum(1 for o in offers if o.channel == c) for c in sorted({o.channel for o in offers})},
        "seconds_until_returned": round(returned, 3),
        "worker_cpu_seconds": round(worker_cpu, 3),
        "cpu_ms_per_offer": round(worker_cpu * 1000 / max(1, len(offers)), 3),
        "emulator_cpu_seconds": round(emulator, 3) if emulator is not None else None,
        "providers_cpu_seconds": round(providers, 3) if providers is not None else None,
    }


def _accepted(providers_url: str, recipients: set[str | None], started_at: float, telegram: bool) -> dict[str, Any]:
    """When the provider accepted the offers: the last one (the target), and the rate first to last."""
    messages = requests.get(f"{providers_url}/_local/outbox", timeout=60).json()["messages"]
    accepted = [datetime.fromisoformat(m["sent_at"].replace("Z", "+00:00")) for m in messages if m["to"] in recipients]
    # Chat ids repeat across fleets (the warm-up's among them); the outbox stamps to the millisecond.
    stamps = sorted(t for stamp in accepted if (t := stamp.timestamp()) >= started_at - 0.001)
    if not stamps:
        return {"accepted_by_provider": 0, "seconds_to_last_accepted": None}
    span = stamps[-1] - stamps[0]
    figures: dict[str, Any] = {
        "accepted_by_provider": len(stamps),
        "seconds_to_last_accepted": round(stamps[-1] - started_at, 3),
    }
    if telegram:
        rate = (len(stamps) - 1) / span if span else 0.0
        figures |= {"sending_seconds": round(span, 2), "messages_per_second": round(rate, 1)}
        figures |= {"limit_per_second": TELEGRAM_LIMIT, "share_of_limit": round(rate / TELEGRAM_LIMIT, 3)}
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The broadcast rows of `make bench` (worker side: --worker).")
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--rows", default=",".join(ROWS))
    parser.add_argument("--out")
    parser.add_argument("--providers")
    parser.add_argument("--providers-pid", type=int, default=0)
    parser.add_argument("--emulator-pid", type=int, default=0)
    args = parser.parse_args(argv)
    rows = [row for row in ROWS if row in args.rows.split(",")]
    if not args.worker:
        print(json.dumps(run(rows), indent=2))
        return 0
    results = _worker(rows, args.providers, args.providers_pid, args.emulator_pid)
    Path(args.out).write_text(json.dumps(results, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
