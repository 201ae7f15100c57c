"""Powertools Idempotency over our own table: a ride request retried with its Idempotency-Key gets the ride
the first request created (SPEC §3). Imported only when a client sends the header."""

from collections.abc import Callable
from functools import cache
from typing import Any

from ridecast.domain.entities import Ride
from ridecast.errors import IdempotencyRequestInFlight, InvalidInput
from ridecast.settings import get_settings

# How long a key is remembered: a client's retries of one request come well within a day.
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


class PowertoolsIdempotency:
    def ride_once(
        self, fleet_id: str, key: str, request: dict[str, Any], create: Callable[[], Ride], lambda_context: Any
    ) -> Ride:
        from aws_lambda_powertools.utilities.idempotency import exceptions as idempotency_errors

        run, config = _idempotent_ride()
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
def _idempotent_ride() -> tuple[Callable[..., Ride], Any]:
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
    def run(data: dict[str, Any], create: Callable[[], Ride]) -> Ride:
        return create()

    typed: Callable[..., Ride] = run
    return typed, config
