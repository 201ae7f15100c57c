"""Ride events for fleets' own systems (SPEC §10): which transition is which event, who subscribed, and
how long a failed delivery waits before the next attempt.

An event is published after its transition is recorded, best effort: a fleet's integration must never
slow or fail matching, so a publish that fails is logged and counted, not raised (see
ridecast.adapters.webhooks). The event id is the ride and the version the transition wrote, so one
transition is one id however often it is published or delivered, and receivers dedupe on it.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from ridecast.domain.entities import Fleet, Ride, RideEventType

RIDE_EVENT_TYPES: tuple[RideEventType, ...] = get_args(RideEventType)

# Standard Webhooks receivers are told to retry for about a day; attempts double from a minute up to six
# hours apart: 1, 2, 4 … 256 min, then 6 h, 6 h, 6 h — the 13th and last attempt lands about 26 h after the
# first, and the message then goes to the dead-letter queue (template.yaml: WebhookQueue maxReceiveCount).
FIRST_RETRY_SECONDS = 60
LONGEST_RETRY_SECONDS = 6 * 3600
MAX_DELIVERY_ATTEMPTS = 13


@dataclass(frozen=True)
class RideEvent:
    event_id: str
    type: RideEventType
    fleet_id: str
    ride: Ride
    created_at: datetime


def event_type(previous_status: str | None, ride: Ride) -> RideEventType | None:
    """The event a ride now in `ride.status` makes, coming from `previous_status` (None: just created)."""
    if ride.status == "searching" and previous_status == "assigned":
        return "ride.reassigned"  # back to matching after a give back or a reassign (SPEC §8)
    candidate = f"ride.{ride.status}"
    return candidate if candidate in RIDE_EVENT_TYPES else None


def ride_event(previous_status: str | None, ride: Ride, at: datetime) -> RideEvent | None:
    kind = event_type(previous_status, ride)
    if kind is None:
        return None
    return RideEvent(
        event_id=f"evt_{ride.ride_id}_{ride.version}", type=kind, fleet_id=ride.fleet_id, ride=ride, created_at=at
    )


def subscribed(fleet: Fleet | None, kind: str) -> bool:
    return fleet is not None and fleet.webhook is not None and kind in fleet.webhook.events


def retry_delay_seconds(attempt: int, first: int = FIRST_RETRY_SECONDS) -> int:
    """How long after failed attempt number `attempt` (1 = the first) the next one is made."""
    doublings: int = min(max(attempt - 1, 0), 20)
    return min(first * (1 << doublings), LONGEST_RETRY_SECONDS)
