"""Dispatch pause and resume (SPEC §5 emergency control): while a fleet is paused its new rides are accepted
(`searching`) but held, not broadcast; on resume they go out in the order they came, their deadline counted
from the resume. Rides already matching carry on.

In the flow: Broadcast sees the pause before a ride's first offer, AwaitAcceptance hands the ride to AwaitResume
(its own token failed with RideHeld), which parks the task token on the ride and puts the ride on its fleet's
held list. Resume clears the flag, then releases the held rides oldest first (new deadline, token completed,
Broadcast again). A resume that lands between Broadcast seeing the pause and the token being parked walks the
list without that ride; the parked ride re-reads the flag (strongly consistent) and releases itself. Either way
exactly one release wins the ride's conditional write and completes its token."""

import time
from datetime import datetime, timedelta
from typing import Any

from ridecast.domain.channels.catalogue import render
from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Fleet, Ride
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.matching.waiting import answer_ended_ride
from ridecast.domain.ports import Ports
from ridecast.domain.rides.transitions import load_ride
from ridecast.observability import logger, metrics

# A release is a few writes and a SendTaskSuccess (about 50 ms): this many seconds release a few hundred rides
# and keep POST /dispatch/resume within its function's timeout and API Gateway's 30 s.
RELEASE_BUDGET_SECONDS = 20.0


def unless_paused(ports: Ports, ride: Ride, fleet: Fleet) -> Ride | None:
    """Before a ride's first offer: None when the fleet is paused (the ride is to be held), else the ride to
    broadcast. A ride still marked held whose release never finished (the resume died half way, or its wait
    timed out) is released here, its deadline counted from now."""
    if fleet.dispatch_paused:
        return None
    if ride.held_at is None:
        return ride
    released = ports.stores.rides.release(ride, _new_deadline(fleet, utcnow()))
    return released or load_ride(ports.stores.rides, ride.ride_id)


def await_resume(ports: Ports, ride_id: str, task_token: str) -> dict[str, Any]:
    """The AwaitResume task: park the token on the held ride; release it at once if dispatch resumed meanwhile."""
    rides = ports.stores.rides
    ride = load_ride(rides, ride_id)
    if not rides.hold(ride, task_token, utcnow()):
        # Cancelled (or otherwise ended) before its token was parked: answer the token here.
        return answer_ended_ride(ports, load_ride(rides, ride_id), task_token)
    if not ports.stores.fleets.dispatch_paused(ride.fleet_id):
        _release(ports, ride, _new_deadline(get_fleet(ports, ride.fleet_id), utcnow()))
        return {"waiting": False, "released": True}
    logger.info("ride held while dispatch is paused", extra={"ride_id": ride_id})
    return {"waiting": True}


def pause_dispatch(ports: Ports, fleet_id: str) -> None:
    """New rides of the fleet are held from now on; pausing a paused fleet changes nothing."""
    fleet = get_fleet(ports, fleet_id)
    if ports.stores.fleets.set_dispatch_paused(fleet_id, True):
        logger.info("dispatch paused", extra={"fleet_id": fleet_id})
        metrics.add_metric(name="DispatchPaused", unit="Count", value=1)
        _tell_admins(ports, fleet, "admin_dispatch_paused")


def resume_dispatch(ports: Ports, fleet_id: str, budget_seconds: float = RELEASE_BUDGET_SECONDS) -> int:
    """Clear the pause, then release the held rides oldest first, each deadline counted from now, for at most
    `budget_seconds`; how many were released. Rides left over stay held (the status counts them): the next
    resume releases them, and so does each one's own re-check (AwaitResume's timeout). Resuming a fleet that
    is not paused still releases what is held."""
    fleet = get_fleet(ports, fleet_id)
    changed = ports.stores.fleets.set_dispatch_paused(fleet_id, False)
    deadline = _new_deadline(fleet, utcnow())
    stop_at = time.monotonic() + budget_seconds
    released = 0
    held = ports.stores.rides.held(fleet_id)
    for index, ride_id in enumerate(held):
        if time.monotonic() > stop_at:
            logger.warning("resume out of time", extra={"fleet_id": fleet_id, "still_held": len(held) - index})
            break
        ride = ports.stores.rides.get(ride_id)
        if ride is not None and _release(ports, ride, deadline):
            released += 1
    if changed:
        logger.info("dispatch resumed", extra={"fleet_id": fleet_id, "released": released})
        _tell_admins(ports, fleet, "admin_dispatch_resumed", count=str(released))
    return released


def _new_deadline(fleet: Fleet, now: datetime) -> datetime:
    return now + timedelta(seconds=fleet.settings.matching_timeout_seconds)


def _release(ports: Ports, ride: Ride, deadline: datetime) -> bool:
    """True when this call released the ride and woke its flow (Broadcast runs next)."""
    released = ports.stores.rides.release(ride, deadline)
    if released is None or released.task_token is None:
        return False
    ports.matching.complete_task(released.task_token, {"released": True})
    return True


def _tell_admins(ports: Ports, fleet: Fleet, kind: str, **values: str) -> None:
    router = ChannelRouter.for_fleet(fleet, ports)
    body = render(fleet, kind, fleet_name=fleet.name, **values)
    router.to_admins(f"Ridecast {kind.removeprefix('admin_').replace('_', ' ')}", body, kind=kind)
