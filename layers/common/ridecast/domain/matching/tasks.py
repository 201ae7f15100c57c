"""The matching state machine's Lambda tasks (statemachines/matching.asl.json), by the `task` name the ASL
passes. Each takes the ports first, then the ASL's arguments, and is safe to retry."""

from collections.abc import Callable
from typing import Any

from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.endings import mark_failed, notify_cancelled, notify_matched, time_out
from ridecast.domain.matching.holding import await_resume
from ridecast.domain.matching.prebooked import confirm_booking, start_matching
from ridecast.domain.matching.waiting import await_acceptance, expire_window

TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "confirm_booking": confirm_booking,
    "start_matching": start_matching,
    "broadcast": broadcast,
    "await_resume": await_resume,
    "await_acceptance": await_acceptance,
    "expire_window": expire_window,
    "time_out": time_out,
    "notify_matched": notify_matched,
    "notify_cancelled": notify_cancelled,
    "mark_failed": mark_failed,
}
