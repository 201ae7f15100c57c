"""Everything under /_local: stand-ins for the Twilio REST API and the Telegram Bot API, their outage switch, and the
outbox of what they were asked to send. They answer like the real services (status codes, error shapes, the checks
that bite in production) for the calls Ridecast makes, so the adapters are exercised for real, but offline."""

import base64
import email.message
import email.policy
import json
import math
import re
import secrets
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

import requests
from werkzeug.datastructures import Authorization
from werkzeug.wrappers import Request, Response

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
TWILIO_PATH = re.compile(r"^/_local/twilio/2010-04-01/Accounts/(?P<sid>[^/]+)(?P<messages>/Messages)?\.json$")
TELEGRAM_PATH = re.compile(r"^/_local/telegram/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")
PROVIDERS_PATH = re.compile(r"^/_local/providers/(?P<provider>[^/]+)$")
# E-mail goes through SES on moto: while "email" is down, local_stack.aws fails every SES call.
PROVIDERS = ("telegram", "twilio", "email")
EXPIRED_QUERY = "Bad Request: query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = "Bad Request: message is not modified: specified new message content and reply markup are exactly the"
NOT_MODIFIED += " same as a current content and reply markup of the message"
NOT_FOUND = {"message": "Not Found"}
type Answer = tuple[int, Any]  # an HTTP status and its JSON body
type Params = Mapping[str, Any]  # a call's parameters from its query string and its form or JSON body


