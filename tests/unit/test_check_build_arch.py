"""scripts/check_build_arch.py: the gate that keeps x86-64 extensions out of an arm64 deployment."""

import importlib.util
import struct
from pathlib import Path
from types import ModuleType

import pytest

from tests.fixtures import REPO_ROOT

EM_X86_64 = 62
EM_AARCH64 = 183


def _load_script() -> ModuleType:
    path = REPO_ROOT / "scripts" / "check_build_arch.py"
    spec = importlib.util.spec_from_file_location("check_build_arch", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_build_arch = _load_script()


def _elf(machine: int, *, big_endian: bool = False) -> bytes:
    """The first 64 bytes of a 64-bit ELF shared object for `machine` (all the script reads)."""
    order = ">" if big_endian else "<"
    ident = b"\x7fELF" + bytes([2, 2 if big_endian else 1, 1]) + b"\x00" * 9
    return ident + struct.pack(f"{order}HHI", 3, machine, 1) + b"\x00" * 40


def _build(
    tmp_path: Path, extensions: dict[str, bytes], *, with_pydantic_core: bool = True, with_bytecode: bool = True
) -> Path:
    build = tmp_path / "build"
    layer = build / "CommonLayer" / "python"
    if with_bytecode:
        compiled = layer / "ridecast" / "__pycache__" / "settings.cpython-313.pyc"
        compiled.parent.mkdir(parents=True)
        compiled.write_bytes(b"")
    if with_pydantic_core:
        core = layer / "pydantic_core" / "_pydantic_core.cpython-313-aarch64-linux-gnu.so"
        core.parent.mkdir(parents=True, exist_ok=True)
        core.write_bytes(_elf(EM_AARCH64))
    (build / "RidesFunction").mkdir(parents=True)
    (build / "RidesFunction" / "app.py").write_text("")
    for relative, content in extensions.items():
        target = build / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return build


def test_an_all_aarch64_build_passes_with_a_one_line_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a build whose only extensions are aarch64, pydantic_core included
    build = _build(tmp_path, {"CommonLayer/python/wrapt/_wrappers.cpython-313-aarch64-linux-gnu.so": _elf(183)})
    # When the check runs
    status = check_build_arch.main([str(build)])
    # Then it passes and says what it saw on one line
    out = capsys.readouterr().out
    assert status == 0
    assert out.count("\n") == 1
    assert "2 compiled extensions" in out
    assert "pydantic_core" in out


def test_an_x86_64_extension_fails_the_build_and_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a build where one wheel was resolved for the build host (x86-64) instead of Lambda's arm64
    bad = "CommonLayer/python/multidict/_multidict.cpython-313-x86_64-linux-gnu.so"
    build = _build(tmp_path, {bad: _elf(EM_X86_64)})
    # When the check runs
    status = check_build_arch.main([str(build)])
    # Then it fails and names the file and what it is
    err = capsys.readouterr().err
    assert status == 1
    assert bad in err
    assert "x86-64" in err


def test_the_elf_header_decides_not_the_file_name(tmp_path: Path) -> None:
    # Given an x86-64 object hiding behind an aarch64 file name
    build = _build(tmp_path, {"CommonLayer/python/lib/_fast.cpython-313-aarch64-linux-gnu.so": _elf(EM_X86_64)})
    # When the check runs, Then it is caught
    assert check_build_arch.main([str(build)]) == 1


def test_big_endian_headers_are_read_in_their_own_byte_order(tmp_path: Path) -> None:
    # Given an object whose header says big-endian AArch64 (e_machine stored as 0x00B7)
    path = tmp_path / "x.so"
    path.write_bytes(_elf(EM_AARCH64, big_endian=True))
    # When its machine is read, Then it is AArch64, not 0xB700
    assert check_build_arch.read_machine(path) == EM_AARCH64


def test_versioned_shared_libraries_and_non_elf_files_are_checked(tmp_path: Path) -> None:
    # Given a vendored `libfoo.so.1` that is x86-64 and a `.so` that is not an ELF file at all
    build = _build(
        tmp_path,
        {
            "CommonLayer/python/pkg.libs/libfoo-1a2b3c.so.1.2": _elf(EM_X86_64),
            "CommonLayer/python/pkg/_mac.so": b"\xcf\xfa\xed\xfe" + b"\x00" * 60,
        },
    )
    # When the build is checked
    problems, _ = check_build_arch.check(build, "CommonLayer", "313")
    # Then both are reported
    assert any("libfoo-1a2b3c.so.1.2" in p and "x86-64" in p for p in problems)
    assert any("_mac.so" in p and "not an ELF file" in p for p in problems)


def test_an_extension_for_another_cpython_fails(tmp_path: Path) -> None:
    # Given an aarch64 extension built for CPython 3.12 while the runtime is python3.13
    build = _build(tmp_path, {"CommonLayer/python/pkg/_x.cpython-312-aarch64-linux-gnu.so": _elf(EM_AARCH64)})
    # When the build is checked
    problems, _ = check_build_arch.check(build, "CommonLayer", "313")
    # Then the ABI mismatch is reported
    assert problems == [
        "CommonLayer/python/pkg/_x.cpython-312-aarch64-linux-gnu.so: built for CPython 312, the runtime is 313"
    ]


def test_a_layer_without_pydantic_core_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a build whose layer dependencies did not install
    build = _build(tmp_path, {}, with_pydantic_core=False)
    # When the check runs
    status = check_build_arch.main([str(build)])
    # Then it fails and says why
    assert status == 1
    assert "pydantic_core is missing" in capsys.readouterr().err


def test_a_missing_build_directory_fails_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given no build at all, When the check runs, Then it fails pointing at `sam build`
    assert check_build_arch.main([str(tmp_path / "nope")]) == 1
    assert "run `sam build` first" in capsys.readouterr().err


def test_a_layer_without_precompiled_bytecode_fails(tmp_path: Path) -> None:
    # Given a layer built without .pyc files (SAM's python builder ships none)
    build = _build(tmp_path, {}, with_bytecode=False)
    # When the check runs
    problems, _ = check_build_arch.check(build, "CommonLayer", "313")
    # Then it asks for the Makefile build, since Lambda would recompile the layer on every cold start
    assert len(problems) == 1
    assert "no precompiled bytecode" in problems[0]
