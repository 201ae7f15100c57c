"""The template's functions, imported into this process and called the way the Lambda runtime calls them. They share
one os.environ: their variables are merged, and two that need different values for one variable fail at start."""

import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from unittest import mock

import snapshot_restore_py  # the Lambda runtime's own SnapStart hooks library

from local_stack.template import FunctionSpec, TemplateError

PER_FUNCTION_VARIABLES = frozenset({"POWERTOOLS_SERVICE_NAME"})


class LambdaContext:
    """What the Python runtime passes as `context` (the attributes Powertools reads)."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name, self.function_version, self.invoked_function_arn = spec.name, "$LATEST", spec.arn
        self.memory_limit_in_mb, self.aws_request_id = spec.memory_mb, str(uuid.uuid4())
        self.log_group_name, self.log_stream_name = f"/aws/lambda/{spec.name}", f"local/[$LATEST]{uuid.uuid4().hex}"
        self.identity = self.client_context = None
        self._deadline = time.monotonic() + spec.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def merged_environment(functions: Iterable[FunctionSpec]) -> dict[str, str]:
    """The union of every function's variables; a disagreement is a template the local stack cannot run."""
    merged: dict[str, tuple[str, str]] = {}  # name → value, the first function that set it
    for spec in functions:
        for name, value in spec.environment.items():
            first, owner = merged.setdefault(name, (value, spec.logical_id))
            if first != value and name not in PER_FUNCTION_VARIABLES:
                disagreement = f"environment variable {name} is {first!r} in {owner} but {value!r} in {spec.logical_id}"
                raise TemplateError(f"{disagreement}; all functions share one process locally")
    return {name: value for name, (value, _) in merged.items() if name not in PER_FUNCTION_VARIABLES}


class FunctionHost:
    """Imports the handlers and invokes them by logical id, function name or ARN."""

    def __init__(self) -> None:
        self.specs: dict[str, FunctionSpec] = {}
        self._names: dict[str, str] = {}  # logical id, function name and ARN → logical id
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}

    def load_all(self, functions: list[FunctionSpec]) -> None:
        """Set the merged environment, import every handler once (SnapStart ones as a snapshot init), run hooks."""
        os.environ.update(merged_environment(functions))
        hooks = snapshot_restore_py.get_before_snapshot(), snapshot_restore_py.get_after_restore()
        for registered in hooks:
            registered.clear()  # a previous runtime's functions' hooks are not this one's
        for spec in functions:
            self.specs[spec.logical_id] = spec
            self._names |= dict.fromkeys((spec.logical_id, spec.name, spec.arn), spec.logical_id)
            self._handlers[spec.logical_id] = _import(spec)
        # Lambda runs before-snapshot hooks in reverse order of registration, after-restore ones in order.
        for hook, args, kwargs in [*reversed(hooks[0]), *hooks[1]]:
            hook(*args, **kwargs)

    def function(self, name_or_arn: str) -> tuple[FunctionSpec, Callable[[Any, Any], Any]]:
        logical_id = self._names.get(name_or_arn)  # unqualified: local_stack.aws drops an alias
        if logical_id is None or logical_id not in self._handlers:
            raise KeyError(f"no function {name_or_arn!r} in template.yaml (known: {sorted(self.specs)})")
        return self.specs[logical_id], self._handlers[logical_id]

    def invoke(self, name_or_arn: str, event: Any) -> Any:
        """Call the handler with a JSON copy of `event`; its exception propagates, its result is JSON-checked."""
        spec, handler = self.function(name_or_arn)
        context = LambdaContext(spec)
        try:
            result = handler(json.loads(json.dumps(event)), context)
        finally:
            if context.get_remaining_time_in_millis() == 0:
                message = f"ran past its Timeout of {spec.timeout_seconds}s (AWS would have killed it)"
                print(f"local stack: {spec.logical_id} {message}", file=sys.stderr)
        return json.loads(json.dumps(result))

    def invoke_payload(self, name_or_arn: str, payload: bytes) -> tuple[int, bytes, str | None]:
        """The Lambda Invoke API (RequestResponse, as Step Functions calls it): JSON bytes in, JSON bytes
        out, errors as the Python runtime reports them, so Retry/Catch match on their class name."""
        if name_or_arn not in self._names:
            return 404, json.dumps({"Type": "User", "Message": f"Function not found: {name_or_arn}"}).encode(), None
        try:
            return 200, json.dumps(self.invoke(name_or_arn, json.loads(payload or b"{}"))).encode(), None
        except Exception as error:  # logged as the function's log would show it (nobody reads an Event answer)
            print(f"local stack: {name_or_arn} failed", file=sys.stderr)
            traceback.print_exc()
            return 200, json.dumps(error_payload(error)).encode(), "Unhandled"


