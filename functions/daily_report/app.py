"""Scheduled (hourly): each fleet just past its local midnight gets yesterday's report, once."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.domain.stats.daily_report import send_daily_reports
from ridecast.observability import logger, metrics
from ridecast.wiring import ports


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return send_daily_reports(ports())
