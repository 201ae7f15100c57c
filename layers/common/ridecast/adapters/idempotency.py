"""Powertools Idempotency over our own table: a ride request (or a batch of them) retried with its
Idempotency-Key gets what the first request created (SPEC §3). Imported only when a client sends the header."""

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ridecast.domain.entities import Ride
from ridecast.errors import IdempotencyRequestInFlight, InvalidInput
from ridecast.settings import get_settings

if TYPE_CHECKING:
    from ridecast.domain.rides.batch import BatchOutcome

# How long a key is remembered: a client's retries of one request come well within a day.
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


class PowertoolsIdempotency:
    def ride_once(
        self, fleet_id: str, key: str, request: dict[str, Any], create: Callable[[], Ride], lambda_context: Any
    ) -> Ride:
        ride: Ride = _once("rides", Ride, fleet_id, key, request, create, lambda_context)
        return ride

    def batch_once(
        self,
        fleet_id: str,
        key: str,
        request: dict[str, Any],
        create: Callable[[], "BatchOutcome"],
        lambda_context: Any,
    ) -> "BatchOutcome":
        from ridecast.domain.rides.batch import BatchOutcome

        # Its own key space: a key used for one ride and again for a batch is two requests, not a clash.
        outcome: BatchOutcome = _once("rides/batch", BatchOutcome, fleet_id, key, request, create, lambda_context)
        return outcome


def _once(
    scope: str,
    model: type[BaseModel],
    fleet_id: str,
    key: str,
    request: dict[str, Any],
    create: Callable[[], BaseModel],
    lambda_context: Any,
) -> Any:
    from aws_lambda_powertools.utilities.idempotency import exceptions as idempotency_errors

    run, config = _idempotent(scope, model)
    if lambda_context is not None:
        # Lets a crashed attempt's in-progress record expire with its invocation, not after 24 h.
        config.register_lambda_context(lambda_context)
    try:
        return run(data={"fleet_id": fleet_id, "key": key, "request": request}, create=create)
    except idempotency_errors.IdempotencyValidationError:
        # As the IETF Idempotency-Key draft says: a reused key with another body is 422, one in flight 409.
        raise InvalidInput(
            "Idempotency-Key: already used with a different ride request", field="Idempotency-Key"
        ) from None
    except idempotency_errors.IdempotencyAlreadyInProgressError:
        raise IdempotencyRequestInFlight(
            "a request with this Idempotency-Key is still being processed; retry shortly"
        ) from None


@cache
def _idempotent(scope: str, model: type[BaseModel]) -> tuple[Callable[..., Any], Any]:
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
        static_pk_value=f"IDEMPOTENCY#{scope}",
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
        output_serializer=PydanticSerializer(model),
    )
    def run(data: dict[str, Any], create: Callable[[], BaseModel]) -> BaseModel:
        return create()

    typed: Callable[..., Any] = run
    return typed, config
