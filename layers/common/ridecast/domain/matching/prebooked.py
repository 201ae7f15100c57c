"""Pre-booked rides in the flow (SPEC §4 step 0): Broadcast finds the ride `scheduled`, AwaitAcceptance fails its
own token with RideScheduled and the Catch sends the flow to ConfirmBooking (the customer is told the booking),
the Wait state AwaitPickupTime holds the execution until `pickup_time - prebook_lead_minutes`, then
StartMatching moves it `scheduled -> searching` with its deadline counted from then, and Broadcast takes over.

A ride cancelled while scheduled needs no signal to the waiting flow: StartMatching finds it cancelled and
the flow ends there (Step Functions bills a Wait nothing while it waits)."""

from datetime import timedelta
from typing import Any

from ridecast.domain.channels.catalogue import local_time
from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Ride
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.matching import notifications
from ridecast.domain.ports import Ports
from ridecast.domain.rides.transitions import load_ride, move_ride
from ridecast.domain.stats.recording import record_ride_left_schedule
from ridecast.observability import logger, metrics


def _scheduled(ride: Ride) -> bool:
    return ride.status == "scheduled"


def confirm_booking(ports: Ports, ride_id: str) -> dict[str, Any]:
    """The ConfirmBooking task: tell the customer the pickup time, in the fleet's time zone and language."""
    ride = load_ride(ports.stores.rides, ride_id)
    if ride.status != "scheduled" or ride.pickup_time is None:
        return {"ride_status": ride.status}
    fleet = get_fleet(ports, ride.fleet_id)
    router = ChannelRouter.for_fleet(fleet, ports)
    notifications.tell_customer(
        router,
        ride,
        "customer_scheduled",
        limits=ports.stores.rate_limits,
        pickup_at=local_time(fleet, ride.pickup_time),
    )
    return {"ride_status": ride.status}


def start_matching(ports: Ports, ride_id: str) -> dict[str, Any]:
    """The StartMatching task, after the Wait: `scheduled -> searching` (conditional: a cancel wins or loses
    cleanly), the deadline counted from now. Safe to retry: a ride already searching is left as it is."""
    rides = ports.stores.rides
    ride = load_ride(rides, ride_id)
    timeout = timedelta(seconds=get_fleet(ports, ride.fleet_id).settings.matching_timeout_seconds)
    start = move_ride(rides, ride, "searching", lambda _: {"deadline_at": utcnow() + timeout}, allowed=_scheduled)
    if start.moved:
        record_ride_left_schedule(ports, start.ride)
        metrics.add_metric(name="ScheduledRidesStarted", unit="Count", value=1)
        logger.info("scheduled ride starts matching", extra={"ride_id": ride_id})
    return {"ride_status": start.ride.status}
