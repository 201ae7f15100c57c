"""POST /rides/batch: a dispatch desk's list of bookings in one call. Each ride is created and started as
POST /rides would create it (rate limits and pickup-time rules included), each refused one is reported with
its index and the answer POST /rides would have given; one Idempotency-Key covers the whole batch."""

from typing import Any

from ridecast.domain.entities import DomainModel, Ride
from ridecast.domain.fan_out import in_parallel
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.ports import Ports
from ridecast.domain.rides.commands import NewRide
from ridecast.domain.rides.create import IDEMPOTENCY_KEY_PATTERN, create_ride
from ridecast.errors import InvalidInput, RidecastError
from ridecast.observability import logger

MAX_BATCH = 100
# A ride is about eight sequential DynamoDB and Step Functions calls (~100 ms in AWS): eight side by side
# create 100 rides in a couple of seconds, far inside API Gateway's 29 s, without a burst of 100 sockets.
RIDES_IN_FLIGHT = 8


class RefusedRide(DomainModel):
    """A ride the API refused before the domain saw it (its body did not fit the ride model)."""

    status: int
    error: dict[str, Any]


class BatchEntry(DomainModel):
    index: int
    status: int
    ride: Ride | None = None
    error: dict[str, Any] | None = None


class BatchOutcome(DomainModel):
    results: list[BatchEntry]


def create_batch_once(
    ports: Ports,
    fleet_id: str,
    rides: list[NewRide | RefusedRide],
    request: dict[str, Any],
    idempotency_key: str | None,
    created_by: str | None = None,
    lambda_context: Any = None,
) -> BatchOutcome:
    """`request` is the batch as the caller sent it: a replay must send the same one to get the same answer."""
    if idempotency_key is None:
        return create_batch(ports, fleet_id, rides, created_by)
    if not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
        raise InvalidInput("Idempotency-Key: 1 to 255 visible ASCII characters", field="Idempotency-Key")
    return ports.idempotency.batch_once(
        fleet_id, idempotency_key, request, lambda: create_batch(ports, fleet_id, rides, created_by), lambda_context
    )


def create_batch(
    ports: Ports, fleet_id: str, rides: list[NewRide | RefusedRide], created_by: str | None = None
) -> BatchOutcome:
    if not 1 <= len(rides) <= MAX_BATCH:
        raise InvalidInput(f"rides: 1 to {MAX_BATCH} rides", field="rides")
    get_fleet(ports, fleet_id)  # a fleet that is gone fails the batch once, not a hundred times

    def one(indexed: tuple[int, NewRide | RefusedRide]) -> BatchEntry:
        index, ride = indexed
        if isinstance(ride, RefusedRide):
            return BatchEntry(index=index, status=ride.status, error=ride.error)
        try:
            created = create_ride(ports, fleet_id, ride, created_by)
        except RidecastError as error:
            return BatchEntry(index=index, status=error.status_code, error=error.body())
        return BatchEntry(index=index, status=201, ride=created)

    outcome = BatchOutcome(results=in_parallel(one, list(enumerate(rides)), at_most=RIDES_IN_FLIGHT))
    created = sum(1 for entry in outcome.results if entry.ride is not None)
    logger.info("ride batch", extra={"fleet_id": fleet_id, "rides": len(rides), "rides_created": created})
    return outcome
