"""The matching state machine's Lambda tasks; the ASL passes `task` and the ride id."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.domain import matching
from ridecast.observability import logger, metrics, tracer


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = matching.TASKS[event["task"]]
    arguments = {k: v for k, v in event.items() if k != "task"}
    logger.append_keys(ride_id=event.get("ride_id"), task=event["task"])
    return task(**arguments)
