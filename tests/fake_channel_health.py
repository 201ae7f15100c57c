"""In-memory channel router state (ridecast.domain.channels.health.ChannelHealthStore), the platform phone
index (ridecast.domain.ports.DriverPhoneIndex) and the platform bot's chat index (PlatformChatIndex), kept
apart from tests/fakes.py so each stays readable."""

from dataclasses import dataclass, field, replace

from ridecast.domain.channels.health import (
    ROUTER_CHANNELS,
    ChannelHealth,
    ChannelOutcomes,
    ChannelStatus,
    RouterChannel,
    RouterMode,
    RouterState,
)


@dataclass
class FakeChannelHealthStore:
    modes: dict[str, RouterMode] = field(default_factory=dict)
    channels: dict[tuple[str, RouterChannel], ChannelHealth] = field(default_factory=dict)
    writes: int = 0

    def get(self, fleet_id: str) -> RouterState:
        return RouterState(
            mode=self.modes.get(fleet_id, "auto"),
            channels={c: self.channels.get((fleet_id, c), ChannelHealth()) for c in ROUTER_CHANNELS},
        )

    def record(self, fleet_id: str, channel: RouterChannel, outcomes: ChannelOutcomes) -> ChannelHealth:
        self.writes += 1
        now = self.channels.get((fleet_id, channel), ChannelHealth())
        run = (
            outcomes.failures_in_a_row if outcomes.succeeded else now.consecutive_failures + outcomes.failures_in_a_row
        )
        updated = replace(
            now,
            status="online" if outcomes.succeeded and now.status == "unknown" else now.status,
            consecutive_failures=run,
            attempts=now.attempts + outcomes.attempts,
            successes=now.successes + outcomes.successes,
            failures=now.failures + outcomes.failures,
            latency_ms_total=now.latency_ms_total + outcomes.latency_ms_total,
            last_success_at=outcomes.last_success_at or now.last_success_at,
            last_failure_at=outcomes.last_failure_at or now.last_failure_at,
        )
        self.channels[(fleet_id, channel)] = updated
        return updated

    def set_status(
        self, fleet_id: str, channel: RouterChannel, status: ChannelStatus, *, only_from: ChannelStatus | None = None
    ) -> bool:
        now = self.channels.get((fleet_id, channel), ChannelHealth())
        if now.status == status or (only_from is not None and now.status != only_from):
            return False
        self.writes += 1
        self.channels[(fleet_id, channel)] = replace(now, status=status, consecutive_failures=0)
        return True

    def set_mode(self, fleet_id: str, mode: RouterMode) -> None:
        self.modes[fleet_id] = mode

    def reset_counters(self, fleet_id: str) -> None:
        for channel in ROUTER_CHANNELS:
            now = self.channels.get((fleet_id, channel), ChannelHealth())
            self.channels[(fleet_id, channel)] = replace(now, attempts=0, successes=0, failures=0, latency_ms_total=0)

    def offline(self) -> list[tuple[str, RouterChannel]]:
        return [key for key, health in self.channels.items() if health.status == "offline"]


@dataclass
class FakeDriverPhoneIndex:
    entries: dict[tuple[str, str], str] = field(default_factory=dict)  # (phone, fleet) → driver

    def add(self, phone: str, fleet_id: str, driver_id: str) -> None:
        self.entries[(phone, fleet_id)] = driver_id

    def remove(self, phone: str, fleet_id: str) -> None:
        self.entries.pop((phone, fleet_id), None)

    def drivers_for(self, phone: str) -> list[tuple[str, str]]:
        return [(fleet_id, driver_id) for (p, fleet_id), driver_id in self.entries.items() if p == phone]


@dataclass
class FakePlatformChatIndex:
    entries: dict[str, tuple[str, str]] = field(default_factory=dict)  # chat → (fleet, driver)

    def bind(self, chat_id: str, fleet_id: str, driver_id: str) -> bool:
        return self.entries.setdefault(chat_id, (fleet_id, driver_id)) == (fleet_id, driver_id)

    def unbind(self, chat_id: str, fleet_id: str, driver_id: str) -> None:
        if self.entries.get(chat_id) == (fleet_id, driver_id):
            del self.entries[chat_id]

    def find(self, chat_id: str) -> tuple[str, str] | None:
        return self.entries.get(chat_id)
