"""Scheduled: settle rides still searching well past their deadline."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.domain.matching.sweeper import sweep
from ridecast.observability import logger, metrics
from ridecast.wiring import ports


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return sweep(ports())
