"""The channel interface every provider adapter implements."""

import threading
import time
from dataclasses import dataclass, field
from typing import Protocol

from ridecast.domain.types import MessageChannel


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str


@dataclass(frozen=True)
class OutboundMessage:
    channel: MessageChannel
    # An E.164 phone for SMS and WhatsApp, a chat id for Telegram.
    to: str
    body: str
    buttons: tuple[Button, ...] = ()
    # WhatsApp outside the 24-hour session window needs an approved template.
    content_sid: str | None = None
    content_variables: dict[str, str] = field(default_factory=dict)
    status_callback: str | None = None


@dataclass(frozen=True)
class SendReceipt:
    provider_message_id: str
    latency_ms: float
    chat_id: str | None = None


class ChannelAdapter(Protocol):
    def send(self, message: OutboundMessage) -> SendReceipt: ...


class Pacer:
    """Spaces calls at most `rate` per second across threads, without holding a lock while sleeping."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
        delay = slot - now
        if delay > 0:
            time.sleep(delay)

    def hold(self, seconds: float) -> None:
        """The provider said 'slow down': push every later slot back."""
        with self._lock:
            self._next_slot = max(self._next_slot, time.monotonic() + seconds)


_pacers: dict[str, Pacer] = {}
_pacers_lock = threading.Lock()


def pacer_for(key: str, rate: float) -> Pacer:
    """One pacer per bot or sender for the life of the Lambda container."""
    with _pacers_lock:
        pacer = _pacers.get(key)
        if pacer is None:
            pacer = _pacers[key] = Pacer(rate)
        return pacer
