"""Cancelling a ride while it is scheduled or searching (SPEC §4 step 0, §4.6): the flow stops and the drivers
are told."""

from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Ride
from ridecast.domain.ports import Ports
from ridecast.domain.rides.read import get_ride
from ridecast.domain.rides.transitions import move_ride
from ridecast.domain.stats.recording import record_ride_ended, record_ride_left_schedule
from ridecast.errors import RideCancelled, RideNotCancellable
from ridecast.observability import metrics

# A scheduled ride's flow sits in its Wait state; StartMatching finds the ride cancelled and ends there.
CANCELLABLE = frozenset({"scheduled", "searching"})


def cancel_ride(ports: Ports, fleet_id: str, ride_id: str, reason: str | None) -> Ride:
    ride = get_ride(ports, fleet_id, ride_id)
    end_reason = f"cancelled: {reason}" if reason else "cancelled"
    moved_from: list[str] = []  # the status the winning write saw: the last one `allowed` was asked about

    def allowed(current: Ride) -> bool:
        moved_from.append(current.status)
        return current.status in CANCELLABLE

    cancel = move_ride(
        ports.stores.rides,
        ride,
        "cancelled",
        lambda _: {"ended_at": utcnow(), "end_reason": end_reason},
        allowed=allowed,
    )
    if not cancel.moved:
        status = cancel.ride.status
        raise RideNotCancellable(f"ride {cancel.ride.code} is already {status}", status=status)
    cancelled = cancel.ride
    if moved_from[-1] == "scheduled":
        record_ride_left_schedule(ports, cancelled)
    # The execution leaves its wait at once (AwaitAcceptance, or AwaitResume while held); if it is between
    # waves it sees the status itself.
    if cancelled.task_token:
        ports.matching.fail_task(cancelled.task_token, RideCancelled.__name__, f"ride {ride_id} cancelled")
    # A ride held by a paused fleet leaves the held list (a no-op for the others: cheaper than knowing).
    ports.stores.rides.unlist_held(cancelled)
    # The flow's NotifyCancelled counts it too, should this call die here: whichever comes first counts.
    record_ride_ended(ports, cancelled)
    metrics.add_metric(name="RidesCancelled", unit="Count", value=1)
    return cancelled
