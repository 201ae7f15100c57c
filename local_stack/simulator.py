"""Demo drivers who answer their offers by themselves, through the same doors as real drivers: `DriverPhones`
plays Twilio (a signed "1"/"2" reply to /webhooks/twilio) and Telegram (a button tap, with the fleet's secret)."""

from __future__ import annotations

import itertools
import json
import random
import re
import secrets
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import unescape

from local_stack.standins import Outbox, normalize_recipient, post, post_signed_form

RIDE_CODE = re.compile(r"\bR-[0-9A-Z]{5}\b")
TWIML_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.DOTALL)
# A bare "1" answers the driver's newest open offer. When another ride reached the same number this recently
# (the demo fleet stops searching after 300 s), the reply names its ride, as the offer text invites.
RIDE_CODE_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class SimulatedDriver:
    driver_id: str
    name: str
    phone: str
    channel: str
    telegram_chat_id: str | None = None
    telegram_link: str | None = None  # https://t.me/<bot>?start=<token>, opened once at start


@dataclass(frozen=True)
class Offer:
    """An offer or reminder as a driver sees it in one message."""

    token: str
    url: str | None  # the offer link, when the message carries one
    message: dict[str, Any]
    accept_data: str | None = None  # Telegram: the Accept / Reject buttons' callback_data
    reject_data: str | None = None

    @property
    def ride_id(self) -> str:
        return self.token.split(".", 1)[0]

    @property
    def ride_code(self) -> str | None:
        found = RIDE_CODE.search(str(self.message.get("body") or ""))
        return found.group(0) if found else None


@dataclass(frozen=True)
class AnswerResult:
    via: str  # "twilio:sms", "twilio:whatsapp", "telegram:callback", "telegram:start"
    status: int  # HTTP status of the webhook request
    sent: str  # the reply text, the button's callback_data or the command
    reply: str  # what the driver was told back: the TwiML message or the bot's answer


# (driver, offer, "accept" | "reject") → what happened
AnswerOffer = Callable[[SimulatedDriver, Offer, str], AnswerResult]


@dataclass(frozen=True)
class SimulatedAnswer:
    driver_id: str
    token: str
    ride_code: str | None
    kind: str  # "offer" | "reminder"
    action: str  # "accept" | "reject"
    delay_seconds: float
    result: AnswerResult | None
    error: str | None = None


def offers_in(message: dict[str, Any], base_url: str) -> list[Offer]:
    """Offers in a message: links in its text, buttons or template variables, and Telegram callback buttons."""
    # Unreserved URL characters; a sentence's closing dot is not part of the link.
    pattern = re.compile(re.escape(base_url.rstrip("/")) + r"/offers/([A-Za-z0-9._~-]*[A-Za-z0-9_~-])")
    markup = message.get("reply_markup")
    text = [str(message.get("body") or ""), json.dumps(markup or {}), json.dumps(message.get("content_variables"))]
    links: dict[str, str] = {}
    for match in pattern.finditer(" ".join(text)):
        links.setdefault(match.group(1), match.group(0))
    buttons: dict[str, dict[str, str]] = {}
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    for button in (b for row in rows or [] for b in row if isinstance(b, dict)):
        action, _, token = str(button.get("callback_data") or "").partition(":")
        if action in ("a", "r") and token:
            buttons.setdefault(token, {})[action] = f"{action}:{token}"
    return [
        Offer(token, links.get(token), message, buttons.get(token, {}).get("a"), buttons.get(token, {}).get("r"))
        for token in dict.fromkeys([*links, *buttons])
    ]


