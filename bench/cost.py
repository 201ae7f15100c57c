"""AWS cost of one matched ride, from what the local stack actually did, at list prices (us-east-1)."""

import json
import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import botocore.handlers

from local_stack.lambdas import FunctionHost

# List prices, us-east-1, arm64 (USD).
LAMBDA_GB_SECOND = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1_000_000
STATE_TRANSITION = 0.025 / 1_000
DYNAMODB_WRU = 0.625 / 1_000_000
DYNAMODB_RRU = 0.125 / 1_000_000
HTTP_API_REQUEST = 1.00 / 1_000_000

_READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
# Functions API Gateway invokes per request (the authorizer is billed as a Lambda call, not as a request).
_NOT_API_ROUTES = {"AuthorizerFunction", "MatchingFunction", "SweeperFunction"}


def _size(value: Any) -> int:
    return len(json.dumps(value, default=str).encode())


@dataclass
class Usage:
    invocations: Counter[str] = field(default_factory=Counter)
    gb_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    rru: float = 0.0
    wru: float = 0.0
    calls: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.invocations.clear()
            self.gb_seconds.clear()
            self.calls.clear()
            self.rru = self.wru = 0.0


USAGE = Usage()


def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["bench_params"] = dict(params)


def _count_dynamodb(model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """Request units as DynamoDB bills them: reads per 4 KB (half for eventually consistent), writes per 1 KB."""
    operation = model.name
    params: dict[str, Any] = context.get("bench_params", {})
    rru = wru = 0.0
    if operation in _READS:
        items = parsed.get("Items") or ([parsed["Item"]] if parsed.get("Item") else [])
        factor = 1.0 if params.get("ConsistentRead") else 0.5
        rru = max(factor, math.ceil(sum(_size(i) for i in items) / 4096) * factor)
    elif operation == "BatchWriteItem":
        requests = [r for table in params.get("RequestItems", {}).values() for r in table]
        wru = sum(math.ceil(_size(r) / 1024) for r in requests)
    elif operation == "TransactWriteItems":
        wru = sum(2 * math.ceil(_size(item) / 1024) for item in params.get("TransactItems", []))
    elif operation in _WRITES:
        written = params.get("Item") or parsed.get("Attributes") or {}
        wru = max(1, math.ceil(_size(written) / 1024))
    with USAGE.lock:
        USAGE.calls[operation] += 1
        USAGE.rru += rru
        USAGE.wru += wru


def install() -> None:
    """Count before any boto3 session exists (botocore copies its builtin handlers into each new session)."""
    botocore.handlers.BUILTIN_HANDLERS.append(("provide-client-params.dynamodb", _remember_params))
    botocore.handlers.BUILTIN_HANDLERS.append(("after-call.dynamodb", _count_dynamodb))
    original = FunctionHost.invoke

    def counted(self: FunctionHost, name_or_arn: str, event: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, name_or_arn, event)
        finally:
            spec, _ = self.function(name_or_arn)
            # Lambda bills whole milliseconds.
            billed = math.ceil((time.perf_counter() - started) * 1000) / 1000
            with USAGE.lock:
                USAGE.invocations[spec.logical_id] += 1
                USAGE.gb_seconds[spec.logical_id] += billed * spec.memory_mb / 1024

    FunctionHost.invoke = counted  # type: ignore[method-assign]


@contextmanager
def measured() -> Iterator[Usage]:
    USAGE.reset()
    yield USAGE


# Scheduled work runs whether or not there are rides: a fixed cost per minute, not per ride.
_NOT_PER_RIDE = {"SweeperFunction"}


def states_entered(history: Sequence[Mapping[str, Any]]) -> list[str]:
    """The states one execution went through, in order, from its history (what the ASL really did)."""
    return [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]


def state_transitions(history: Sequence[Mapping[str, Any]]) -> int:
    """Transitions as Step Functions bills them: every state entered (Choice, Pass, Wait, Succeed included),
    and every retry of a task, which is billed as a transition of its own."""
    attempts = sum(1 for e in history if e["type"] in ("TaskScheduled", "LambdaFunctionScheduled"))
    tasks_entered = sum(1 for e in history if e["type"] == "TaskStateEntered")
    return len(states_entered(history)) + max(0, attempts - tasks_entered)


def price(usage: Usage, state_transitions: int) -> dict[str, Any]:
    for name in _NOT_PER_RIDE:
        usage.invocations.pop(name, None)
        usage.gb_seconds.pop(name, None)
    invocations = sum(usage.invocations.values())
    api_requests = sum(n for name, n in usage.invocations.items() if name not in _NOT_API_ROUTES)
    lines = {
        "lambda_compute": sum(usage.gb_seconds.values()) * LAMBDA_GB_SECOND,
        "lambda_requests": invocations * LAMBDA_REQUEST,
        "step_functions": state_transitions * STATE_TRANSITION,
        "dynamodb": usage.wru * DYNAMODB_WRU + usage.rru * DYNAMODB_RRU,
        "api_gateway": api_requests * HTTP_API_REQUEST,
    }
    return {
        "usd_per_matched_ride": round(sum(lines.values()), 7),
        "usd_breakdown": {k: round(v, 8) for k, v in lines.items()},
        "lambda_invocations": dict(usage.invocations),
        "lambda_gb_seconds": round(sum(usage.gb_seconds.values()), 4),
        "api_requests": api_requests,
        "state_transitions": state_transitions,
        "dynamodb_wru": round(usage.wru, 1),
        "dynamodb_rru": round(usage.rru, 1),
        "dynamodb_calls": dict(usage.calls),
    }
