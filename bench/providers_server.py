"""`python -m bench.providers_server [--port 0] [--latency-ms 50] [--telegram-rate-limit 30]`: the
stand-ins alone, for benchmarks (in production the providers are someone else's machines: the code under test
should not pay their CPU). Prints `listening on http://127.0.0.1:<port>`, serves `/_local/...` until SIGTERM
or SIGINT, on connections kept open as Twilio's and Telegram's APIs keep them (bench/keep_alive.py). Twilio
status callbacks are off: nothing here can sign them.

On this machine the stand-ins' CPU is taken from the benchmarked worker's, so the sends (Twilio's and Telegram's
APIs) skip the WSGI round trip: `shortcut` parses their parameters as werkzeug would, only faster, and hands
them to the very code the local stack runs (`StandIns.api_call`). Whatever it cannot parse exactly as werkzeug
would (a query string, an escaped path, multipart or non-UTF-8 bodies) goes the WSGI way, as every other path.
"""

import argparse
import json
import sys
from collections.abc import Sequence

from aiohttp import web
from werkzeug.datastructures import Authorization
from werkzeug.http import parse_options_header
from werkzeug.wrappers import Request
from yarl import URL

from bench.keep_alive import Shortcut, application, serve
from local_stack.standins import TELEGRAM_PATH, TWILIO_PATH, Params, StandIns

# werkzeug's percent-decoding marks bytes that are not UTF-8 by leaving them escaped, yarl's by this character.
UNDECODABLE = "\ufffd"


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

    app = application(Request.application(standins.handle), provider_latency, shortcut(standins))
    serve(app, args.port, lambda port: print(f"listening on http://127.0.0.1:{port}", flush=True))
    standins.close()
    return 0


def shortcut(standins: StandIns) -> Shortcut:
    """Twilio's and Telegram's API calls answered by `standins` without werkzeug (None: the WSGI way)."""

    def answer(request: web.BaseRequest, body: bytes) -> web.Response | None:
        path = request.raw_path  # escapes and a query string are werkzeug's to decode
        if request.method not in ("GET", "POST") or not path.isascii() or "%" in path or "?" in path:
            return None
        if not (TWILIO_PATH.match(path) or TELEGRAM_PATH.match(path)):
            return None
        if (params := body_params(request.headers.get("Content-Type", ""), body)) is None:
            return None
        auth = Authorization.from_header(request.headers.get("Authorization"))  # request.authorization's parser
        status, answer = standins.api_call(path, auth, params)
        return web.Response(body=json.dumps(answer).encode(), status=status, content_type="application/json")

    return answer


def body_params(content_type: str, body: bytes) -> Params | None:
    """A body's parameters as the stand-ins read them with werkzeug (a JSON object, a urlencoded form's first
    value of each name, else none); None where this could differ from werkzeug (multipart, bytes not UTF-8)."""
    mimetype = parse_options_header(content_type)[0].lower()  # request.mimetype's parser
    if mimetype == "application/json":
        try:
            value = json.loads(body)
        except ValueError:  # werkzeug's get_json(silent=True): None, so no parameters
            return {}
        return value if isinstance(value, dict) else {}
    if mimetype == "multipart/form-data":
        return None
    if mimetype != "application/x-www-form-urlencoded":
        return {}
    try:
        # yarl's C decoder reads a query as urllib's parse_qsl (werkzeug's) does, some ten times as fast.
        form = URL.build(query_string=body.decode(), encoded=True).query
    except ValueError:  # a body that is not UTF-8 (UnicodeDecodeError): werkzeug's way decides
        return None
    if any(UNDECODABLE in name or UNDECODABLE in value for name, value in form.items()):
        return None
    return dict(form)  # a MultiDict's first value of each name, as werkzeug's `dict(request.form.items())`


if __name__ == "__main__":
    sys.exit(main())
