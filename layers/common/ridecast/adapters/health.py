"""Dependency checks behind GET /health: can the table be read, and is matching wired."""

import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ridecast.domain.ports import Ports
from ridecast.settings import get_settings


def check(ports: Ports) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        ports.stores.fleets.get("health-probe")
        checks["table"] = {"status": "ok", "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
    except (BotoCoreError, ClientError) as error:
        checks["table"] = {"status": "error", "error": type(error).__name__}
    checks["matching"] = {"status": "ok" if get_settings().state_machine_arn else "error"}
    healthy = all(c["status"] == "ok" for c in checks.values())
    return {"status": "ok" if healthy else "degraded", "checks": checks}
