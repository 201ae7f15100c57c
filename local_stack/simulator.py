"""Demo drivers who answer their offers by themselves, so `make run` shows rides being matched.

How a driver answers is one small function (`answer_via_offer_link`); swapping it for a signed Twilio
webhook or a Telegram callback changes nothing else here.
"""

from __future__ import annotations

import json
import random
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from local_stack.standins import Outbox, normalize_recipient


@dataclass(frozen=True)
class SimulatedDriver:
    driver_id: str
    name: str
    phone: str
    channel: str
    telegram_chat_id: str | None = None

    @classmethod
    def from_seed(cls, raw: dict[str, Any]) -> SimulatedDriver:
        chat = raw.get("telegram_chat_id")
        return cls(str(raw["driver_id"]), str(raw["name"]), str(raw["phone"]), str(raw["channel"]), chat and str(chat))

    def addresses(self) -> set[str]:
        return {normalize_recipient(self.phone)} | ({self.telegram_chat_id} if self.telegram_chat_id else set())


@dataclass(frozen=True)
class Offer:
    token: str
    url: str
    message: dict[str, Any]


# (driver, offer, "accept" | "reject") → (HTTP status, response body)
AnswerOffer = Callable[[SimulatedDriver, Offer, str], tuple[int, str]]


def answer_via_offer_link(driver: SimulatedDriver, offer: Offer, action: str) -> tuple[int, str]:
    """What a driver does by tapping Accept/Reject on the offer page."""
    request = urllib.request.Request(f"{offer.url}/{action}", data=b"", method="POST")  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return int(answer.status), answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode("utf-8", "replace")


def offers_in(message: dict[str, Any], base_url: str) -> list[Offer]:
    """Offer links in a message: its text, its buttons, or its template variables."""
    # Unreserved URL characters; a sentence's closing dot is not part of the link.
    pattern = re.compile(re.escape(base_url.rstrip("/")) + r"/offers/([A-Za-z0-9._~-]*[A-Za-z0-9_~-])")
    haystack = " ".join(
        [
            str(message.get("body") or ""),
            json.dumps(message.get("reply_markup") or {}),
            json.dumps(message.get("content_variables") or {}),
        ]
    )
    found: dict[str, Offer] = {}
    for match in pattern.finditer(haystack):
        found.setdefault(match.group(1), Offer(match.group(1), match.group(0), message))
    return list(found.values())


class DriverSimulator:
    """One watcher over the outbox; each offer is answered after a human-ish pause on a worker thread."""

    def __init__(
        self,
        outbox: Outbox,
        drivers: Iterable[SimulatedDriver],
        base_url: str,
        answer: AnswerOffer = answer_via_offer_link,
        accept_probability: float = 0.6,
        delay_seconds: tuple[float, float] = (0.5, 3.0),
        rng: random.Random | None = None,
        log: Callable[[str], None] = print,
    ) -> None:
        self._outbox = outbox
        self._by_address: dict[str, SimulatedDriver] = {}
        for driver in drivers:
            for address in driver.addresses():
                self._by_address[address] = driver
        self._base_url = base_url
        self._answer = answer
        self._accept_probability = accept_probability
        self._delay = delay_seconds
        self._rng = rng or random.Random()
        self._log = log
        self._stopping = threading.Event()
        self._answered: set[tuple[str, str]] = set()
        self._workers = ThreadPoolExecutor(max_workers=16, thread_name_prefix="driver-sim")
        self._watcher = threading.Thread(target=self._watch, name="driver-sim-watcher", daemon=True)

    @property
    def drivers(self) -> list[SimulatedDriver]:
        return list({d.driver_id: d for d in self._by_address.values()}.values())

    def start(self) -> None:
        if self._by_address:
            self._watcher.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher.is_alive():
            self._watcher.join(timeout=5)
        self._workers.shutdown(wait=True, cancel_futures=True)

    def _watch(self) -> None:
        seen = len(self._outbox)  # only offers sent from now on
        while not self._stopping.is_set():
            new = self._outbox.wait_for_new(seen, timeout=0.5)
            seen += len(new)
            for message in new:
                driver = self._by_address.get(str(message.get("to")))
                if driver is None or message.get("edited"):
                    continue
                for offer in offers_in(message, self._base_url):
                    if (driver.driver_id, offer.token) in self._answered:
                        continue  # a reminder carries the same link: a person answers once
                    self._answered.add((driver.driver_id, offer.token))
                    action = "accept" if self._rng.random() < self._accept_probability else "reject"
                    delay = self._rng.uniform(*self._delay)
                    self._workers.submit(self._respond, driver, offer, action, delay)

    def _respond(self, driver: SimulatedDriver, offer: Offer, action: str, delay: float) -> None:
        if self._stopping.wait(delay):
            return
        try:
            status, body = self._answer(driver, offer, action)
        except Exception as error:
            self._log(f"[driver-sim] {driver.name} ({driver.phone}) could not {action} offer: {error!r}")
            return
        result = _result_of(body)
        verb = "accepted" if action == "accept" else "rejected"
        self._log(
            f"[driver-sim] {driver.name} ({driver.phone}) {verb} offer …{offer.token[-6:]} after {delay:.1f}s "
            f"→ {status} {result}"
        )


def _result_of(body: str) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return body[:80]
    return str(parsed.get("result", parsed)) if isinstance(parsed, dict) else str(parsed)
