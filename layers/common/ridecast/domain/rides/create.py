"""Creating a ride, which starts its matching; once per Idempotency-Key."""

import re
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import Any

from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Ride
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.ports import Ports
from ridecast.domain.rides.commands import NewRide
from ridecast.errors import IdempotencyRequestInFlight, InvalidInput, MatchingUnavailable, TransientError
from ridecast.ids import new_id, ride_code
from ridecast.observability import logger, metrics
from ridecast.settings import get_settings

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


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
    from aws_lambda_powertools.utilities.idempotency import exceptions as idempotency_errors

    create, config = _idempotent_create()
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)
    payload = {"fleet_id": fleet_id, "key": idempotency_key, "request": ride.model_dump(mode="json")}
    try:
        return create(data=payload, ports=ports, created_by=created_by)
    except idempotency_errors.IdempotencyValidationError:
        # As the IETF Idempotency-Key draft says: a reused key with another body is 422, one in flight is 409.
        raise InvalidInput(
            "Idempotency-Key: already used with a different ride request", field="Idempotency-Key"
        ) from None
    except idempotency_errors.IdempotencyAlreadyInProgressError:
        raise IdempotencyRequestInFlight(
            "a request with this Idempotency-Key is still being processed; retry shortly"
        ) from None


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
    def create(data: dict[str, Any], ports: Ports, created_by: str | None) -> Ride:
        return create_ride(ports, data["fleet_id"], NewRide.model_validate(data["request"]), created_by)

    typed: Callable[..., Ride] = create
    return typed, config


def create_ride(ports: Ports, fleet_id: str, request: NewRide, created_by: str | None = None) -> Ride:
    fleet = get_fleet(ports, fleet_id)
    now = utcnow()
    ride = Ride(
        ride_id=new_id("r"),
        fleet_id=fleet_id,
        code=ride_code(ports.stores.fleets.next_ride_sequence(fleet_id)),
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
    ports.stores.rides.add(ride)
    try:
        ports.matching.start(ride.ride_id, {"ride_id": ride.ride_id, "fleet_id": fleet_id})
    except MatchingUnavailable as error:
        logger.exception("could not start matching", extra={"ride_id": ride.ride_id})
        ports.stores.rides.transition(ride, "failed", ended_at=utcnow(), end_reason="matching could not start")
        raise TransientError("matching could not start; please retry") from error
    metrics.add_metric(name="RidesCreated", unit="Count", value=1)
    logger.info("ride created", extra={"ride_id": ride.ride_id, "code": ride.code})
    return ride
