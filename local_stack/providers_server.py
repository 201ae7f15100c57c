"""The Twilio and Telegram stand-ins alone, in a process of their own.

For benchmarks: in production the providers are someone else's machines, so the code under test should not
pay the fake providers' CPU (in one Python process both sides share one GIL and two cores).

    python -m local_stack.providers_server [--port 0] [--latency-ms 50] [--telegram-rate-limit 30]

prints `listening on http://127.0.0.1:<port>` and serves `/_local/twilio/...`, `/_local/telegram/...` and
`/_local/outbox` until SIGTERM or SIGINT. Twilio status callbacks are off: nothing here can sign them.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterable, Sequence
from types import FrameType
from typing import TYPE_CHECKING

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

from local_stack.standins import ProviderConditions, StandIns

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


class _Quiet(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--telegram-rate-limit", type=float, default=None)
    args = parser.parse_args(argv)

    conditions = ProviderConditions(latency_ms=args.latency_ms, telegram_rate_limit=args.telegram_rate_limit)
    standins = StandIns(conditions, twilio_status_callbacks=False)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return standins.handle(Request(environ))(environ, start_response)

    server = make_server("127.0.0.1", args.port, app, threaded=True, request_handler=_Quiet)

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"listening on http://127.0.0.1:{server.port}", flush=True)
    server.serve_forever()
    standins.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