class DriverPhones:
    """The demo drivers' phones and Telegram apps, with Twilio and Telegram delivering what they send."""

    def __init__(self, base_url: str, fleet: Mapping[str, Any], outbox: Outbox) -> None:
        """`fleet` as local_stack.seed.seed_demo_fleet answers it: `fleet_id`, what Twilio and Telegram know of it."""
        self._base_url, self._outbox, self._rng = base_url.rstrip("/"), outbox, random.Random()
        self._twilio, self._telegram = fleet["twilio"], fleet["telegram"]
        self._telegram_url = f"{self._base_url}/webhooks/telegram/{fleet['fleet_id']}"
        # Telegram numbers updates in sequence per bot; a random start keeps clear of any test's own ids.
        self._update_ids = itertools.count(self._rng.randrange(100_000_000, 900_000_000))
        self._message_ids = itertools.count(1_000_000)  # next() on a count is atomic under the GIL

    def __call__(self, driver: SimulatedDriver, offer: Offer, action: str) -> AnswerResult:
        if offer.message.get("channel") in ("sms", "whatsapp"):
            return self.text(driver, offer, action)
        if offer.accept_data and offer.reject_data:
            return self.tap(driver, offer, action)
        raise ValueError(f"no webhook would carry an answer to this {offer.message.get('channel')} message")

    def text(self, driver: SimulatedDriver, offer: Offer, action: str) -> AnswerResult:
        """Reply "1"/"2" to the number the offer came from; Twilio posts it signed, form-encoded."""
        token, account = str(self._twilio["auth_token"]), str(self._twilio["account_sid"])
        channel = str(offer.message["channel"])
        prefix = "whatsapp:" if channel == "whatsapp" else ""
        sender = str(offer.message.get("from") or self._twilio.get("senders", {}).get(channel, ""))
        body = "1" if action == "accept" else "2"
        if offer.ride_code and self._other_ride_came_recently(offer):
            body = f"{body} {offer.ride_code}"
        sid = "SM" + secrets.token_hex(16)
        params = {"ToCountry": "US", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid, "SmsStatus": "received"}
        params.update(Body=body, To=prefix + normalize_recipient(sender), NumSegments="1", MessageSid=sid)
        params.update(AccountSid=account, From=prefix + driver.phone, ApiVersion="2010-04-01")
        if channel == "whatsapp":
            params.update(ProfileName=driver.name, WaId=driver.phone.removeprefix("+"), MessageType="text")
        # Twilio signs what it posts to, which is also PUBLIC_BASE_URL's webhook.
        status, answer = post_signed_form(f"{self._base_url}/webhooks/twilio", params, token)
        told = " ".join(unescape(m.strip()) for m in TWIML_MESSAGE.findall(answer)) or "(empty TwiML)"
        return AnswerResult(f"twilio:{channel}", status, body, told if status == 200 else answer[:200])

    def _other_ride_came_recently(self, offer: Offer) -> bool:
        since = datetime.now(UTC) - RIDE_CODE_WINDOW
        return any(
            other.ride_id != offer.ride_id
            for message in self._outbox.messages(to=str(offer.message["to"]))
            if message.get("channel") != "telegram" and _sent_at(message) >= since
            for other in offers_in(message, self._base_url)
        )

    def tap(self, driver: SimulatedDriver, offer: Offer, action: str) -> AnswerResult:
        """Tap Accept/Reject under the offer; Telegram posts the callback_query with the fleet's secret."""
        data = str(offer.accept_data if action == "accept" else offer.reject_data)
        message, chat = offer.message, int(offer.message["to"])
        user, private_chat = _user_and_chat(driver, chat)
        bot = {"id": int(message.get("bot_id") or 0), "is_bot": True, "first_name": "Ridecast"}
        bot["username"] = self._telegram["bot_username"]
        # The offer as the driver's Telegram app holds it.
        shown = {"message_id": int(message["provider_message_id"]), "from": bot, "chat": private_chat}
        shown.update(date=int(_sent_at(message).timestamp()), text=str(message.get("body") or ""))
        shown["reply_markup"] = message.get("reply_markup")
        instance = str(zlib.crc32(f"{message.get('bot_id')}:{chat}".encode()))
        query = {"id": str(self._rng.getrandbits(63)), "from": user, "message": shown, "data": data}
        after = len(self._outbox)
        status, answer = self._post_update({"callback_query": {**query, "chat_instance": instance}})
        told = self._bot_edit_after(message, after) if status == 200 else None
        return AnswerResult("telegram:callback", status, data, told or _result_of(answer))

    def open_telegram_link(self, driver: SimulatedDriver) -> AnswerResult:
        """Open the registration deep link: Telegram sends `/start <token>` from the driver's chat."""
        token = parse_qs(urlsplit(str(driver.telegram_link)).query).get("start", [""])[0]
        user, chat = _user_and_chat(driver, int(str(driver.telegram_chat_id)))
        message = {"message_id": next(self._message_ids), "from": user, "chat": chat, "date": int(time.time())}
        command = {"offset": 0, "length": len("/start"), "type": "bot_command"}
        after = len(self._outbox)
        status, answer = self._post_update({"message": {**message, "text": f"/start {token}", "entities": [command]}})
        told = [m["body"] for m in self._outbox.messages(str(chat["id"]), "telegram", after) if not m.get("edited")]
        return AnswerResult("telegram:start", status, "/start", told[0] if told else _result_of(answer))

    def _post_update(self, update: dict[str, Any]) -> tuple[int, str]:
        headers = {"Content-Type": "application/json"}
        headers["X-Telegram-Bot-Api-Secret-Token"] = str(self._telegram["webhook_secret"])
        body = json.dumps({"update_id": next(self._update_ids), **update}).encode()
        return post(self._telegram_url, body, headers)

    def _bot_edit_after(self, message: Mapping[str, Any], after: int) -> str | None:
        """The bot answers a tap by appending the result to the offer message (and a toast we cannot see)."""
        original = str(message.get("body") or "")
        for entry in self._outbox.messages(to=str(message["to"]), channel="telegram", after=after):
            body = str(entry.get("body") or "")
            same = entry.get("provider_message_id") == message.get("provider_message_id")
            if entry.get("edited") and same and body.startswith(original):
                return body[len(original) :].strip()
        return None


