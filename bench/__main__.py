"""`make bench [ONLY=row,row]`: the SPEC §7 benchmarks, one markdown table (what, measured, target, verdict)
and bench/results.json with every figure. Row names: bench/rows.py (`python -m bench --list`)."""

import argparse
import faulthandler
import json
import os
import platform
import signal
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results.json"


def _run(results: dict[str, Any], name: str, scenario: Callable[[], dict[str, Any]]) -> None:
    print(f"bench: {name} …", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        results[name] = scenario()
    except Exception as error:  # one scenario failing must not hide the others' figures
        results[name] = {"error": f"{type(error).__name__}: {error}"}
    print(f"bench: {name} done in {time.perf_counter() - started:.1f} s: {results[name]}", file=sys.stderr)


def _local_stack_rows(results: dict[str, Any], rows: Sequence[str]) -> None:
    """The rows SPEC §7 measures on the local stack, as `make run` serves it (one process: moto, the
    stand-ins and every function), in an order where no scenario's leftovers blur a later one's figures."""
    from bench import cost

    cost.install()  # before any boto3 session exists
    from bench import failover, load, scenarios, stats
    from local_stack.runtime import LocalRuntime

    order: list[tuple[str, Callable[[scenarios.Bench], dict[str, Any]]]] = [
        # First, while no other ride's execution is running to inflate the counts.
        ("cost_per_matched_ride", scenarios.cost_per_matched_ride),
        ("failover", failover.failover),
        ("recovery", failover.recovery),
        ("accept_to_customer", scenarios.accept_to_customer),
        ("stats_30_days", stats.stats_30_days),
        ("accept_storm", scenarios.accept_storm),
        ("rides_50_by_100", scenarios.rides_50_by_100),
        # Last: 50 bookings a second outrun the one-process stack, which then serves the backlog for many
        # minutes after the client gave up (it had not drained 5 minutes later): nothing may run after it.
        ("api_latency", load.api_latency),
    ]
    wanted = [(name, scenario) for name, scenario in order if name in rows]
    if not wanted:
        return
    quiet = {"LogLevel": "WARNING"}
    # Twilio's delivery receipts only where a row counts them (cost): on AWS each is a Lambda of its own,
    # here thousands of them would queue in the one process and slow every later row.
    with LocalRuntime(
        REPO, parameter_overrides=quiet, seed_demo=False, log=lambda _: None, twilio_status_callbacks=False
    ) as runtime:
        bench = scenarios.Bench(runtime)
        for name, scenario in wanted:
            _run(results, name, lambda scenario=scenario: scenario(bench))  # type: ignore[misc]


def main(argv: Sequence[str] | None = None) -> int:
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints where a slow run is
    sys.path.insert(0, str(REPO / "layers" / "common"))
    from bench import broadcasts, cold_imports, rows

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default=os.environ.get("ONLY", ""), help="comma-separated row names")
    parser.add_argument("--list", action="store_true", help="print the row names and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(f"{row.name}: {row.what}" for row in rows.ROWS))
        return 0
    try:
        chosen = rows.chosen(args.only)
    except ValueError as error:
        parser.error(str(error))
    os.environ.setdefault("LOCAL_SIMULATED_DRIVERS", "0")
    # The handlers' EMF metrics would drown the figures (and cost I/O the bench would measure).
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "load_average_at_start": os.getloadavg(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "rows": chosen,
    }
    # First, in processes of their own, before this one starts a local stack (and loads the machine).
    if on_their_own := [name for name in chosen if name in broadcasts.ROWS]:
        _run(results, "broadcasts", lambda: broadcasts.run(on_their_own))
        results.update(results.pop("broadcasts"))
        if "error" in results:  # the whole group failed: every row of it says so
            failure = results.pop("error")
            results.update({name: {"error": failure} for name in on_their_own})
    # The functions' own logs and metrics go to stdout, as on Lambda: here they would bury the table.
    with redirect_stdout(sys.stderr):
        _local_stack_rows(results, chosen)
    if "cold_imports" in chosen:
        _run(results, "cold_imports", cold_imports.measure)
    table = rows.table(results)
    results["table"] = table
    results["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print("\n".join(table))
    print(f"\n{len(chosen)} rows in {results['seconds']} s; written: {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
