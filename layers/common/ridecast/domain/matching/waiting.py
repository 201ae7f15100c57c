"""AwaitAcceptance and ExpireOffers (SPEC §4.2, §4.3): waiting on a task token for a response window, and
closing the window when it lapses.

AwaitAcceptance follows every Broadcast directly (Step Functions bills each state entered, and a typical ride
would otherwise pay for a Choice between the two). When the wave opened no window to wait on, the task answers
its own token at once and the state machine's Catch routes the flow by the error's name."""

from datetime import timedelta
from typing import Any

from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Ride
from ridecast.domain.matching.notifications import escalate
from ridecast.domain.ports import OfferChange, Ports
from ridecast.domain.rides.transitions import SUPERSEDED, load_ride, superseded
from ridecast.errors import DeadlinePassed, RideCancelled, RideEnded, RideHeld, RideScheduled


def await_acceptance(
    ports: Ports, ride_id: str, task_token: str, matching_round: int = 1, wave: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Park the task token on the ride. An answer that landed first completes the token right here, and so
    does what Broadcast found instead of a window (`wave`, its answer): a held ride, or no time left."""
    if wave and wave.get("held"):
        ports.matching.fail_task(task_token, RideHeld.__name__, f"ride {ride_id} is held: dispatch is paused")
        return {"waiting": False, "held": True}
    if wave and wave.get("deadline_passed"):
        ports.matching.fail_task(task_token, DeadlinePassed.__name__, f"ride {ride_id} is out of matching time")
        return {"waiting": False, "deadline_passed": True}
    parked = ports.stores.rides.update_searching(ride_id, {"task_token": task_token}, only_round=matching_round)
    if parked is not None:
        return {"waiting": True}
    ride = load_ride(ports.stores.rides, ride_id)
    if superseded(ride, matching_round):
        ports.matching.fail_task(task_token, RideEnded.__name__, f"ride {ride_id} is matching in a newer round")
        return {"waiting": False, "ride_status": ride.status}
    if ride.status == "scheduled":
        ports.matching.fail_task(task_token, RideScheduled.__name__, f"ride {ride_id} is pre-booked")
        return {"waiting": False, "ride_status": ride.status}
    return answer_ended_ride(ports, ride, task_token)


def answer_ended_ride(ports: Ports, ride: Ride, task_token: str) -> dict[str, Any]:
    """A ride that stopped searching before its token was parked: the token is answered here, as the accept
    or cancel that came first would have answered it."""
    ride_id = ride.ride_id
    if ride.status == "assigned":
        ports.matching.complete_task(task_token, {"driver_id": ride.driver_id})
    elif ride.status == "cancelled":
        ports.matching.fail_task(task_token, RideCancelled.__name__, f"ride {ride_id} cancelled")
    else:
        ports.matching.fail_task(task_token, RideEnded.__name__, f"ride {ride_id} is {ride.status}")
    return {"waiting": False, "ride_status": ride.status}


def expire_window(ports: Ports, ride_id: str, matching_round: int = 1) -> dict[str, Any]:
    """A response window lapsed: unanswered offers become `timeout`; say whether time is up."""
    ride = load_ride(ports.stores.rides, ride_id)
    if superseded(ride, matching_round):
        return {"ride_status": SUPERSEDED}
    if ride.status != "searching":
        return {"ride_status": ride.status}
    # Earlier rounds' offers (a driver who gave the ride back, say) are no answer to this round's.
    offers = [o for o in ports.stores.offers.for_ride(ride_id) if o.matching_round == ride.matching_round]
    if unanswered := [o for o in offers if o.status == "sent"]:
        # In batches (a thousand drivers: 40 writes, not 1,000), each only while still `sent`: an answer that
        # lands meanwhile keeps its status. Then read as they now stand.
        changes = [OfferChange(ride_id, o.driver_id, {"status": "timeout"}, only_from="sent") for o in unanswered]
        ports.stores.offers.update_many(changes)
        offers = [o for o in ports.stores.offers.for_ride(ride_id) if o.matching_round == ride.matching_round]
    statuses = {o.driver_id: o.status for o in offers}
    declined = sum(1 for s in statuses.values() if s in ("rejected", "timeout", "failed"))
    if statuses and declined == len(statuses):
        escalate(ports, ride, declined=declined)
    # Half a second of slack: a window that ends just short of the deadline would only buy a 1 s wave.
    deadline_passed = utcnow() + timedelta(seconds=0.5) >= ride.deadline_at
    return {"ride_status": "searching", "deadline_passed": deadline_passed}
