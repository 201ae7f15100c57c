"""Local stand-ins for the Twilio REST API and the Telegram Bot API, and the outbox that records what
they were asked to send. They answer like the real services (status codes, error shapes, the checks
that bite in production) so the adapters are exercised for real, just never over the internet."""

from __future__ import annotations

import json
import math
import re
import secrets
import threading
import time
import urllib.request
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
TWILIO_PATH = re.compile(r"^/_local/twilio/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")
TELEGRAM_PATH = re.compile(r"^/_local/telegram/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")
TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CALLBACK_DATA_LIMIT = 64


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


# ---------------------------------------------------------------------- outbox
class Outbox:
    """Every message the stand-ins accepted, oldest first; waiters are woken on each new one."""

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []
        self._changed = threading.Condition()

    def record(self, entry: Mapping[str, Any]) -> dict[str, Any]:
        with self._changed:
            stored = {**entry, "seq": len(self._entries) + 1}
            stored.setdefault("sent_at", utc_now_iso())
            self._entries.append(stored)
            self._changed.notify_all()
            return dict(stored)

    def messages(self, to: str | None = None, channel: str | None = None, after: int = 0) -> list[dict[str, Any]]:
        """`to` is an E.164 phone (its SMS and WhatsApp messages) or a Telegram chat id."""
        wanted = normalize_recipient(to) if to is not None else None
        with self._changed:
            return [
                dict(entry)
                for entry in self._entries
                if entry["seq"] > after
                and (wanted is None or entry["to"] == wanted)
                and (channel is None or entry["channel"] == channel)
            ]

    def wait_for_new(self, after: int, timeout: float) -> list[dict[str, Any]]:
        """Entries past sequence number `after`, waiting up to `timeout` seconds for the first one."""
        with self._changed:
            self._changed.wait_for(lambda: len(self._entries) > after, timeout=timeout)
            return [dict(entry) for entry in self._entries[after:]]

    def clear(self) -> None:
        with self._changed:
            self._entries.clear()

    def __len__(self) -> int:
        with self._changed:
            return len(self._entries)


def normalize_recipient(value: str) -> str:
    return value.strip().removeprefix("whatsapp:")


# ---------------------------------------------------------------------- knobs
@dataclass
class ProviderConditions:
    """Simulation knobs shared by both stand-ins (benchmarks and failover tests turn them)."""

    latency_ms: float = 0.0
    telegram_rate_limit: float | None = None  # messages per second per bot token
    down: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set_down(self, provider: str, down: bool) -> None:
        if provider not in ("telegram", "twilio"):
            raise ValueError(f"unknown provider {provider!r}: telegram or twilio")
        with self._lock:
            if down:
                self.down.add(provider)
            else:
                self.down.discard(provider)

    def is_down(self, provider: str) -> bool:
        with self._lock:
            return provider in self.down

    def delay(self) -> None:
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)


def _form_or_json(request: Request) -> dict[str, Any]:
    """Parameters the way both APIs take them: query string, form body or JSON body."""
    params: dict[str, Any] = dict(request.args.items())
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            params.update(body)
    else:
        params.update(request.form.items())
    return params


