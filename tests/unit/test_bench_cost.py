"""bench/cost.py counts Step Functions transitions as they are billed, from an execution's real history."""

from typing import Any

from bench.cost import STATE_TRANSITION, state_transitions, states_entered


def _entered(kind: str, name: str) -> dict[str, Any]:
    return {"type": f"{kind}StateEntered", "stateEnteredEventDetails": {"name": name}}


def test_every_state_entered_and_every_task_retry_is_a_transition() -> None:
    # Given a history where Broadcast failed once and was retried, then a Choice and a Succeed state
    history = [
        {"type": "ExecutionStarted"},
        _entered("Task", "Broadcast"),
        {"type": "TaskScheduled"},
        {"type": "TaskFailed"},
        {"type": "TaskScheduled"},
        {"type": "TaskSucceeded"},
        {"type": "TaskStateExited"},
        _entered("Choice", "RouteWave"),
        _entered("Succeed", "Matched"),
        {"type": "ExecutionSucceeded"},
    ]
    # Then three states were entered, and the retry is billed as a fourth transition
    assert states_entered(history) == ["Broadcast", "RouteWave", "Matched"]
    assert state_transitions(history) == 4
    assert round(state_transitions(history) * STATE_TRANSITION, 6) == 0.0001
