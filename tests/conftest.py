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
