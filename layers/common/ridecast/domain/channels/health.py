"""The router's view of its two channels (SPEC §5): per fleet, Telegram and Twilio each have a status and
counters kept in the table, so every Lambda of the fleet sees the same health and it survives restarts.

A send's outcome is gathered here in memory and written as one atomic ADD per channel, per broadcast wave
rather than per message (`ChannelOutcomes`); the status moves `online → offline` after
`OFFLINE_AFTER_FAILURES` provider failures in a row and back on a healthy probe, each move a conditional
write so exactly one caller tells the admins."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from ridecast.domain.types import MessageChannel

RouterChannel = Literal["telegram", "twilio"]
RouterMode = Literal["auto", "telegram-only", "twilio-only"]
ChannelStatus = Literal["online", "offline", "unknown"]
ChannelSource = Literal["fleet", "platform"]
ROUTER_CHANNELS: tuple[RouterChannel, ...] = ("telegram", "twilio")
OFFLINE_AFTER_FAILURES = 3


def router_channel(channel: MessageChannel) -> RouterChannel:
    """SMS, WhatsApp (and e-mail, never routed) share Twilio's health; Telegram is its own."""
    return "telegram" if channel == "telegram" else "twilio"


@dataclass(frozen=True)
class ChannelHealth:
    status: ChannelStatus = "unknown"
    consecutive_failures: int = 0
    attempts: int = 0
    successes: int = 0
    failures: int = 0
    latency_ms_total: float = 0.0
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None

    @property
    def success_rate(self) -> float | None:
        return round(self.successes / self.attempts, 4) if self.attempts else None

    @property
    def avg_latency_ms(self) -> float | None:
        return round(self.latency_ms_total / self.attempts, 1) if self.attempts else None


@dataclass(frozen=True)
class RouterState:
    mode: RouterMode = "auto"
    channels: dict[RouterChannel, ChannelHealth] = field(
        default_factory=lambda: {channel: ChannelHealth() for channel in ROUTER_CHANNELS}
    )

    def health(self, channel: RouterChannel) -> ChannelHealth:
        return self.channels.get(channel) or ChannelHealth()


@dataclass
class ChannelOutcomes:
    """What one invocation saw on one channel since its last write: added to the stored counters at once."""

    attempts: int = 0
    successes: int = 0
    failures: int = 0
    latency_ms_total: float = 0.0
    # Provider failures since the last success seen here; `succeeded` says the stored run restarts from it.
    failures_in_a_row: int = 0
    succeeded: bool = False
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None

    def add(self, ok: bool, latency_ms: float, at: datetime, *, provider_failure: bool) -> None:
        self.attempts += 1
        self.latency_ms_total += latency_ms
        if ok:
            self.successes += 1
            self.failures_in_a_row, self.succeeded, self.last_success_at = 0, True, at
        else:
            self.failures += 1
            self.last_failure_at = at
            # A driver who blocked the bot or a bad number says nothing about the provider: only provider
            # failures (5xx, timeouts) count towards taking the channel offline.
            if provider_failure:
                self.failures_in_a_row += 1


class ChannelHealthStore(Protocol):
    def get(self, fleet_id: str) -> RouterState:
        """The fleet's mode and both channels (defaults when nothing was recorded yet)."""

    def record(self, fleet_id: str, channel: RouterChannel, outcomes: ChannelOutcomes) -> ChannelHealth:
        """Add `outcomes` to the channel's counters atomically; the channel as it is after the write."""

    def set_status(
        self, fleet_id: str, channel: RouterChannel, status: ChannelStatus, *, only_from: ChannelStatus | None = None
    ) -> bool:
        """Move the channel to `status` (from `only_from` when given), restarting its run of failures; False
        when it already was there or not in `only_from` (someone else moved it first)."""

    def set_mode(self, fleet_id: str, mode: RouterMode) -> None: ...

    def reset_counters(self, fleet_id: str) -> None:
        """Zero attempts, successes, failures and latency (status and mode stay)."""

    def offline(self) -> list[tuple[str, RouterChannel]]:
        """Every (fleet_id, channel) offline now, for the scheduled probe."""
