"""SPEC §7 failover and recovery (issue 11): Telegram down → the same offer reaches the driver by SMS, and how
long the router takes to bring Telegram back once the outage ends (the scheduled probe, every minute)."""

import time
from datetime import datetime
from typing import Any

from bench.scenarios import Bench


def _status(bench: Bench, key: str) -> dict[str, Any]:
    answer = bench.http.get(f"{bench.api}/dispatch/status", headers=bench._auth(key), timeout=30)
    answer.raise_for_status()
    status: dict[str, Any] = answer.json()
    return status


def _offer_by_sms(bench: Bench, key: str, drivers: int, fleet_id: str) -> tuple[float, list[dict[str, Any]]]:
    """A ride to the fleet's Telegram drivers while Telegram is down: seconds until each has it by SMS."""
    phones = {d.phone for d in bench.drivers(fleet_id, drivers, channel="telegram")}
    started = time.perf_counter()
    marker = f"/offers/{bench.ride(key)['ride_id']}."

    def by_sms() -> list[dict[str, Any]]:
        return [m for m in bench.messages() if marker in m["body"] and m["to"] in phones and m["channel"] == "sms"]

    bench.wait_until(lambda: len(by_sms()) == drivers, timeout=30)
    return time.perf_counter() - started, by_sms()


def failover(bench: Bench) -> dict[str, Any]:
    """One Telegram driver, so the router's recorded Telegram failure and the SMS copy are the same offer's."""
    fleet_id, key = bench.fleet(telegram=True)
    bench.runtime.set_provider_down("telegram", True)
    try:
        seconds, (sms,) = _offer_by_sms(bench, key, 1, fleet_id)
        failed_at = datetime.fromisoformat(_status(bench, key)["channels"]["telegram"]["last_failure_at"])
    finally:
        bench.runtime.set_provider_down("telegram", False)
    return {
        "failover_seconds": round((datetime.fromisoformat(sms["sent_at"]) - failed_at).total_seconds(), 3),
        "ride_created_to_sms_seconds": round(seconds, 3),
    }


def recovery(bench: Bench) -> dict[str, Any]:
    """Three drivers take Telegram offline; then it comes back and the clock runs until the probe, ticking on
    the template's schedule, sees it online (about a minute: not in the default run)."""
    fleet_id, key = bench.fleet(telegram=True)
    bench.runtime.set_provider_down("telegram", True)
    try:
        three_seconds, _ = _offer_by_sms(bench, key, 3, fleet_id)
        during = _status(bench, key)["channels"]["telegram"]["status"]
    finally:
        bench.runtime.set_provider_down("telegram", False)
    outage_ended = time.perf_counter()
    online = bench.wait_until(
        lambda: _status(bench, key)["channels"]["telegram"]["status"] == "online", timeout=75, interval=0.25
    )
    return {
        "three_drivers_ride_created_to_every_sms_seconds": round(three_seconds, 3),
        "telegram_status_after_three_failures": during,
        "recovered": online,
        "recovery_seconds_by_scheduled_probe": round(time.perf_counter() - outage_ended, 1),
    }
