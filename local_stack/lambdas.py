"""The template's functions, imported into this process and called the way the Lambda runtime calls them.

All functions share one process, hence one os.environ: their variables are merged, and two functions
that need different values for the same variable cannot both be right, so that fails at start.
Every function's file is `app.py`, so each is imported under its own module name.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_stack.template import FunctionSpec, TemplateError

PER_FUNCTION_VARIABLES = frozenset({"POWERTOOLS_SERVICE_NAME"})


class LambdaContext:
    """What the Python runtime passes as `context` (the attributes Powertools reads)."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name, self.function_version, self.invoked_function_arn = spec.name, "$LATEST", spec.arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self.identity = self.client_context = None
        self._deadline = time.monotonic() + spec.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class LoadedFunction:
    spec: FunctionSpec
    handler: Callable[[Any, Any], Any]


def merged_environment(functions: Iterable[FunctionSpec]) -> dict[str, str]:
    """The union of every function's variables; a disagreement is a template the local stack cannot run."""
    merged: dict[str, str] = {}
    owner: dict[str, str] = {}
    for spec in functions:
        for name, value in spec.environment.items():
            if name in PER_FUNCTION_VARIABLES:
                continue
            if name in merged and merged[name] != value:
                raise TemplateError(
                    f"environment variable {name} is {merged[name]!r} in {owner[name]} but {value!r} in "
                    f"{spec.logical_id}; all functions share one process locally"
                )
            merged[name], owner[name] = value, spec.logical_id
    return merged


class FunctionHost:
    """Imports the handlers and invokes them by logical id, function name or ARN."""

    def __init__(self, functions: list[FunctionSpec]) -> None:
        self.specs = {spec.logical_id: spec for spec in functions}
        self._names = {alias: spec.logical_id for spec in functions for alias in (spec.logical_id, spec.name, spec.arn)}
        self._loaded: dict[str, LoadedFunction] = {}

    def load_all(self) -> None:
        """Set the merged environment, then import every handler (as a cold start would, once)."""
        os.environ.update(merged_environment(self.specs.values()))
        service_default = os.environ.get("POWERTOOLS_SERVICE_NAME")
        try:
            for spec in self.specs.values():
                self._loaded[spec.logical_id] = LoadedFunction(spec, _import(spec))
        finally:
            os.environ.pop("POWERTOOLS_SERVICE_NAME", None)
            if service_default is not None:
                os.environ["POWERTOOLS_SERVICE_NAME"] = service_default

    def logical_id_of(self, name_or_arn: str) -> str | None:
        # arn:aws:lambda:region:account:function:name[:qualifier] and account:function:name forms
        name = name_or_arn.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in name_or_arn else name_or_arn
        return self._names.get(name_or_arn) or self._names.get(name)

    def function(self, name_or_arn: str) -> LoadedFunction:
        logical_id = self.logical_id_of(name_or_arn)
        if logical_id is None or logical_id not in self._loaded:
            raise KeyError(f"no function {name_or_arn!r} in template.yaml (known: {sorted(self.specs)})")
        return self._loaded[logical_id]

    def invoke(self, name_or_arn: str, event: Any) -> Any:
        """Call the handler with a JSON copy of `event`; its exception propagates, its result is JSON-checked."""
        loaded = self.function(name_or_arn)
        context = LambdaContext(loaded.spec)
        started = time.monotonic()
        try:
            result = loaded.handler(json.loads(json.dumps(event)), context)
        finally:
            elapsed = time.monotonic() - started
            if elapsed > loaded.spec.timeout_seconds:
                print(
                    f"local stack: {loaded.spec.logical_id} ran {elapsed:.1f}s, past its Timeout of "
                    f"{loaded.spec.timeout_seconds}s (AWS would have killed it)",
                    file=sys.stderr,
                )
        return json.loads(json.dumps(result))

    def invoke_payload(self, name_or_arn: str, payload: bytes) -> tuple[int, bytes, str | None]:
        """The Lambda Invoke API (RequestResponse, as Step Functions calls it): JSON bytes in, JSON bytes
        out, errors as the Python runtime reports them, so Retry/Catch match on their class name."""
        if self.logical_id_of(name_or_arn) is None:
            return 404, json.dumps({"Type": "User", "Message": f"Function not found: {name_or_arn}"}).encode(), None
        try:
            return 200, json.dumps(self.invoke(name_or_arn, json.loads(payload or b"{}"))).encode(), None
        except Exception as error:
            return 200, json.dumps(error_payload(error)).encode(), "Unhandled"


def _import(spec: FunctionSpec) -> Callable[[Any, Any], Any]:
    module_path, _, attribute = spec.handler.rpartition(".")
    file = spec.code_dir / (module_path.replace(".", "/") + ".py")
    if not module_path or not file.is_file():
        raise TemplateError(f"{spec.logical_id}: Handler {spec.handler!r} is not a module.function in {file}")
    # Powertools reads the service name when Logger/Metrics are built, i.e. at import.
    if "POWERTOOLS_SERVICE_NAME" in spec.environment:
        os.environ["POWERTOOLS_SERVICE_NAME"] = spec.environment["POWERTOOLS_SERVICE_NAME"]
    module_name = f"local_stack_function_{spec.logical_id}"
    # Sibling modules of app.py (e.g. a models.py) would collide across functions: import them with
    # the code dir on the path, then drop them from sys.modules so the next function gets its own.
    sys.path.insert(0, str(spec.code_dir))
    before = set(sys.modules)
    try:
        module_spec = importlib.util.spec_from_file_location(module_name, file)
        assert module_spec is not None
        assert module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        module_spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(spec.code_dir))
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if name != module_name and Path(origin).is_relative_to(spec.code_dir):
                del sys.modules[name]
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise TemplateError(f"{spec.logical_id}: {file} has no callable {attribute}")
    return handler  # type: ignore[no-any-return]


def error_payload(error: BaseException) -> dict[str, Any]:
    """The body Lambda returns for an unhandled exception; Step Functions matches Retry/Catch on errorType."""
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "requestId": str(uuid.uuid4()),
        "stackTrace": traceback.format_list(traceback.extract_tb(error.__traceback__)),
    }
