"""Provider rate limits: calls spaced per bot or sender, across every send of the process.

All provider calls run on the one sending loop (ridecast.adapters.channels.sending), so a pacer is plain
asyncio state: a broadcast's batch and a single send from another invocation thread take turns in one queue.
"""

import asyncio
import time


class Pacer:
    """At most `rate` calls per second, first come first served; a 429 holds every later call back."""

    def __init__(self, rate: float | None) -> None:
        self._interval = 1.0 / rate if rate else 0.0
        self._next_slot = 0.0
        self._held_until = 0.0
        # Created on the sending loop by the first wait (a lock belongs to the loop that first uses it).
        self._turns: asyncio.Lock | None = None

    async def wait(self) -> None:
        if self._interval == 0.0 and self._held_until <= time.monotonic():
            return  # unpaced and not held: no queue to join
        if self._turns is None:
            self._turns = asyncio.Lock()
        # The lock queues callers in order (asyncio locks are fair), so a wave goes out in its ranking order;
        # the one at the head sleeps until its slot, looking again if a 429 pushed the slot back meanwhile.
        async with self._turns:
            while (delay := max(self._next_slot, self._held_until) - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            # The next slot counts from this one's, not from when the loop woke up: a sleep's wake-up lag would
            # otherwise add to every interval (28 msg/s came out at 27). After an idle spell or a hold (woken an
            # interval or more past the slot) it counts from now, so no burst makes up for lost time.
            now = time.monotonic()
            on_time = now - self._next_slot < self._interval
            self._next_slot = (self._next_slot if on_time else now) + self._interval

    def hold(self, seconds: float) -> None:
        """The provider said 'slow down': nothing goes out on this key for `seconds`."""
        self._held_until = max(self._held_until, time.monotonic() + seconds)


_pacers: dict[str, Pacer] = {}


def pacer_for(key: str, rate: float | None) -> Pacer:
    """One pacer per bot or sender for the life of the Lambda container (only the sending loop calls this)."""
    pacer = _pacers.get(key)
    if pacer is None:
        pacer = _pacers[key] = Pacer(rate)
    return pacer


def forget_pacers() -> None:
    """Their locks belong to a loop that is gone (after a SnapStart restore, or in tests)."""
    _pacers.clear()