class DriverSimulator:
    """One watcher over the outbox; each offer or reminder is answered after a human-ish pause on a worker
    thread. Everything else drivers are told (ride taken, cancelled, assigned, welcome) gets no reaction."""

    def __init__(
        self,
        outbox: Outbox,
        drivers: Iterable[SimulatedDriver],
        base_url: str,
        answer: AnswerOffer | None = None,
        accept_probability: float = 0.6,
        delay_seconds: tuple[float, float] = (0.5, 3.0),
        log: Callable[[str], None] = print,
        *,
        phones: DriverPhones | None = None,
    ) -> None:
        """`phones` answer through the real webhooks and register Telegram drivers at start; `answer` (default:
        `phones`) replaces how an answer travels. The two knobs may change while running."""
        self._outbox, self._base_url, self._phones, self._log = outbox, base_url, phones, log
        addresses = ((d, (normalize_recipient(d.phone), d.telegram_chat_id)) for d in drivers)
        self._by_address = {address: driver for driver, both in addresses for address in both if address}
        if (answer or phones) is None:
            raise ValueError("demo drivers answer through `phones` (the webhooks) or `answer`")
        self._answer: AnswerOffer = answer or phones  # type: ignore[assignment]
        self.accept_probability, self.delay_seconds = accept_probability, delay_seconds
        self._rng = random.Random()
        self._stopping, self._lock = threading.Event(), threading.Lock()
        self._seen: set[tuple[str, str]] = set()
        self._pending: set[tuple[str, str]] = set()
        self._answers: list[SimulatedAnswer] = []
        self._workers = ThreadPoolExecutor(max_workers=16, thread_name_prefix="driver-sim")
        self._watcher = threading.Thread(target=self._watch, name="driver-sim-watcher", daemon=True)

    @property
    def answers(self) -> list[SimulatedAnswer]:
        """Every answer given so far, oldest first."""
        with self._lock:
            return list(self._answers)

    def start(self) -> None:
        """Telegram drivers open their registration link (/start) first, then offers are watched for."""
        for driver in {d.driver_id: d for d in self._by_address.values()}.values():
            if self._phones is None or not (driver.telegram_link and driver.telegram_chat_id):
                continue
            who = f"[driver-sim] {driver.name} (telegram {driver.telegram_chat_id})"
            try:
                result = self._phones.open_telegram_link(driver)
                self._log(f"{who} opened their Telegram link: sent /start → {result.status} {result.reply!r}")
            except Exception as error:
                self._log(f"{who} could not open their Telegram link, offers will come by SMS: {error!r}")
        if self._by_address:
            self._watcher.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher.is_alive():
            self._watcher.join(timeout=5)
        self._workers.shutdown(wait=True, cancel_futures=True)

    def _watch(self) -> None:
        seen = [len(self._outbox)]  # only offers sent from now on
        while not self._stopping.is_set():
            self._outbox.wait_for(lambda: len(self._outbox) > seen[0], timeout=0.5)
            new = self._outbox.messages(after=seen[0])
            seen[0] += len(new)
            for message in new:
                self._consider(message)

    def _consider(self, message: dict[str, Any]) -> None:
        driver = self._by_address.get(str(message.get("to")))
        # Edits are Telegram offers turning into "taken"/"cancelled" or showing an answer: nothing to do.
        if driver is None or message.get("edited"):
            return
        for offer in offers_in(message, self._base_url):
            key = (driver.driver_id, offer.token)
            with self._lock:
                kind = "reminder" if key in self._seen else "offer"
                self._seen.add(key)
                if key in self._pending:
                    continue  # still making up their mind about this ride: one answer covers both messages
                self._pending.add(key)
            action = "accept" if self._rng.random() < self.accept_probability else "reject"
            self._workers.submit(self._respond, driver, offer, kind, action, self._rng.uniform(*self.delay_seconds))

    def _respond(self, driver: SimulatedDriver, offer: Offer, kind: str, action: str, delay: float) -> None:
        result: AnswerResult | None = None
        error: str | None = None
        try:
            if self._stopping.wait(delay):
                return
            result = self._answer(driver, offer, action)
        except Exception as failure:
            error = repr(failure)
        finally:
            # Before the answer is reported: a reminder seen from then on gets an answer of its own.
            with self._lock:
                self._pending.discard((driver.driver_id, offer.token))
        answer = SimulatedAnswer(driver.driver_id, offer.token, offer.ride_code, kind, action, delay, result, error)
        with self._lock:
            self._answers.append(answer)
        who = f"[driver-sim] {driver.name} ({offer.message.get('channel')} {offer.message.get('to')})"
        ride = offer.ride_code or f"…{offer.ride_id[-6:]}"
        if result is None:
            self._log(f"{who} could not {action} the {kind} of ride {ride}: {error}")
            return
        provider, _, via = result.via.partition(":")
        did = f"texted {result.sent!r} over {via}" if provider == "twilio" else f"tapped {action} on Telegram"
        verb, told = "accepted" if action == "accept" else "rejected", f"{result.status} {result.reply!r}"
        self._log(f"{who} {verb} the {kind} of ride {ride} after {delay:.1f}s: {did} → {told}")


def _user_and_chat(driver: SimulatedDriver, chat: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Telegram user and the private chat with the bot, whose id is the user's."""
    user = {"id": chat, "is_bot": False, "first_name": driver.name, "language_code": "en"}
    return user, {"id": chat, "first_name": driver.name, "type": "private"}


def _sent_at(message: Mapping[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(message.get("sent_at")))
    except ValueError:
        return datetime.now(UTC)


def _result_of(body: str) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return body[:80]
    return str(parsed.get("result", parsed)) if isinstance(parsed, dict) else str(parsed)
