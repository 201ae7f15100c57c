"""The webhook queue's consumer: delivers fleets' ride events, signed, to their receivers (SPEC §10)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.adapters.webhooks import deliver_webhooks
from ridecast.observability import logger, metrics
from ridecast.wiring import ports


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return deliver_webhooks(ports(), event, context)
