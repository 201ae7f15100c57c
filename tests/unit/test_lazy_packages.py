"""Powertools' re-exporting packages made lazy (ridecast.lazy_packages, cold start SPEC §7): every name their
`__init__` offers is still there and is the very object its module defines; only the loading moves."""

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ridecast.lazy_packages import POWERTOOLS_PACKAGES, reexports
from tests.fixtures import REPO_ROOT

_PROBE = """
import importlib, json, sys
sys.path.insert(0, {layer!r})
from ridecast.lazy_packages import import_lazily
package = import_lazily({package!r})
loaded_before = sorted(name for name in sys.modules if name.startswith({package!r} + "."))
names = sorted(package.__all__)
same = all(getattr(package, name) is getattr(importlib.import_module(name_module), name)
           for name, name_module in {where!r}.items())
try:
    package.no_such_name
    unknown = "found"
except AttributeError:
    unknown = "AttributeError"
print(json.dumps({{"loaded_before": loaded_before, "names": names, "same": same, "unknown": unknown}}))
"""


def _init_of(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None
    assert spec.origin is not None
    return Path(spec.origin)


def _declared_all(init: Path) -> set[str]:
    """The `__all__` the real __init__ declares (this interpreter has the lazy package, not the real one)."""
    for statement in ast.parse(init.read_bytes()).body:
        if isinstance(statement, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in statement.targets):
            return set(ast.literal_eval(statement.value))
    raise AssertionError(f"{init} declares no __all__")


def _probe(package: str) -> dict[str, object]:
    """In a fresh interpreter: the lazy package before any name is used, then every name through it."""
    init = _init_of(package)
    code = _PROBE.format(layer=str(REPO_ROOT / "layers" / "common"), package=package, where=reexports(init, package))
    answer = subprocess.run(  # noqa: S603 - this interpreter running our own probe
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    result: dict[str, object] = json.loads(answer.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("package", POWERTOOLS_PACKAGES)
def test_a_lazy_package_offers_every_name_of_its_init_as_the_same_object(package: str) -> None:
    # Given the names the package's own __init__ exports
    exported = _declared_all(_init_of(package))
    # When a fresh interpreter registers it lazily and then uses every name it re-exports
    probed = _probe(package)
    # Then nothing of it was loaded before a name was used
    assert probed["loaded_before"] == []
    # And it offers the names the real __init__ exports, each the same object its module defines
    assert exported <= set(probed["names"])  # type: ignore[arg-type]
    assert probed["same"] is True
    # And a name the package does not have is still an AttributeError (so `hasattr` and `getattr` work)
    assert probed["unknown"] == "AttributeError"


def test_reexports_names_each_module(tmp_path: Path) -> None:
    # Given an __init__ re-exporting absolutely, relatively and under another name
    init = tmp_path / "__init__.py"
    init.write_text("from pkg.alpha import A\nfrom .beta import B as Bee, C\nimport os\nX = 1\n")
    # When its re-exports are read
    # Then each name maps to its module's absolute name; plain imports and assignments are not re-exports
    assert reexports(init, "pkg") == {"A": "pkg.alpha", "Bee": "pkg.beta", "C": "pkg.beta"}


def test_an_already_imported_package_is_left_as_it_is() -> None:
    # Given a package this interpreter has imported already
    from ridecast.lazy_packages import import_lazily

    before = sys.modules["json"]
    # When it is asked for lazily
    # Then it is the same module, untouched
    assert import_lazily("json") is before
