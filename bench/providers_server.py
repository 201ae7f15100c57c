"""`python -m bench.providers_server [--port 0] [--latency-ms 50] [--telegram-rate-limit 30]`: the
stand-ins alone, for benchmarks (in production the providers are someone else's machines: the code under test
should not pay their CPU). Prints `listening on http://127.0.0.1:<port>`, serves `/_local/...` until SIGTERM
or SIGINT, on connections kept open as Twilio's and Telegram's APIs keep them (bench/keep_alive.py). Twilio
status callbacks are off: nothing here can sign them."""

import argparse
import sys
from collections.abc import Sequence

from werkzeug.wrappers import Request

from bench.keep_alive import application, serve
from local_stack.standins import TELEGRAM_PATH, TWILIO_PATH, StandIns


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The Twilio and Telegram stand-ins, alone.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--telegram-rate-limit", type=float, default=None)
    args = parser.parse_args(argv)
    # The providers' answer time is waited by the server without a thread each; the stand-ins answer at once.
    standins = StandIns(0.0, args.telegram_rate_limit, twilio_status_callbacks=False)
    latency = args.latency_ms / 1000

    def provider_latency(path: str) -> float:
        return latency if TWILIO_PATH.match(path) or TELEGRAM_PATH.match(path) else 0.0

    app = application(Request.application(standins.handle), provider_latency)
    serve(app, args.port, lambda port: print(f"listening on http://127.0.0.1:{port}", flush=True))
    standins.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
