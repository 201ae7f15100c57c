"""Integration fixtures: one LocalRuntime for this package (template.yaml served in-process on moto, the
matching ASL run by moto's Step Functions interpreter, Lambda tasks routed to our handlers) and a fresh
`Stack` view of it per test, which cancels whatever its test left searching."""

from collections.abc import Iterator

import pytest

from local_stack import LocalRuntime
from tests.fixtures import REPO_ROOT, clear_cached_clients
from tests.integration.helpers import Stack


@pytest.fixture(scope="package")
def runtime() -> Iterator[LocalRuntime]:
    # Another suite in this process may have built settings, clients and secrets for its own account.
    clear_cached_clients(drop_secrets_provider=True)
    # No demo fleet and no simulated drivers: every test builds exactly the fleet it talks about.
    with LocalRuntime(REPO_ROOT, seed_demo=False, twilio_status_callbacks=False) as stack:
        yield stack
    clear_cached_clients(drop_secrets_provider=True)


@pytest.fixture
def stack(runtime: LocalRuntime) -> Iterator[Stack]:
    helper = Stack(runtime)
    try:
        yield helper
    finally:
        helper.settle_leftovers()
