"""Provider rate limits: calls spaced per bot or sender, across the threads of a broadcast."""

import threading
import time


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
