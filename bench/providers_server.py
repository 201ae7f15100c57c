"""`python -m bench.providers_server [--port 0] [--latency-ms 50] [--telegram-rate-limit 30]`: the
stand-ins alone, for benchmarks (in production the providers are someone else's machines: the code under test
should not pay their CPU). Prints `listening on http://127.0.0.1:<port>`, serves `/_local/...` until SIGTERM
or SIGINT. Twilio status callbacks are off: nothing here can sign them."""

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from werkzeug.serving import make_server
from werkzeug.wrappers import Request

from local_stack.runtime import QUIET
from local_stack.standins import StandIns


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The Twilio and Telegram stand-ins, alone.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--telegram-rate-limit", type=float, default=None)
    args = parser.parse_args(argv)
    standins = StandIns(args.latency_ms, args.telegram_rate_limit, twilio_status_callbacks=False)
    app = Request.application(standins.handle)
    # HTTP/1.1: connections stay open between messages, as Twilio's and Telegram's APIs keep them.
    keep_alive = type("KeepAliveRequestHandler", (QUIET,), {"protocol_version": "HTTP/1.1"})
    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=keep_alive)
    server.socket.listen(1024)
    for stopping in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stopping, lambda signum, frame: threading.Thread(target=server.shutdown, daemon=True).start())
    print(f"listening on http://127.0.0.1:{server.port}", flush=True)
    server.serve_forever()
    standins.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
