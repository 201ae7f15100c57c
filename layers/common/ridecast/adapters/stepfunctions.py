"""Starting matching executions and completing their task tokens."""

import json
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ridecast.errors import MatchingUnavailable
from ridecast.observability import logger
from ridecast.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

# A token that has timed out or already been answered is not an error for us: the flow has moved
# on, and the ride item (not the token) is the source of truth.
_STALE_TOKEN_ERRORS = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


def execution_name(ride_id: str, matching_round: int) -> str:
    """The first round keeps the ride's id as its name; a ride back to matching (SPEC §8) runs `<ride>-m<n>`."""
    return ride_id if matching_round == 1 else f"{ride_id}-m{matching_round}"


@lru_cache(maxsize=1)
def client() -> "SFNClient":
    return boto3.client("stepfunctions")


class StepFunctionsMatching:
    """The matching engine as the domain receives it: a failure to start is a domain error, not botocore."""

    def start(self, ride_id: str, payload: dict[str, Any], matching_round: int = 1) -> None:
        """Start the round's execution, named after the ride and round so a retry cannot start a second one."""
        try:
            client().start_execution(
                stateMachineArn=get_settings().state_machine_arn,
                name=execution_name(ride_id, matching_round),
                input=json.dumps(payload),
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                logger.info("matching already started", extra={"ride_id": ride_id})
                return
            raise MatchingUnavailable(f"matching could not start for ride {ride_id}") from error
        except BotoCoreError as error:
            raise MatchingUnavailable(f"matching could not start for ride {ride_id}") from error

    def complete_task(self, task_token: str, output: dict[str, Any]) -> bool:
        return _answer_token(lambda: client().send_task_success(taskToken=task_token, output=json.dumps(output)))

    def fail_task(self, task_token: str, error_name: str, cause: str) -> bool:
        return _answer_token(lambda: client().send_task_failure(taskToken=task_token, error=error_name, cause=cause))


def _answer_token(call: Callable[[], object]) -> bool:
    """True when the waiting task took the answer; False when its token had already moved on."""
    try:
        call()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _STALE_TOKEN_ERRORS:
            logger.info("task token no longer waiting", extra={"error": error.response["Error"]["Code"]})
            return False
        raise
    return True
