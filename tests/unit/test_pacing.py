"""ridecast.adapters.channels.pacing on a clock of its own: the pace holds at the rate asked, whatever the
loop's wake-up lag, and nothing bursts after an idle spell or a 429's hold."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from ridecast.adapters.channels import pacing
from ridecast.adapters.channels.pacing import Pacer


class LateClock:
    """A clock whose sleeps always wake `lag` seconds late, as a busy event loop does."""

    def __init__(self, lag: float) -> None:
        self.now = 1000.0
        self.lag = lag

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds + self.lag


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> LateClock:
    late = LateClock(lag=0.004)
    monkeypatch.setattr(pacing.time, "monotonic", late.monotonic)
    monkeypatch.setattr(pacing.asyncio, "sleep", late.sleep)
    return late


def _turns(pacer: Pacer, clock: LateClock, count: int) -> list[float]:
    async def take() -> list[float]:
        times = []
        for _ in range(count):
            await pacer.wait()
            times.append(clock.now)
        return times

    # On a thread of its own: a test before this one may have left an event loop running on this thread.
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, take()).result()


def test_a_late_waking_loop_keeps_the_pace_asked(clock: LateClock) -> None:
    # Given a pacer at 25 calls a second and a loop whose every sleep wakes 4 ms late
    pacer = Pacer(25)
    # When 101 calls take their turns
    times = _turns(pacer, clock, 101)
    # Then 100 intervals took 4 s and a lag, not 100 lags more: the rate is the one asked
    assert times[-1] - times[0] == pytest.approx(100 / 25 + 0.004, abs=1e-9)


def test_after_an_idle_spell_calls_are_paced_from_now_not_all_at_once(clock: LateClock) -> None:
    # Given a pacer at 10 calls a second that made a call, then sat idle for a minute
    pacer = Pacer(10)
    _turns(pacer, clock, 1)
    clock.now += 60
    # When three more calls come
    times = _turns(pacer, clock, 3)
    # Then the first goes at once and the others a tenth of a second apart (each woken 4 ms late)
    assert times[1] - times[0] == pytest.approx(0.1 + 0.004, abs=1e-9)
    assert times[2] - times[1] == pytest.approx(0.1, abs=1e-9)


def test_after_a_hold_the_pace_counts_from_the_end_of_the_hold(clock: LateClock) -> None:
    # Given a pacer at 10 calls a second told to hold for 2 s by a 429
    pacer = Pacer(10)
    _turns(pacer, clock, 1)
    start = clock.now
    pacer.hold(2)
    # When two more calls come
    first, second = _turns(pacer, clock, 2)
    # Then the first waits out the hold and the second its interval after it, with no catching up
    assert first == pytest.approx(start + 2 + 0.004, abs=1e-9)
    assert second - first >= 0.1