# ---------------------------------------------------------------------- Twilio
class TwilioStandIn:
    """POST /2010-04-01/Accounts/{AccountSid}/Messages.json, with Twilio's error codes and, when asked
    for a StatusCallback, signed `sent` and `delivered` callbacks like the real service sends."""

    def __init__(
        self,
        outbox: Outbox,
        conditions: ProviderConditions,
        status_callbacks: bool = True,
        callback_delay_seconds: float = 0.05,
    ) -> None:
        self._outbox = outbox
        self._conditions = conditions
        self._status_callbacks = status_callbacks
        self._callback_delay = callback_delay_seconds
        self._callbacks = ThreadPoolExecutor(max_workers=8, thread_name_prefix="twilio-status")
        self._closed = False

    def close(self) -> None:
        self._closed = True
        self._callbacks.shutdown(wait=True, cancel_futures=True)

    def handle(self, request: Request, account_sid: str) -> Response:
        self._conditions.delay()
        if self._conditions.is_down("twilio"):
            return _twilio_error(500, 20500, "An internal server error has occurred")
        auth = request.authorization
        # Basic auth is the account SID (or an API key SID) and its secret, as with the real API.
        username = str(auth.username or "") if auth else ""
        if auth is None or not auth.password or not (username == account_sid or username.startswith("SK")):
            return _twilio_error(401, 20003, "Authenticate")
        if request.method != "POST":
            return _twilio_error(405, 20004, "Method not allowed")
        params = _form_or_json(request)
        to, sender = str(params.get("To", "")), str(params.get("From", ""))
        body, content_sid = params.get("Body"), params.get("ContentSid")
        service_sid = params.get("MessagingServiceSid")
        if not to:
            return _twilio_error(400, 21604, "A 'To' phone number is required.")
        if not sender and not service_sid:
            return _twilio_error(400, 21603, "A 'From' phone number is required.")
        if not body and not content_sid:
            return _twilio_error(400, 21602, "Message body is required.")
        if not E164.match(normalize_recipient(to)):
            return _twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        channel = "whatsapp" if to.startswith("whatsapp:") else "sms"
        if channel == "whatsapp" and sender and not sender.startswith("whatsapp:"):
            return _twilio_error(400, 21910, "Invalid From and To pair. From and To should be of the same channel")
        variables = _content_variables(params.get("ContentVariables"))
        if variables is None:
            return _twilio_error(400, 21656, "The ContentVariables Parameter is invalid")
        text = str(body) if body else " ".join(str(value) for value in variables.values())
        sid = "SM" + secrets.token_hex(16)
        now = datetime.now(UTC)
        entry: dict[str, Any] = {
            "channel": channel,
            "to": normalize_recipient(to),
            "from": normalize_recipient(sender) if sender else None,
            "body": text,
            "provider_message_id": sid,
            "account_sid": account_sid,
        }
        if content_sid:
            entry.update(content_sid=content_sid, content_variables=variables)
        if service_sid:
            entry["messaging_service_sid"] = service_sid
        if params.get("StatusCallback"):
            entry["status_callback"] = params["StatusCallback"]
        self._outbox.record(entry)
        if params.get("StatusCallback") and self._status_callbacks and not self._closed:
            callback = {"url": str(params["StatusCallback"]), "sid": sid, "to": to, "from": sender}
            self._callbacks.submit(self._send_status_callbacks, callback, account_sid, auth.password)
        resource_uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
        return _json(
            201,
            {
                "account_sid": account_sid,
                "api_version": "2010-04-01",
                "body": text,
                "date_created": format_datetime(now),
                "date_sent": None,
                "date_updated": format_datetime(now),
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": sender or None,
                "messaging_service_sid": service_sid,
                "num_media": "0",
                "num_segments": str(max(1, math.ceil(len(text) / 160))),
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": "accepted" if service_sid and not sender else "queued",
                "subresource_uris": {"media": f"{resource_uri}/Media.json"},
                "to": to,
                "uri": f"{resource_uri}.json",
            },
        )

    def _send_status_callbacks(self, callback: Mapping[str, str], account_sid: str, auth_token: str) -> None:
        for status in ("sent", "delivered"):
            time.sleep(self._callback_delay)
            if self._closed:
                return
            params = {
                "AccountSid": account_sid,
                "ApiVersion": "2010-04-01",
                "From": callback["from"],
                "MessageSid": callback["sid"],
                "MessageStatus": status,
                "SmsSid": callback["sid"],
                "SmsStatus": status,
                "To": callback["to"],
            }
            post_signed_form(callback["url"], params, auth_token)


def _content_variables(raw: Any) -> dict[str, Any] | None:
    if raw in (None, ""):
        return {}
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _twilio_error(status: int, code: int, message: str) -> Response:
    return _json(
        status,
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
    )


def twilio_signature(url: str, params: Mapping[str, str], auth_token: str) -> str:
    """X-Twilio-Signature: HMAC-SHA1 over the URL and the sorted form parameters (Twilio's own code)."""
    from twilio.request_validator import RequestValidator

    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


