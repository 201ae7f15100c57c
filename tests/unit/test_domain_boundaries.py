"""The domain knows no transport (issue 9): nothing under ridecast/domain imports an AWS SDK, an HTTP client,
a provider SDK, the API models, or the adapters, repositories and interfaces that implement its ports. Lazy
imports inside functions count too."""

import ast
from pathlib import Path

import pytest

from tests.fixtures import REPO_ROOT

DOMAIN = REPO_ROOT / "layers" / "common" / "ridecast" / "domain"
FORBIDDEN = (
    "boto3",
    "botocore",
    "mypy_boto3",
    "requests",
    "aiohttp",
    "twilio",
    "ridecast.adapters",
    "ridecast.repositories",
    "ridecast.api",
    "ridecast.wiring",
)


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _forbidden(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in FORBIDDEN)


@pytest.mark.parametrize("path", sorted(DOMAIN.rglob("*.py")), ids=lambda p: str(p.relative_to(DOMAIN)))
def test_a_domain_module_imports_no_transport(path: Path) -> None:
    assert [name for name in _imports(path) if _forbidden(name)] == []


def test_the_walk_sees_the_whole_domain_and_would_catch_a_lazy_import(tmp_path: Path) -> None:
    # The domain has its capability packages, and every one of them is walked
    walked = {p.relative_to(DOMAIN).parts[0] for p in DOMAIN.rglob("*.py")}
    assert {"rides", "matching", "drivers", "fleets", "channels"} <= walked
    # And an import hidden in a function body is found
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from ridecast.adapters.channels import telegram\n    import botocore.exceptions\n")
    assert [name for name in _imports(sneaky) if _forbidden(name)] == [
        "ridecast.adapters.channels",
        "ridecast.adapters.channels.telegram",
        "botocore.exceptions",
    ]
