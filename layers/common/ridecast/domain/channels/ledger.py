"""The router's bookkeeping for one invocation (SPEC §5): every send's outcome and latency, written to the
channel's stored counters in one atomic ADD per channel when the batch ends (a broadcast wave) or at once
outside a batch; three provider failures in a row take the channel offline, and exactly one writer of that
move tells the admins.

The same sends, per message channel (telegram, sms, whatsapp), are what `GET /stats` reports under
`channels` (SPEC §6): the flush hands them to `count_sends` too, so a failed Telegram send and the SMS that
replaced it are one failure on Telegram and one success on SMS there, as they were on the wire."""

import threading
from collections.abc import Callable
from datetime import datetime

from ridecast.domain.channels.health import (
    OFFLINE_AFTER_FAILURES,
    ChannelHealthStore,
    ChannelOutcomes,
    ChannelStatus,
    RouterChannel,
    RouterState,
)
from ridecast.domain.stats.counters import SendTally
from ridecast.domain.types import MessageChannel
from ridecast.observability import count_by, logger

StatusChanged = Callable[[RouterChannel, ChannelStatus], None]
# Where a flush's sends go to be counted per message channel (the fleet's stats; None: nowhere).
SendsCounter = Callable[[list[SendTally]], None]


class ChannelLedger:
    def __init__(
        self,
        fleet_id: str,
        store: ChannelHealthStore,
        on_status_change: StatusChanged,
        count_sends: SendsCounter | None = None,
    ) -> None:
        self._fleet_id, self._store, self._on_status_change = fleet_id, store, on_status_change
        self._count_sends = count_sends
        self._state: RouterState | None = None
        self._pending: dict[RouterChannel, ChannelOutcomes] = {}
        self._pending_sends: list[SendTally] = []
        self._offline_here: set[RouterChannel] = set()
        self._batch_depth = 0
        # A wave's sends run on many threads at once; their outcomes meet here.
        self._lock = threading.Lock()

    @property
    def state(self) -> RouterState:
        """Read once per invocation (one GetItem); the writes below keep what this invocation learns."""
        if self._state is None:
            self._state = self._store.get(self._fleet_id)
        return self._state

    def is_offline(self, channel: RouterChannel) -> bool:
        return channel in self._offline_here or self.state.health(channel).status == "offline"

    def record(
        self,
        channel: RouterChannel,
        ok: bool,
        latency_ms: float,
        at: datetime,
        *,
        provider_failure: bool,
        sent_on: MessageChannel | None = None,
    ) -> None:
        """One outcome on `channel`; `sent_on` (the message's own channel) when it was a send, which the
        fleet's stats count as an attempt (a delivery receipt's verdict on an earlier send is not one)."""
        stored = self.state.health(channel)
        with self._lock:
            if sent_on is not None:
                self._pending_sends.append(SendTally(sent_on, ok, round(latency_ms)))
            outcomes = self._pending.setdefault(channel, ChannelOutcomes())
            outcomes.add(ok, latency_ms, at, provider_failure=provider_failure)
            run = outcomes.failures_in_a_row + (0 if outcomes.succeeded else stored.consecutive_failures)
            if not ok and run >= OFFLINE_AFTER_FAILURES:
                # The rest of this wave goes straight to the fallback; the stored status follows on flush.
                self._offline_here.add(channel)
            batched = self._batch_depth > 0
        if not batched:
            self.flush()

    def begin(self) -> None:
        self._batch_depth += 1

    def end(self) -> None:
        self._batch_depth -= 1
        if self._batch_depth == 0:
            self.flush()

    def flush(self) -> None:
        # Telling the admins sends messages, which record outcomes of their own: loop until nothing is left.
        for _ in range(3):
            with self._lock:
                pending, self._pending = self._pending, {}
                sends, self._pending_sends = self._pending_sends, []
            if sends and self._count_sends is not None:
                self._count_sends(sends)
            if not pending:
                return
            for channel, outcomes in pending.items():
                health = self._store.record(self._fleet_id, channel, outcomes)
                if health.consecutive_failures >= OFFLINE_AFTER_FAILURES and health.status != "offline":
                    self.set_status(channel, "offline")

    def mark_online_quietly(self, channel: RouterChannel) -> None:
        """A healthy probe of a channel never seen before: online, with nobody to tell."""
        if self.state.health(channel).status == "unknown":
            self._store.set_status(self._fleet_id, channel, "online")
            self._state = None

    def set_status(self, channel: RouterChannel, status: ChannelStatus) -> bool:
        """Move the stored status; True (and the admins told) only for the writer that moved it."""
        only_from: ChannelStatus | None = "offline" if status == "online" else None
        moved = self._store.set_status(self._fleet_id, channel, status, only_from=only_from)
        if status == "offline":
            self._offline_here.add(channel)
        else:
            self._offline_here.discard(channel)
        self._state = None  # read again: another Lambda may have moved it too
        if moved:
            logger.warning("channel status changed", extra={"channel": channel, "status": status})
            # The offline alarms and the dashboard select on these names, by channel.
            count_by("ChannelOffline" if status == "offline" else "ChannelRecovered", "channel", channel)
            self._on_status_change(channel, status)
        return moved
