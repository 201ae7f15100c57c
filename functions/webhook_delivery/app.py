"""The webhook queue's consumer: delivers fleets' ride events, signed, to their receivers (SPEC §10)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.observability import logger, metrics
from ridecast.wiring import ports


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Imported on the first batch, as wiring does for every adapter: the HTTP client and boto3 stay out of
    # the handler's cold import (SPEC §7), which tests/unit/test_cold_start.py checks for every function.
    from ridecast.adapters.webhooks import deliver_webhooks

    return deliver_webhooks(ports(), event, context)
