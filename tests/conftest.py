"""How `make test` spreads the suite over pytest-xdist workers (`--dist loadgroup`)."""

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A file's tests stay together on one worker: they share its module fixtures and, for e2e, the worker's
    own local stack. Every integration file joins one group, so one worker starts the package's in-process
    LocalRuntime once, instead of each worker starting it again for each integration file it happens to get
    (about 10 s each on two cores). Without xdist the marks change nothing."""
    for item in items:
        parts = item.path.relative_to(config.rootpath).parts
        group = "tests/integration" if parts[:2] == ("tests", "integration") else "/".join(parts)
        item.add_marker(pytest.mark.xdist_group(group))
