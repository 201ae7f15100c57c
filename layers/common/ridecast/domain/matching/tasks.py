"""The matching state machine's Lambda tasks (statemachines/matching.asl.json), by the `task` name the ASL
passes. Each takes the ports first, then the ASL's arguments, and is safe to retry."""

from collections.abc import Callable
from typing import Any

from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.endings import mark_failed, notify_cancelled, notify_matched, time_out
from ridecast.domain.matching.holding import await_resume
from ridecast.domain.matching.prebooked import confirm_booking, start_matching
from ridecast.domain.matching.waiting import await_acceptance, expire_window
from ridecast.domain.ports import Ports

# How long AwaitAcceptance waits after a wave that opened no window (a held, pre-booked, settled or
# out-of-time ride): its Lambda answers its own token at once, so this only bounds an answer that got lost.
NO_WINDOW_SECONDS = 60


def broadcast_wave(ports: Ports, ride_id: str, matching_round: int = 1) -> dict[str, Any]:
    """The Broadcast task: the wave, with the `window_seconds` AwaitAcceptance (always next) times out after."""
    wave = broadcast(ports, ride_id, matching_round)
    if "window_seconds" in wave and not wave.get("deadline_passed"):
        return wave
    return wave | {"window_seconds": NO_WINDOW_SECONDS}


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "confirm_booking": confirm_booking,
    "start_matching": start_matching,
    "broadcast": broadcast_wave,
    "await_resume": await_resume,
    "await_acceptance": await_acceptance,
    "expire_window": expire_window,
    "time_out": time_out,
    "notify_matched": notify_matched,
    "notify_cancelled": notify_cancelled,
    "mark_failed": mark_failed,
}
