"""Rides: creation (which starts matching), reading, listing, cancelling."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from ridecast.adapters import dynamodb, stepfunctions
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Offer, Ride
from ridecast.domain.fleets import get_fleet
from ridecast.errors import IdempotencyKeyReused, InvalidInput, RideNotCancellable, RideNotFound, TransientError
from ridecast.ids import new_id, ride_code
from ridecast.models.api import CreateRideRequest
from ridecast.observability import logger, metrics
from ridecast.settings import get_settings

# A status transition loses only to another transition; a handful of re-reads always settles it.
MAX_TRANSITION_ATTEMPTS = 5


IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


def create_ride_once(
    fleet_id: str, request: CreateRideRequest, idempotency_key: str | None, created_by: str | None = None
) -> Ride:
    """POST /rides: the same Idempotency-Key within 24 h returns the same ride and starts one execution."""
    if idempotency_key is None:
        return create_ride(fleet_id, request, created_by)
    if not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
        raise InvalidInput("Idempotency-Key: 1 to 255 visible ASCII characters", field="Idempotency-Key")
    from aws_lambda_powertools.utilities.idempotency import exceptions as idempotency_errors

    create, config = _idempotent_create()
    if _invocation.context is not None:
        # Lets a crashed attempt's in-progress record expire with the invocation, not after 24 h.
        config.register_lambda_context(_invocation.context)
    payload = {"fleet_id": fleet_id, "key": idempotency_key, "request": request.model_dump(mode="json")}
    try:
        return create(data=payload, created_by=created_by)
    except idempotency_errors.IdempotencyValidationError:
        # As the IETF Idempotency-Key draft says: a reused key with another body is 422, one in flight is 409.
        raise InvalidInput(
            "Idempotency-Key: already used with a different ride request", field="Idempotency-Key"
        ) from None
    except idempotency_errors.IdempotencyAlreadyInProgressError:
        raise IdempotencyKeyReused(
            "a request with this Idempotency-Key is still being processed; retry shortly"
        ) from None


class _Invocation:
    context: Any = None


_invocation = _Invocation()


def bind_invocation(context: Any) -> None:
    """Remember the Lambda context of the current invocation (for idempotency's in-progress expiry)."""
    _invocation.context = context


@cache
def _idempotent_create() -> tuple[Callable[..., Ride], Any]:
    """Powertools Idempotency over our own table, imported only when a client sends Idempotency-Key."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

    persistence = DynamoDBPersistenceLayer(
        table_name=get_settings().table_name,
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value="IDEMPOTENCY#rides",
        expiry_attr="expires_at",
    )
    config = IdempotencyConfig(
        event_key_jmespath="[fleet_id, key]",
        payload_validation_jmespath="request",
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
    )

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="data",
        persistence_store=persistence,
        config=config,
        output_serializer=PydanticSerializer(Ride),
    )
    def create(data: dict[str, Any], created_by: str | None) -> Ride:
        return create_ride(data["fleet_id"], CreateRideRequest.model_validate(data["request"]), created_by)

    typed: Callable[..., Ride] = create
    return typed, config


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
    if since is not None:
        try:
            since = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
        except OverflowError:
            # 0001-01-01T00:00+14:00 is a valid ISO time that falls outside what Python can hold in UTC.
            raise InvalidInput("since: date out of range", field="since") from None
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