def post_signed_form(url: str, params: Mapping[str, str], auth_token: str, timeout: float = 10.0) -> int:
    """POST a webhook the way Twilio does (form-encoded, signed); returns the HTTP status."""
    request = urllib.request.Request(  # noqa: S310 - our own loopback webhook URL
        url,
        data=urlencode(params).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(url, params, auth_token),
            "User-Agent": "TwilioProxy/1.1",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


# ---------------------------------------------------------------------- Telegram
@dataclass
class _SentMessage:
    chat_id: int | str
    text: str
    reply_markup: Any


class TelegramStandIn:
    """POST|GET /bot{token}/{method} with Telegram's answers, limits and error descriptions."""

    COUNTED_METHODS = frozenset({"sendmessage", "editmessagetext", "editmessagereplymarkup"})

    def __init__(self, outbox: Outbox, conditions: ProviderConditions) -> None:
        self._outbox = outbox
        self._conditions = conditions
        self._lock = threading.Lock()
        self._messages: dict[tuple[str, str, int], _SentMessage] = {}
        self._next_message_id: dict[tuple[str, str], int] = {}
        self._recent: dict[str, deque[float]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self._methods: dict[str, Callable[[str, dict[str, Any]], Response]] = {
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_reply_markup,
            "deletemessage": lambda token, params: _ok(True),
            "answercallbackquery": self._answer_callback_query,
            "getme": self._get_me,
            "getwebhookinfo": self._get_webhook_info,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
        }

    def handle(self, request: Request, token: str, method: str) -> Response:
        self._conditions.delay()
        if self._conditions.is_down("telegram"):
            return _telegram_error(503, "Service Unavailable")
        implementation = self._methods.get(method.lower())  # Bot API method names are case-insensitive
        if implementation is None:
            return _telegram_error(404, "Not Found")
        if method.lower() in self.COUNTED_METHODS:
            retry_after = self._rate_limited(token)
            if retry_after:
                return _json(
                    429,
                    {
                        "ok": False,
                        "error_code": 429,
                        "description": f"Too Many Requests: retry after {retry_after}",
                        "parameters": {"retry_after": retry_after},
                    },
                )
        params = _form_or_json(request)
        if isinstance(params.get("reply_markup"), str):
            try:
                params["reply_markup"] = json.loads(params["reply_markup"])
            except ValueError:
                return _telegram_error(400, "Bad Request: can't parse reply keyboard markup JSON object")
        return implementation(token, params)

    def _rate_limited(self, token: str) -> int:
        """Seconds to wait when this bot already sent `telegram_rate_limit` messages in the last second."""
        limit = self._conditions.telegram_rate_limit
        if not limit:
            return 0
        now = time.monotonic()
        with self._lock:
            recent = self._recent.setdefault(token, deque())
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            if len(recent) >= limit:
                return max(1, math.ceil(recent[0] + 1.0 - now))
            recent.append(now)
            return 0

    # ------------------------------------------------------------------ methods
    def _send_message(self, token: str, params: dict[str, Any]) -> Response:
        chat = _chat_id(params.get("chat_id"))
        if chat is None:
            return _telegram_error(
                400, "Bad Request: chat_id is empty" if not params.get("chat_id") else "Bad Request: chat not found"
            )
        text = str(params.get("text") or "")
        problem = _text_problem(text) or _markup_problem(params.get("reply_markup"))
        if problem:
            return _telegram_error(400, problem)
        with self._lock:
            key = (token, str(chat))
            message_id = self._next_message_id.get(key, 0) + 1
            self._next_message_id[key] = message_id
            self._messages[(token, str(chat), message_id)] = _SentMessage(chat, text, params.get("reply_markup"))
        self._record(token, chat, message_id, text, params, edited=False)
        return _ok(self._message(token, chat, message_id, text, params.get("reply_markup")))

    def _edit_message_text(self, token: str, params: dict[str, Any]) -> Response:
        return self._edit(token, params, new_text=str(params.get("text") or ""))

    def _edit_reply_markup(self, token: str, params: dict[str, Any]) -> Response:
        return self._edit(token, params, new_text=None)

    def _edit(self, token: str, params: dict[str, Any], new_text: str | None) -> Response:
        chat = _chat_id(params.get("chat_id"))
        try:
            message_id = int(params.get("message_id", 0))
        except (TypeError, ValueError):
            message_id = 0
        if chat is None or not message_id:
            return _telegram_error(400, "Bad Request: message to edit not found")
        problem = (_text_problem(new_text) if new_text is not None else None) or _markup_problem(
            params.get("reply_markup")
        )
        if problem:
            return _telegram_error(400, problem)
        with self._lock:
            sent = self._messages.get((token, str(chat), message_id))
            if sent is None:
                return _telegram_error(400, "Bad Request: message to edit not found")
            text = sent.text if new_text is None else new_text
            markup = params.get("reply_markup")
            if text == sent.text and markup == sent.reply_markup:
                return _telegram_error(
                    400,
                    "Bad Request: message is not modified: specified new message content and reply markup are "
                    "exactly the same as a current content and reply markup of the message",
                )
            sent.text, sent.reply_markup = text, markup
        self._record(token, chat, message_id, text, {**params, "reply_markup": markup}, edited=True)
        message = self._message(token, chat, message_id, text, markup)
        message["edit_date"] = int(time.time())
        return _ok(message)

    def _answer_callback_query(self, token: str, params: dict[str, Any]) -> Response:
        if not params.get("callback_query_id"):
            return _telegram_error(
                400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        return _ok(True)

    def _get_me(self, token: str, params: dict[str, Any]) -> Response:
        return _ok(self.bot_user(token))

    def _get_webhook_info(self, token: str, params: dict[str, Any]) -> Response:
        hook = self.webhooks.get(token) or {}
        return _ok(
            {
                "url": hook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": 0,
                "max_connections": hook.get("max_connections", 40),
                "ip_address": "127.0.0.1" if hook else None,
                "allowed_updates": hook.get("allowed_updates"),
            }
            if hook
            else {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        )

    def _set_webhook(self, token: str, params: dict[str, Any]) -> Response:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(token, params)
        self.webhooks[token] = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": params.get("max_connections", 40),
        }
        return _json(200, {"ok": True, "result": True, "description": "Webhook was set"})

    def _delete_webhook(self, token: str, params: dict[str, Any]) -> Response:
        existed = self.webhooks.pop(token, None) is not None
        description = "Webhook was deleted" if existed else "Webhook is already deleted"
        return _json(200, {"ok": True, "result": True, "description": description})

    # ------------------------------------------------------------------ shapes
    @staticmethod
    def bot_user(token: str) -> dict[str, Any]:
        prefix = token.split(":", 1)[0]
        bot_id = int(prefix) if prefix.isdigit() else zlib.crc32(token.encode())
        return {
            "id": bot_id,
            "is_bot": True,
            "first_name": f"Ridecast Local {bot_id}",
            "username": f"ridecast_local_{bot_id}_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _message(self, token: str, chat: int | str, message_id: int, text: str, markup: Any) -> dict[str, Any]:
        bot = self.bot_user(token)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": {k: bot[k] for k in ("id", "is_bot", "first_name", "username")},
            "chat": {"id": chat, "type": "private"} if isinstance(chat, int) else {"id": chat, "type": "channel"},
            "date": int(time.time()),
            "text": text,
        }
        if markup:
            message["reply_markup"] = markup
        return message

    def _record(
        self, token: str, chat: int | str, message_id: int, text: str, params: Mapping[str, Any], edited: bool
    ) -> None:
        entry: dict[str, Any] = {
            "channel": "telegram",
            "to": str(chat),
            "body": text,
            "provider_message_id": str(message_id),
            "reply_markup": params.get("reply_markup"),
            "bot_id": str(self.bot_user(token)["id"]),
        }
        if params.get("parse_mode"):
            entry["parse_mode"] = params["parse_mode"]
        if edited:
            entry["edited"] = True
        self._outbox.record(entry)


def _chat_id(raw: Any) -> int | str | None:
    if raw is None or raw == "":
        return None
    text = str(raw).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if text.startswith("@") and len(text) > 1:
        return text
    return None


def _text_problem(text: str) -> str | None:
    if not text.strip():
        return "Bad Request: message text is empty"
    if len(text) > TELEGRAM_TEXT_LIMIT:
        return "Bad Request: message is too long"
    return None


def _markup_problem(markup: Any) -> str | None:
    if markup in (None, ""):
        return None
    if not isinstance(markup, dict):
        return "Bad Request: can't parse reply keyboard markup JSON object"
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= TELEGRAM_CALLBACK_DATA_LIMIT:
                return "Bad Request: BUTTON_DATA_INVALID"
            if not button.get("text"):
                return "Bad Request: text buttons are unallowed in the inline keyboard"
    return None


def _ok(result: Any) -> Response:
    return _json(200, {"ok": True, "result": result})


def _telegram_error(code: int, description: str) -> Response:
    return _json(code, {"ok": False, "error_code": code, "description": description})


# ---------------------------------------------------------------------- routing under /_local
class StandIns:
    """Everything under /_local: the two providers and the outbox."""

    def __init__(self, conditions: ProviderConditions, twilio_status_callbacks: bool = True) -> None:
        self.outbox = Outbox()
        self.conditions = conditions
        self.twilio = TwilioStandIn(self.outbox, conditions, status_callbacks=twilio_status_callbacks)
        self.telegram = TelegramStandIn(self.outbox, conditions)

    def close(self) -> None:
        self.twilio.close()

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == "/_local/outbox":
            if request.method == "DELETE":
                self.outbox.clear()
                return Response(status=204)
            if request.method != "GET":
                return _json(405, {"message": "Method Not Allowed"})
            to = request.args.get("to")
            channel = request.args.get("channel")
            return _json(200, {"messages": self.outbox.messages(to=to, channel=channel)})
        twilio = TWILIO_PATH.match(path)
        if twilio:
            return self.twilio.handle(request, twilio.group("sid"))
        telegram = TELEGRAM_PATH.match(path)
        if telegram and request.method in ("GET", "POST"):
            return self.telegram.handle(request, telegram.group("token"), telegram.group("method"))
        if path.startswith("/_local/telegram/"):
            return _telegram_error(404, "Not Found")
        return _json(404, {"message": "Not Found"})