def _import(spec: FunctionSpec) -> Callable[[Any, Any], Any]:
    module_path, _, attribute = spec.handler.rpartition(".")
    file = spec.code_dir / (module_path.replace(".", "/") + ".py")
    if not module_path or not file.is_file():
        raise TemplateError(f"{spec.logical_id}: Handler {spec.handler!r} is not a module.function in {file}")
    # Every function's file is app.py: each is imported under a module name of its own.
    module_spec = importlib.util.spec_from_file_location(f"local_stack_function_{spec.logical_id}", file)
    assert module_spec is not None
    assert module_spec.loader is not None
    module = sys.modules[module_spec.name] = importlib.util.module_from_spec(module_spec)
    # Powertools reads the service name when Logger/Metrics are built, i.e. at import.
    service = {name: spec.environment[name] for name in PER_FUNCTION_VARIABLES if name in spec.environment}
    service["AWS_LAMBDA_INITIALIZATION_TYPE"] = "snap-start" if spec.snap_start else "on-demand"
    with mock.patch.dict(os.environ, service):
        module_spec.loader.exec_module(module)
    if not callable(handler := getattr(module, attribute, None)):
        raise TemplateError(f"{spec.logical_id}: {file} has no callable {attribute}")
    return handler  # type: ignore[no-any-return]


def error_payload(error: BaseException) -> dict[str, Any]:
    """The body Lambda returns for an unhandled exception; Step Functions matches Retry/Catch on errorType."""
    answer = {"errorMessage": str(error), "errorType": type(error).__name__, "requestId": str(uuid.uuid4())}
    return answer | {"stackTrace": traceback.format_list(traceback.extract_tb(error.__traceback__))}


# Powertools keeps the invocation's state where only one invocation can see it in Lambda: the event on a class
# attribute (`BaseRouter.current_event`, shared by every function), the matched route and its arguments in
# `app.context` (shared by the function's invocations). In one process on many threads, concurrent requests would read
# each other's event and route (401, 404 or 500 at random); per thread, as in separate containers, each sees its own.


class PerThread:
    """An attribute with one value per thread (and resolver), for Powertools' per-invocation state."""

    def __init__(self, default: Callable[[], Any]) -> None:
        self._local = threading.local()
        self._default = default

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        return self if instance is None else vars(self._local).setdefault(str(id(instance)), self._default())

    def __set__(self, instance: object, value: Any) -> None:
        vars(self._local)[str(id(instance))] = value


def invocation_isolation() -> Any:
    """Powertools' per-invocation state made per thread: a `mock.patch` to start while a LocalRuntime runs."""
    from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
    from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

    current_event = PerThread(lambda: None)
    original_resolve = ApiGatewayResolver.resolve

    def resolve(self: Any, event: Any, context: Any) -> Any:
        raw = event.raw_event if isinstance(event, BaseProxyEvent) else event
        current_event.__set__(self, self._to_proxy_event(raw))
        return original_resolve(self, event, context)

    # mock.patch restores what ApiGatewayResolver defined and deletes what it did not.
    replacements: dict[str, Any] = {"current_event": current_event, "context": PerThread(dict), "resolve": resolve}
    return mock.patch.multiple(ApiGatewayResolver, create=True, **replacements)
