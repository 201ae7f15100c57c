"""`make run`: the whole system on http://127.0.0.1:$PORT until Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from local_stack.runtime import LocalRuntime

REPO_ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    os.environ.setdefault("SAM_CLI_TELEMETRY", "0")
    port = int(os.environ.get("PORT", "3000"))
    drivers = int(os.environ.get("LOCAL_SIMULATED_DRIVERS", "5"))
    runtime = LocalRuntime(REPO_ROOT, port=port, simulated_drivers=drivers, seed_demo=True, log=_log)
    runtime.start()  # a busy port ends here with werkzeug's own "Port N is in use" message
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(banner(runtime, drivers), flush=True)
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        print("\nStopping the local stack…", flush=True)
        runtime.stop()
    return 0


def banner(runtime: LocalRuntime, drivers: int) -> str:
    schedules = ", ".join(f"{s.name} every {s.period_seconds:g}s" for s in runtime.schedules) or "none"
    return "\n".join(
        [
            f"Ridecast local stack on {runtime.base_url}",
            f"  root key:          {runtime.root_key}",
            f"  demo fleet:        {runtime.demo_fleet_id}   admin key: {runtime.demo_admin_key}",
            f"  simulated drivers: {drivers} (LOCAL_SIMULATED_DRIVERS)",
            f"  outbox:            {runtime.outbox_url}",
            f"  schedules:         {schedules}",
            "Ctrl-C to stop.",
        ]
    )


def _log(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