class Outbox:
    """Every message the stand-ins accepted, oldest first; waiters are woken on each new one."""

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []
        self._changed = threading.Condition()

    def record(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        sent_at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        with self._changed:
            self._entries.append({**entry, "seq": len(self._entries) + 1, "sent_at": sent_at})
            self._changed.notify_all()
            return dict(self._entries[-1])

    def messages(self, to: str | None = None, channel: str | None = None, after: int = 0) -> list[dict[str, Any]]:
        """`to` is an E.164 phone (its SMS and WhatsApp messages) or a Telegram chat id; `after` a sequence number."""
        wanted = normalize_recipient(to) if to is not None else None
        with self._changed:
            entries = self._entries[after:]
            return [dict(e) for e in entries if wanted in (None, e["to"]) and channel in (None, e["channel"])]

    def wait_for(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Whether `condition` (which may read the outbox) became true within `timeout` seconds."""
        with self._changed:  # an RLock: the condition may take it again
            return self._changed.wait_for(condition, timeout=timeout)

    def __len__(self) -> int:
        return len(self._entries)  # one read of a list that only grows: atomic under the GIL


def normalize_recipient(value: str) -> str:
    return value.strip().removeprefix("whatsapp:")


class StandIns:
    """The WSGI side of /_local: Twilio's and Telegram's APIs, the outbox, the outage switch; knobs change live."""

    def __init__(
        self, latency_ms: float = 0.0, telegram_rate_limit: float | None = None, twilio_status_callbacks: bool = True
    ) -> None:
        self.outbox = Outbox()
        self.latency_ms, self.telegram_rate_limit = latency_ms, telegram_rate_limit  # messages/s per bot
        self.down: set[str] = set()
        self.status_callbacks = twilio_status_callbacks  # a knob like the others: benchmarks turn it off a while
        self._callbacks = ThreadPoolExecutor(max_workers=8, thread_name_prefix="twilio-status")
        self._closed, self._lock = False, threading.Lock()
        self._telegram_sent: dict[tuple[str, str, int], tuple[str, Any]] = {}  # (bot, chat, id) → text, markup
        self._telegram_ids: Counter[tuple[str, str]] = Counter()
        self._telegram_recent: dict[str, deque[float]] = {}

    def set_down(self, provider: str, down: bool) -> None:
        if provider not in PROVIDERS:
            raise ValueError(f"unknown provider {provider!r}: one of {', '.join(PROVIDERS)}")
        (self.down.add if down else self.down.discard)(provider)  # one set operation: atomic under the GIL

    def close(self) -> None:
        self._closed = True
        self._callbacks.shutdown(wait=True, cancel_futures=True)

    def handle(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/_local/outbox" and method == "GET":
            messages = self.outbox.messages(request.args.get("to"), request.args.get("channel"))
            return json_response(200, {"messages": messages})
        if (provider := PROVIDERS_PATH.match(path)) and method == "POST":
            return self._set_provider_down(provider.group("provider"), request.get_json(silent=True))
        if self.latency_ms > 0 and (TWILIO_PATH.match(path) or TELEGRAM_PATH.match(path)):
            time.sleep(self.latency_ms / 1000)
        return json_response(*self.api_call(path, request.authorization, _params(request)))

    def api_call(self, path: str, auth: Authorization | None, params: Params) -> Answer:
        """Twilio's or Telegram's API (else a 404) on parsed parameters (here by werkzeug, in bench/ without it)."""
        if twilio := TWILIO_PATH.match(path):
            return self._twilio(twilio["sid"], bool(twilio["messages"]), auth, params)
        if telegram := TELEGRAM_PATH.match(path):
            return self._telegram(telegram["token"], telegram["method"].lower(), params)
        return _telegram_error(404, "Not Found") if path.startswith("/_local/telegram/") else (404, NOT_FOUND)

    def record_email(self, send_email_request: bytes) -> None:
        """An SES v2 SendEmail that moto accepted: the outbox keeps its recipient, subject, text and attachments."""
        content = json.loads(send_email_request)["Content"]["Raw"]["Data"]
        mime = email.message_from_bytes(base64.b64decode(content), policy=email.policy.default)
        text = mime.get_body(preferencelist=("plain",)) if isinstance(mime, email.message.EmailMessage) else None
        names = [part.get_filename() for part in mime.walk() if part.get_filename()]
        entry = {"channel": "email", "to": str(mime["To"]), "from": str(mime["From"]), "subject": str(mime["Subject"])}
        body = text.get_content().rstrip("\n") if text else ""
        self.outbox.record({**entry, "body": body, "attachments": list(dict.fromkeys(names))})

    def _set_provider_down(self, provider: str, body: Any) -> Response:
        """POST /_local/providers/{provider} {"down": bool}: SPEC §2's switch for outages and recovery."""
        if provider not in PROVIDERS:
            return json_response(404, {"message": f"unknown provider {provider!r}: one of {', '.join(PROVIDERS)}"})
        if not isinstance(body, dict) or not isinstance(body.get("down"), bool):
            return json_response(422, {"message": 'the body must be {"down": true|false}'})
        self.set_down(provider, body["down"])
        return json_response(200, {"provider": provider, "down": body["down"]})

    def _twilio(self, account_sid: str, messages: bool, auth: Authorization | None, params: Params) -> Answer:
        """POST …/Accounts/{AccountSid}/Messages.json: Twilio's error codes, signed `sent`/`delivered` callbacks."""
        if "twilio" in self.down:
            return _twilio_error(500, 20500, "An internal server error has occurred")
        if not messages:  # GET /2010-04-01/Accounts/{AccountSid}.json: the router's health probe
            return 200, {"sid": account_sid, "status": "active"}
        # Basic auth is the account SID (or an API key SID) and its secret, as with the real API.
        username = str(auth.username or "") if auth else ""
        if auth is None or not auth.password or not (username == account_sid or username.startswith("SK")):
            return _twilio_error(401, 20003, "Authenticate")
        to, sender, body, content_sid = (str(params.get(key) or "") for key in ("To", "From", "Body", "ContentSid"))
        variables = _content_variables(params.get("ContentVariables"))
        channel = "whatsapp" if to.startswith("whatsapp:") else "sms"
        checks = [
            (not to, 21604, "A 'To' phone number is required."),
            (not sender, 21603, "A 'From' phone number is required."),
            (not body and not content_sid, 21602, "Message body is required."),
            (not E164.match(normalize_recipient(to)), 21211, f"Invalid 'To' Phone Number: {to}"),
            (channel == "whatsapp" and not sender.startswith("whatsapp:"), 21910, "Invalid From and To pair"),
            (variables is None, 21656, "The ContentVariables Parameter is invalid"),
        ]
        problem = next(((code, message) for failed, code, message in checks if failed), None)
        if problem is not None or variables is None:
            return _twilio_error(400, *(problem or (21656, "")))
        text, sid = body or " ".join(str(value) for value in variables.values()), "SM" + secrets.token_hex(16)
        entry: dict[str, Any] = {"channel": channel, "to": normalize_recipient(to), "from": normalize_recipient(sender)}
        entry.update(body=text, provider_message_id=sid, account_sid=account_sid)
        entry.update({"content_sid": content_sid, "content_variables": variables} if content_sid else {})
        callback = str(params.get("StatusCallback") or "")
        self.outbox.record({**entry, "status_callback": callback} if callback else entry)
        if callback and self.status_callbacks and not self._closed:
            status = {"AccountSid": account_sid, "ApiVersion": "2010-04-01", "From": sender, "To": to}
            status |= {"MessageSid": sid, "SmsSid": sid}
            self._callbacks.submit(self._send_status_callbacks, callback, status, auth.password)
        answer: dict[str, Any] = {"sid": sid, "account_sid": account_sid, "to": to, "from": sender, "body": text}
        answer.update(status="queued", error_code=None, num_segments=str(max(1, math.ceil(len(text) / 160))))
        answer.update(uri=f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json")
        return 201, {**answer, "date_created": format_datetime(datetime.now(UTC))}

    def _send_status_callbacks(self, url: str, params: dict[str, str], auth_token: str) -> None:
        for status in ("sent", "delivered"):
            time.sleep(0.05)
            if self._closed:
                return
            post_signed_form(url, {**params, "MessageStatus": status, "SmsStatus": status}, auth_token)

    def _telegram(self, token: str, method: str, params: Params) -> Answer:
        """POST|GET /bot{token}/{method} (case-insensitive) with Telegram's answers, limits and errors."""
        if "telegram" in self.down:
            return _telegram_error(503, "Service Unavailable")
        if method not in ("sendmessage", "editmessagetext", "answercallbackquery", "getme"):
            return _telegram_error(404, "Not Found")
        if retry_after := self._rate_limited(token) if method in ("sendmessage", "editmessagetext") else 0:
            return _telegram_error(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
        try:
            markup = params.get("reply_markup")
            markup = json.loads(markup) if isinstance(markup, str) else markup
        except ValueError:
            return _telegram_error(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if method == "getme":
            return _ok(bot_user(token))
        if method == "answercallbackquery":
            return _ok(True) if params.get("callback_query_id") else _telegram_error(400, EXPIRED_QUERY)
        raw_chat, text = str(params.get("chat_id", "")).strip(), str(params.get("text") or "")
        chat = int(raw_chat) if re.fullmatch(r"-?\d+", raw_chat) else None  # Ridecast writes to private chats only
        checks = [
            (chat is None, "chat not found" if params.get("chat_id") else "chat_id is empty"),
            (not text.strip(), "message text is empty"),
            (len(text) > 4096, "message is too long"),
        ]
        problem = next((f"Bad Request: {m}" for failed, m in checks if failed), None) or _markup_problem(markup)
        if problem or chat is None:
            return _telegram_error(400, str(problem))
        key = (token, str(chat))
        with self._lock:
            if method == "sendmessage":
                self._telegram_ids[key] += 1
                message_id = self._telegram_ids[key]
            else:
                message_id = int(params["message_id"]) if str(params.get("message_id", "")).isdigit() else 0
                if (*key, message_id) not in self._telegram_sent:
                    return _telegram_error(400, "Bad Request: message to edit not found")
                if self._telegram_sent[(*key, message_id)] == (text, markup):
                    return _telegram_error(400, NOT_MODIFIED)
            self._telegram_sent[(*key, message_id)] = (text, markup)
        entry = {"channel": "telegram", "to": str(chat), "body": text, "provider_message_id": str(message_id)}
        edited = {"edited": True} if method == "editmessagetext" else {}
        self.outbox.record({**entry, "reply_markup": markup, "bot_id": str(bot_user(token)["id"]), **edited})
        message = {"message_id": message_id, "from": bot_user(token), "chat": {"id": chat, "type": "private"}}
        message |= {"date": int(time.time()), "text": text} | ({"reply_markup": markup} if markup else {})
        return _ok(message | ({"edit_date": int(time.time())} if edited else {}))

    def _rate_limited(self, token: str) -> int:
        """Seconds to wait when this bot already sent `telegram_rate_limit` messages in the last second."""
        if not (limit := self.telegram_rate_limit):
            return 0
        now = time.monotonic()
        with self._lock:
            recent = self._telegram_recent.setdefault(token, deque())
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            if len(recent) >= limit:
                return max(1, math.ceil(recent[0] + 1.0 - now))
            recent.append(now)
            return 0


def json_response(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _params(request: Request) -> dict[str, Any]:
    """Parameters the way both APIs take them: query string, form body or JSON body."""
    params: dict[str, Any] = dict(request.args.items())
    body = request.get_json(silent=True) if request.mimetype == "application/json" else dict(request.form.items())
    params.update(body if isinstance(body, dict) else {})
    return params


def _content_variables(raw: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(raw) if isinstance(raw, str) and raw else raw or {}
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _twilio_error(status: int, code: int, message: str) -> Answer:
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return status, {"code": code, "message": message, "more_info": more_info, "status": status}


def post_signed_form(url: str, params: Mapping[str, str], auth_token: str) -> tuple[int, str]:
    """POST a webhook as Twilio does (form-encoded, signed by Twilio's own code): HTTP status (0: unreachable), body."""
    from twilio.request_validator import RequestValidator

    signature = str(RequestValidator(auth_token).compute_signature(url, dict(params)))
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return post(url, urlencode(params).encode(), {**headers, "User-Agent": "TwilioProxy/1.1"})


def post(url: str, data: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
    try:
        answer = requests.post(url, data=data, headers=dict(headers), timeout=30)
    except requests.RequestException:
        return 0, ""
    return answer.status_code, answer.content.decode("utf-8", "replace")


def bot_user(token: str) -> dict[str, Any]:
    prefix = token.split(":", 1)[0]
    bot_id = int(prefix) if prefix.isdigit() else zlib.crc32(token.encode())
    return {"id": bot_id, "is_bot": True, "first_name": f"Ridecast Local {bot_id}", "username": f"local_{bot_id}_bot"}


def _markup_problem(markup: Any) -> str | None:
    if markup in (None, ""):
        return None
    if not isinstance(markup, dict):
        return "Bad Request: can't parse reply keyboard markup JSON object"
    for button in (button for row in markup.get("inline_keyboard") or [] for button in row):
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= 64:
            return "Bad Request: BUTTON_DATA_INVALID"
        if not button.get("text"):
            return "Bad Request: text buttons are unallowed in the inline keyboard"
    return None


def _ok(result: Any) -> Answer:
    return 200, {"ok": True, "result": result}


def _telegram_error(code: int, description: str, **parameters: Any) -> Answer:
    answer = {"ok": False, "error_code": code, "description": description}
    return code, answer | ({"parameters": parameters} if parameters else {})
