"""`make run`: the whole system on http://127.0.0.1:$PORT until Ctrl-C."""

import os
import signal
import sys
from contextlib import suppress
from pathlib import Path

from local_stack.runtime import LocalRuntime


def main() -> int:
    os.environ.setdefault("SAM_CLI_TELEMETRY", "0")
    drivers = int(os.environ.get("LOCAL_SIMULATED_DRIVERS", "5"))
    port = int(os.environ.get("PORT", "3000"))
    repo_root = Path(__file__).resolve().parent.parent
    # A busy port ends start() with werkzeug's own "Port N is in use" message.
    runtime = LocalRuntime(repo_root, port=port, simulated_drivers=drivers, log=lambda line: print(line, flush=True))
    runtime.start()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stops it as Ctrl-C does
    schedules = ", ".join(f"{s.name} every {s.period_seconds:g}s" for s in runtime.schedules) or "none"
    fleet = f"{(runtime.demo or {}).get('fleet_id')}   admin key: {runtime.demo_admin_key}"
    print(f"Ridecast local stack on {runtime.base_url}\n  root key:          {runtime.root_key}")
    print(f"  demo fleet:        {fleet}\n  simulated drivers: {drivers} (LOCAL_SIMULATED_DRIVERS)")
    print(f"  console:           {runtime.base_url}/console (sign in with {runtime.demo_admin_key})")
    print(f"  outbox:            {runtime.base_url}/_local/outbox\n  schedules:         {schedules}", flush=True)
    print("Ctrl-C to stop.", flush=True)
    try:
        with suppress(KeyboardInterrupt):
            signal.pause()
    finally:
        print("\nStopping the local stack…", flush=True)
        runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
