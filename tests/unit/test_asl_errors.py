"""Every error name the matching state machine's Retry and Catch match on is one the matching Lambda can
really produce: Step Functions matches names exactly, so a renamed exception silently turns a Retry into a
failed ride, and a Catch into dead code. States.* and Lambda.* names are the service's own."""

import ast
import builtins
import json
import sys
from pathlib import Path

import botocore.exceptions
import pytest

import ridecast.errors
from tests.fixtures import REPO_ROOT

ASL = REPO_ROOT / "statemachines" / "matching.asl.json"


def _error_names() -> set[str]:
    names: set[str] = set()

    def walk(states: dict[str, dict[str, object]]) -> None:
        for state in states.values():
            for rule in [*state.get("Retry", []), *state.get("Catch", [])]:  # type: ignore[misc]
                names.update(rule["ErrorEquals"])
            for branch in state.get("Branches", []):  # type: ignore[attr-defined]
                walk(branch["States"])

    walk(json.loads(ASL.read_text())["States"])
    return {n for n in names if not n.startswith(("States.", "Lambda."))}


def _code_of_the_matching_function() -> list[Path]:
    """Every ridecast module the matching Lambda loads, and its handler."""
    import ridecast.domain.matching.tasks
    import ridecast.wiring  # noqa: F401 - the handler's ports

    files = [REPO_ROOT / "functions" / "matching" / "app.py"]
    for name, module in list(sys.modules.items()):
        if (name == "ridecast" or name.startswith("ridecast.")) and getattr(module, "__file__", None):
            files.append(Path(module.__file__))  # type: ignore[arg-type]
    return files


def _produced_names(files: list[Path]) -> set[str]:
    """Names raised (`raise X(...)`) and names a task token is failed with (`fail_task(..., X.__name__, ...)`)."""
    produced: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
                produced.add(node.exc.func.id)
            if isinstance(node, ast.Attribute) and node.attr == "__name__" and isinstance(node.value, ast.Name):
                produced.add(node.value.id)
    return produced


@pytest.mark.parametrize("name", sorted(_error_names()))
def test_every_error_the_asl_names_is_one_the_matching_lambda_produces(name: str) -> None:
    ours = getattr(ridecast.errors, name, None)
    if ours is not None:
        # Ours: an exception class the matching function's own code raises (or fails a task token with)
        assert isinstance(ours, type)
        assert issubclass(ours, Exception)
        assert name in _produced_names(_code_of_the_matching_function()), f"nothing raises {name}"
    else:
        # The SDK's: what boto3 raises when DynamoDB, Step Functions or SNS fail in transit
        assert isinstance(getattr(botocore.exceptions, name, None) or getattr(builtins, name, None), type), name


def test_the_asl_names_our_retryable_and_token_errors() -> None:
    # Sanity: the walk finds the names the flow depends on, so the test above is not vacuous
    assert {"TransientError", "RideCancelled", "RideEnded", "ClientError"} <= _error_names()
