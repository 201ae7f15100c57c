"""How `make test` spreads the suite over pytest-xdist workers (`--dist loadfile`)."""

from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling

INTEGRATION = "tests/integration/"


class FilesAndOneIntegrationUnit(LoadFileScheduling):
    """loadfile, except that the integration package is a single unit of work. A file's tests stay on one
    worker (they share its module fixtures and, for e2e, that worker's own local stack); all integration files
    go to one worker, which starts the package's in-process LocalRuntime once instead of once for each
    integration file it happens to get between other files (10 s each on a quiet machine, 30-50 s loaded)."""

    def _split_scope(self, nodeid: str) -> str:
        return INTEGRATION if nodeid.startswith(INTEGRATION) else super()._split_scope(nodeid)


# xdist's own `--dist loadgroup` marks cannot do this with pytest 9 (xdist 3.8 rewrites Item._nodeid, which pytest
# 9 no longer reads), so the scheduler itself groups, through xdist's hook for that.
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadFileScheduling | None:
    return FilesAndOneIntegrationUnit(config, log) if config.getvalue("dist") == "loadfile" else None


# Integration tests run the matching flow in real time on moto's interpreter, e2e tests against a local stack:
# they hold 1-6 s response windows, and on 2 cores shared with `sam build` and the other worker a window can
# lapse before the step a test waits for. Those tests get one more try; a failure that repeats fails the run,
# and unit tests, which do not depend on timing, never get one.
REAL_TIME = ("tests/integration/", "tests/e2e/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(REAL_TIME):
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=1))
