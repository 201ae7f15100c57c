"""Background work as asynchronous Lambda invocations (InvocationType=Event): Lambda queues the event and
answers at once; a failed run goes to the function's on-failure destination (template.yaml)."""

import json
from functools import lru_cache
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ridecast.errors import BackgroundUnavailable
from ridecast.observability import logger
from ridecast.settings import get_settings


@lru_cache(maxsize=1)
def client() -> Any:  # mypy_boto3_lambda is not among the pinned stubs
    return boto3.client("lambda")


class LambdaJobs:
    def message_drivers(self, job: dict[str, Any]) -> None:
        function = get_settings().messaging_function_name
        if not function:
            raise BackgroundUnavailable("driver messaging is not configured (MESSAGING_FUNCTION_NAME)")
        try:
            client().invoke(FunctionName=function, InvocationType="Event", Payload=json.dumps(job).encode())
        except (ClientError, BotoCoreError) as error:
            logger.warning("driver message not queued", extra={"error": type(error).__name__})
            raise BackgroundUnavailable("the message could not be queued; nothing was sent, please retry") from error
