"""Packages whose `__init__` re-exports many modules, made to load a re-exported name's module only when the
name is first used (cold start, SPEC §7).

Powertools' `event_handler/__init__.py` imports every resolver (AppSync, Bedrock, the asyncio HTTP resolver,
which import asyncio, ssl, socket and subprocess), and `utilities/data_classes/__init__.py` every event source's
data classes; `event_handler.api_gateway` itself imports six of them from that package. Python runs a package's
`__init__` before any of its modules, so an HTTP function paid ~60-100 ms for resolvers and events it never
meets. Here the package is registered without running its `__init__`; each name the `__init__` imports
(`from .module import Name`) resolves from its own module on first access, so every import of the package's
names, ours and Powertools' own, still gets the same object. The standard `importlib.util.LazyLoader` cannot do
this: finding a package's modules reads its `__path__`, which runs the whole `__init__`.
"""

import ast
import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

POWERTOOLS_PACKAGES = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
)


def reexports(init: Path, package: str) -> dict[str, str]:
    """Each name a package's `__init__` imports from a module, with that module's absolute name."""
    modules: dict[str, str] = {}
    for statement in ast.parse(init.read_bytes()).body:
        if isinstance(statement, ast.ImportFrom) and statement.module is not None:
            module = statement.module if statement.level == 0 else f"{package}.{statement.module}"
            modules |= {alias.asname or alias.name: module for alias in statement.names}
    return modules


def import_lazily(package: str) -> ModuleType:
    """The package, registered without running its `__init__` unless it is already imported."""
    if package in sys.modules:
        return sys.modules[package]
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None or spec.submodule_search_locations is None:
        raise ImportError(f"{package} is not a package with an __init__ to defer", name=package)
    if not spec.origin.endswith(".py"):  # shipped as bytecode only: no source to read the names from
        return importlib.import_module(package)
    where = reexports(Path(spec.origin), package)
    module = importlib.util.module_from_spec(spec)
    module.__getattr__ = _resolving(module, where)  # type: ignore[method-assign]  # PEP 562, on the module
    module.__all__ = sorted(where)  # type: ignore[attr-defined]  # what `from … import *` takes
    sys.modules[package] = module
    parent, _, child = package.rpartition(".")
    if parent:
        setattr(importlib.import_module(parent), child, module)
    return module


def _resolving(module: ModuleType, where: dict[str, str]) -> Callable[[str], object]:
    def __getattr__(name: str) -> object:
        if name not in where:
            raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}", name=name, obj=module)
        # __import__ rather than importlib.import_module: `python -X importtime` reports only the former. The
        # fromlist also imports `name` when it is a module of its own (`from .package import module`).
        value = getattr(__import__(where[name], fromlist=[name]), name)
        setattr(module, name, value)  # found once; later lookups do not come back here
        return value

    return __getattr__
