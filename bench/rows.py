"""The rows of SPEC §7 as `make bench` prints them: what, measured, target, verdict; one per scenario result."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Result = dict[str, Any]


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (p95 of 20 values is the 19th smallest); 0.0 of nothing."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = math.ceil(fraction * len(ordered))
    return ordered[min(len(ordered), max(1, rank)) - 1]


@dataclass(frozen=True)
class Row:
    name: str  # the scenario's key in results.json, and what ONLY= names
    what: str
    target: str
    figure: Callable[[Result], str]
    met: Callable[[Result], bool]


def _broadcast(r: Result) -> str:
    return (
        f"{r['seconds_to_last_accepted']} s to the provider's last acceptance ({r['accepted_by_provider']}"
        f"/{r['drivers']} accepted, {r['offers_failed']} failed); CPU {r['cpu_ms_per_offer']} ms per offer"
        f" (emulator {r['emulator_cpu_seconds']} s and stand-ins {r['providers_cpu_seconds']} s of CPU apart)"
    )


def _all_accepted(r: Result) -> bool:
    return bool(r["accepted_by_provider"] == r["drivers"] and r["offers_failed"] == 0)


def _imports(r: Result) -> str:
    worst_name, worst = max(r["handlers"].items(), key=lambda kv: kv[1]["ratio_to_boto3"])
    over = sorted(name for name, h in r["handlers"].items() if h["ratio_to_boto3"] > 1.3)
    return (
        f"boto3 {r['boto3_ms']} ms; worst {worst_name} {worst['import_ms']} ms = x{worst['ratio_to_boto3']}"
        f"; over x1.3: {', '.join(over) or 'none'}"
    )


def _cost(r: Result) -> str:
    parts = ", ".join(f"{k.replace('_', ' ')} ${v:.7f}" for k, v in r["usd_breakdown"].items())
    return f"${r['usd_per_matched_ride']:.7f} ({parts}; {r['state_transitions']} state transitions)"


ROWS: tuple[Row, ...] = (
    Row(
        "broadcast_1000",
        "broadcast to 1,000 drivers (stand-ins at 50 ms and the AWS emulator each in their own process)",
        "≤ 1 s to the last acceptance; CPU ≤ 0.5 ms per offer",
        _broadcast,
        lambda r: _all_accepted(r) and r["seconds_to_last_accepted"] <= 1.0 and r["cpu_ms_per_offer"] <= 0.5,
    ),
    Row(
        "broadcast_10000",
        "broadcast to 10,000 SMS/WhatsApp drivers, same setup",
        "≤ 10 s",
        _broadcast,
        lambda r: _all_accepted(r) and r["seconds_to_last_accepted"] <= 10.0,
    ),
    Row(
        "telegram_rate_limit",
        "broadcast over a 30 msg/s Telegram limit",
        "≥ 90 % of the limit, none lost to 429",
        lambda r: (
            f"{r['messages_per_second']} msg/s = {r['share_of_limit']:.0%} of the limit;"
            f" {r['accepted_by_provider']}/{r['drivers']} accepted, {r['offers_failed']} lost"
        ),
        lambda r: _all_accepted(r) and r["share_of_limit"] >= 0.9,
    ),
    Row(
        "failover",
        "failover: Telegram down → the same offer by SMS",
        "≤ 1 s after the failed send",
        lambda r: f"{r['failover_seconds']} s after the failed send (ride → SMS {r['ride_created_to_sms_seconds']} s)",
        lambda r: bool(r["failover_seconds"] <= 1.0),
    ),
    Row(
        "recovery",
        "recovery: outage over → Telegram online, probe every minute (issue 11; only with ONLY=recovery)",
        "≤ 60 s",
        lambda r: f"{r['recovery_seconds_by_scheduled_probe']} s by the scheduled probe",
        lambda r: bool(r["recovered"] and r["recovery_seconds_by_scheduled_probe"] <= 60),
    ),
    Row(
        "accept_storm",
        "1,000 simultaneous accepts of one ride",
        "1 winner, 999 `already_taken`, 0 errors",
        lambda r: (
            f"{r['assigned']} assigned, {r['already_taken']} already_taken, {r['errors']} errors"
            f" (answers p50 {r['latency_ms_p50']} ms, p95 {r['latency_ms_p95']} ms)"
        ),
        lambda r: (r["assigned"], r["already_taken"], r["errors"]) == (1, r["accepts"] - 1, 0) and r["accepts"] == 1000,
    ),
    Row(
        "accept_to_customer",
        "accept → customer told (local stack)",
        "p95 ≤ 500 ms",
        lambda r: f"p50 {r['ms_p50']} ms, p95 {r['ms_p95']} ms ({r['measured']}/{r['rides']} rides)",
        lambda r: bool(r["measured"] == r["rides"] and r["ms_p95"] <= 500),
    ),
    Row(
        "rides_50_by_100",
        "50 rides x 100 drivers at once, drivers answering within 1 s (local stack)",
        "all matched, each by one driver, no offer left `sent`; mean time to match ≤ 3 s",
        lambda r: (
            f"{r['assigned']}/{r['rides']} matched, {r['exactly_one_driver']} by exactly one driver,"
            f" {r['offers_left_sent']} offers left sent; time to match mean {r['mean_time_to_match_seconds']} s"
            f" (max {r['max_time_to_match_seconds']} s)"
        ),
        lambda r: (
            r["assigned"] == r["rides"] == r["exactly_one_driver"]
            and r["offers_left_sent"] == 0
            and r["mean_time_to_match_seconds"] is not None
            and r["mean_time_to_match_seconds"] <= 3.0
        ),
    ),
    Row(
        "api_latency",
        "API latency at 50 requests/s, paced open loop (local stack)",
        "p95 ≤ 200 ms for `GET /rides/{id}` and `POST /rides`",
        lambda r: "; ".join(
            f"{route}: p50 {m['ms_p50']} ms, p95 {m['ms_p95']} ms, {m['errors']} errors at {m['achieved_per_second']}/s"
            for route, m in r["routes"].items()
        ),
        lambda r: all(m["ms_p95"] <= 200 and m["errors"] == 0 for m in r["routes"].values()),
    ),
    Row(
        "stats_30_days",
        "`GET /stats` over 30 days and 100,000 rides (local stack, moto in process)",
        "≤ 200 ms",
        lambda r: (
            f"p50 {r['ms_p50']} ms, of which {r['dynamodb_emulator_ms_p50']} ms in moto's DynamoDB"
            f" ({r['ms_p50_outside_emulator']} ms outside it)"
        ),
        lambda r: bool(r["ms_p50"] <= 200),
    ),
    Row(
        "cold_imports",
        "cold import of each function's handler",
        "≤ 1.3 x `import boto3`",
        _imports,
        lambda r: bool(r["worst_ratio"] <= 1.3),
    ),
    Row(
        "cost_per_matched_ride",
        "AWS cost per matched ride, 10 drivers (list prices)",
        "≤ $0.0002",
        _cost,
        lambda r: bool(r["usd_per_matched_ride"] <= 0.0002),
    ),
)
NAMES = tuple(row.name for row in ROWS)
# Not a SPEC §7 row, and a minute of waiting for the scheduled probe: run when named.
ON_REQUEST = ("recovery",)


def render(row: Row, result: Result | None) -> str:
    """One markdown line; a scenario that failed or was not run says so instead of a figure."""
    if result is None:
        return f"| {row.what} | not run | {row.target} | — |"
    if "error" in result:
        return f"| {row.what} | failed: {result['error']} | {row.target} | NOT measured |"
    try:
        figure, met = row.figure(result), row.met(result)
    except (KeyError, TypeError, ValueError) as error:
        return f"| {row.what} | incomplete result ({type(error).__name__}: {error}) | {row.target} | NOT measured |"
    return f"| {row.what} | {figure} | {row.target} | {'met' if met else 'NOT met'} |"


def table(results: dict[str, Result]) -> list[str]:
    header = ["| SPEC §7 | measured | target | verdict |", "|---|---|---|---|"]
    return header + [render(row, results.get(row.name)) for row in ROWS if row.name in results]


def chosen(only: str | None) -> list[str]:
    """The rows named by ONLY=a,b (every §7 row when empty); an unknown name is refused with the known ones."""
    if not only:
        return [name for name in NAMES if name not in ON_REQUEST]
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in NAMES]
    if unknown:
        raise ValueError(f"unknown row(s) {', '.join(unknown)}: choose among {', '.join(NAMES)}")
    return names
