"""Rides: creation (which starts matching), reading, listing, cancelling."""

from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from ridecast.adapters import dynamodb, stepfunctions
from ridecast.domain.fleets import get_fleet
from ridecast.errors import RideNotCancellable, RideNotFound, TransientError
from ridecast.ids import new_id, ride_code, utcnow
from ridecast.models.api import CreateRideRequest
from ridecast.models.domain import Offer, Ride
from ridecast.observability import logger, metrics

# A status transition loses only to another transition; a handful of re-reads always settles it.
MAX_TRANSITION_ATTEMPTS = 5


def create_ride(fleet_id: str, request: CreateRideRequest, created_by: str | None = None) -> Ride:
    fleet = get_fleet(fleet_id)
    now = utcnow()
    ride = Ride(
        ride_id=new_id("r"),
        fleet_id=fleet_id,
        code=ride_code(dynamodb.next_ride_sequence(fleet_id)),
        customer=request.customer,
        pickup=request.pickup,
        dropoff=request.dropoff,
        pickup_time=request.pickup_time,
        price=request.price,
        notes=request.notes,
        created_at=now,
        deadline_at=now + timedelta(seconds=fleet.settings.matching_timeout_seconds),
        created_by=created_by,
    )
    dynamodb.put_new_ride(ride)
    try:
        stepfunctions.start_matching(ride.ride_id, {"ride_id": ride.ride_id, "fleet_id": fleet_id})
    except ClientError as error:
        logger.exception("could not start matching", extra={"ride_id": ride.ride_id})
        dynamodb.transition_ride(ride, "failed", ended_at=utcnow(), end_reason="matching could not start")
        raise TransientError("matching could not start; please retry") from error
    metrics.add_metric(name="RidesCreated", unit="Count", value=1)
    logger.info("ride created", extra={"ride_id": ride.ride_id, "code": ride.code})
    return ride


def get_ride(fleet_id: str, ride_id: str) -> Ride:
    ride = dynamodb.get_ride(ride_id)
    if ride is None or ride.fleet_id != fleet_id:
        raise RideNotFound(f"ride {ride_id} not found")
    return ride


def get_ride_with_offers(fleet_id: str, ride_id: str) -> tuple[Ride, list[Offer]]:
    ride = get_ride(fleet_id, ride_id)
    return ride, sorted(dynamodb.list_offers(ride_id), key=lambda o: o.sent_at)


def list_rides(
    fleet_id: str, status: str | None, since: datetime | None, limit: int, cursor: str | None
) -> tuple[list[Ride], str | None]:
    return dynamodb.list_rides(fleet_id, status, since, limit, cursor)


def cancel_ride(fleet_id: str, ride_id: str, reason: str | None) -> Ride:
    ride = get_ride(fleet_id, ride_id)
    for _ in range(MAX_TRANSITION_ATTEMPTS):
        if ride.status != "searching":
            raise RideNotCancellable(f"ride {ride.code} is already {ride.status}", status=ride.status)
        cancelled = dynamodb.transition_ride(
            ride, "cancelled", ended_at=utcnow(), end_reason=f"cancelled: {reason}" if reason else "cancelled"
        )
        if cancelled is not None:
            break
        ride = get_ride(fleet_id, ride_id)
    else:
        raise TransientError("the ride kept changing; please retry")
    # The execution leaves its wait at once; if it is between waves it sees the status itself.
    if cancelled.task_token:
        stepfunctions.fail_task(cancelled.task_token, "RideCancelled", f"ride {ride_id} cancelled")
    metrics.add_metric(name="RidesCancelled", unit="Count", value=1)
    return cancelled
