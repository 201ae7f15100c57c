"""Invoked asynchronously by POST /drivers/message: sends an operator's message to the drivers."""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.domain.drivers.messaging import deliver_driver_message
from ridecast.observability import logger, metrics
from ridecast.wiring import ports


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.append_keys(fleet_id=event.get("fleet_id"), message_id=event.get("message_id"))
    return asdict(deliver_driver_message(ports(), event))
