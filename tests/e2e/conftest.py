"""End-to-end fixtures: one `python -m local_stack` process for the session, fresh fleets per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.stack import StackClient, StackProcess

_STACK_KEY = pytest.StashKey[StackProcess]()
_LOG_OFFSET = pytest.StashKey[int]()


@pytest.fixture(scope="session")
def stack_process(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    log_path = Path(tmp_path_factory.mktemp("local_stack")) / "local_stack.log"
    process = StackProcess(log_path)
    process.start()
    request.config.stash[_STACK_KEY] = process
    yield process
    returncode = process.stop()
    if returncode not in (0, None):
        print(f"\nlocal stack exited with {returncode}; its last output:\n{process.output()[-4000:]}")


@pytest.fixture
def stack(stack_process: StackProcess) -> StackClient:
    return StackClient(stack_process.base_url)


@pytest.fixture(autouse=True)
def _mark_stack_log(request: pytest.FixtureRequest) -> None:
    """Remember where the stack's output stood when the test began, to show only this test's part."""
    process = request.config.stash.get(_STACK_KEY, None)
    request.node.stash[_LOG_OFFSET] = process.log_size() if process else 0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    process = item.config.stash.get(_STACK_KEY, None)
    if report.failed and process is not None:
        output = process.output(since=item.stash.get(_LOG_OFFSET, 0))
        report.sections.append(("local stack output", output[-20000:] or "(nothing)"))
