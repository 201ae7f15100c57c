"""Scheduled (every minute): probe every offline channel and bring the healthy ones back online."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.domain.channels.control import probe_offline_channels
from ridecast.observability import logger, metrics
from ridecast.wiring import ports


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return probe_offline_channels(ports())
