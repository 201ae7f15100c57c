"""Creating a ride, which starts its matching; once per Idempotency-Key."""

import re
from datetime import timedelta
from typing import Any

from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Ride
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.ports import Ports
from ridecast.domain.rides import limits, schedule
from ridecast.domain.rides.commands import NewRide
from ridecast.domain.stats.recording import record_ride_created, record_ride_ended
from ridecast.errors import InvalidInput, MatchingUnavailable, TransientError
from ridecast.ids import new_id, ride_code
from ridecast.observability import logger, metrics

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


def create_ride_once(
    ports: Ports,
    fleet_id: str,
    ride: NewRide,
    idempotency_key: str | None,
    created_by: str | None = None,
    lambda_context: Any = None,
) -> Ride:
    """POST /rides: the same Idempotency-Key within 24 h returns the same ride and starts one execution.

    `lambda_context` lets a crashed attempt's in-progress record expire with its invocation, not after 24 h.
    """
    if idempotency_key is None:
        return create_ride(ports, fleet_id, ride, created_by)
    if not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
        raise InvalidInput("Idempotency-Key: 1 to 255 visible ASCII characters", field="Idempotency-Key")
    return ports.idempotency.ride_once(
        fleet_id,
        idempotency_key,
        ride.model_dump(mode="json"),
        lambda: create_ride(ports, fleet_id, ride, created_by),
        lambda_context,
    )


def matching_payload(ride: Ride) -> dict[str, Any]:
    """The input of a ride's matching execution: the round lets a task of an earlier round's execution,
    still running, see it has been superseded (SPEC §8)."""
    return {"ride_id": ride.ride_id, "fleet_id": ride.fleet_id, "matching_round": ride.matching_round}


def create_ride(ports: Ports, fleet_id: str, request: NewRide, created_by: str | None = None) -> Ride:
    fleet = get_fleet(ports, fleet_id)
    now = utcnow()
    # Checked before the rate limit: a refused pickup time costs the fleet none of its rides this minute.
    starts_at = schedule.matching_start(request.pickup_time, fleet.settings, now)
    limits.admit_ride(ports.stores.rate_limits, fleet, request.customer.phone)
    ride = Ride(
        ride_id=new_id("r"),
        fleet_id=fleet_id,
        code=ride_code(ports.stores.fleets.next_ride_sequence(fleet_id)),
        status="searching" if starts_at is None else "scheduled",
        customer=request.customer,
        pickup=request.pickup,
        dropoff=request.dropoff,
        pickup_time=request.pickup_time,
        price=request.price,
        notes=request.notes,
        created_at=now,
        # A scheduled ride's deadline is counted again when its matching starts.
        deadline_at=(starts_at or now) + timedelta(seconds=fleet.settings.matching_timeout_seconds),
        created_by=created_by,
        matching=request.matching,
        # One list of drivers the ride is never offered to: the request's, then those a round goes on without.
        excluded_driver_ids=sorted(set(request.matching.exclude_driver_ids)),
    )
    ports.stores.rides.add(ride)
    record_ride_created(ports, ride)
    # A pre-booked ride's flow waits in its Wait state until then: no poller, no schedule per ride (null: at once).
    flow = {
        **matching_payload(ride),
        "start_matching_at": schedule.wait_timestamp(starts_at) if starts_at is not None else None,
    }
    try:
        ports.matching.start(ride.ride_id, flow)
    except MatchingUnavailable as error:
        logger.exception("could not start matching", extra={"ride_id": ride.ride_id})
        failed = ports.stores.rides.transition(ride, "failed", ended_at=utcnow(), end_reason="matching could not start")
        if failed is not None:
            record_ride_ended(ports, failed, offers=[])
        raise TransientError("matching could not start; please retry") from error
    metrics.add_metric(name="RidesCreated", unit="Count", value=1)
    logger.info("ride created", extra={"ride_id": ride.ride_id, "code": ride.code, "status": ride.status})
    return ride
