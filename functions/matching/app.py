"""The matching state machine's Lambda tasks; the ASL passes `task` and the ride id."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.domain.matching.tasks import TASKS
from ridecast.observability import logger, metrics
from ridecast.wiring import ports


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = TASKS[event["task"]]
    arguments = {k: v for k, v in event.items() if k != "task"}
    logger.append_keys(ride_id=event.get("ride_id"), task=event["task"])
    return task(ports(), **arguments)
