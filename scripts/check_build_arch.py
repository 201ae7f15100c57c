"""Fail the build when `sam build` output would not load on the arm64 (Graviton) Lambda runtime.

Usage: python scripts/check_build_arch.py .aws-sam/build [--layer CommonLayer] [--python-tag 313]

`sam build` without Docker downloads wheels for the architecture in the template, but a missing
aarch64 wheel, a stale cache or a hand-copied dependency can still slip an x86-64 extension into
the artefact; Lambda only finds out at import time, in production. So every compiled extension in
the build directory is read (its ELF header, not its file name) and must be AArch64, built for the
runtime's CPython, and the layer must carry pydantic_core, the one compiled dependency every
function needs.
"""

import argparse
import re
import struct
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
EM_AARCH64 = 183
# e_machine values worth naming in an error message (from the ELF specification).
MACHINE_NAMES = {3: "x86", 40: "ARM (32-bit)", 62: "x86-64", 183: "AArch64", 243: "RISC-V"}
# `_pydantic_core.cpython-313-aarch64-linux-gnu.so`, `x.cpython-313-x86_64-linux-gnu.so`, `y.abi3.so`.
CPYTHON_TAG = re.compile(r"\.cpython-(\d+)")
SHARED_OBJECT = re.compile(r"\.so(\.\d+)*$")


@dataclass(frozen=True)
class Extension:
    path: Path
    machine: int | None  # None when the file is not an ELF shared object at all

    @property
    def machine_name(self) -> str:
        if self.machine is None:
            return "not an ELF file"
        return MACHINE_NAMES.get(self.machine, f"e_machine={self.machine}")


def read_machine(path: Path) -> int | None:
    """The ELF e_machine of `path`, honouring the file's byte order; None if it is not ELF."""
    with path.open("rb") as handle:
        header = handle.read(20)
    if len(header) < 20 or not header.startswith(ELF_MAGIC):
        return None
    # e_ident[EI_DATA] (byte 5): 1 = little-endian, 2 = big-endian; e_machine sits at offset 18.
    byte_order = "<" if header[5] == 1 else ">"
    (machine,) = struct.unpack_from(f"{byte_order}H", header, 18)
    return int(machine)


def compiled_extensions(build_dir: Path) -> Iterator[Extension]:
    for path in sorted(build_dir.rglob("*")):
        if path.is_file() and SHARED_OBJECT.search(path.name):
            yield Extension(path=path, machine=read_machine(path))


def check(build_dir: Path, layer: str, python_tag: str) -> tuple[list[str], list[Extension]]:
    """Problems found (empty when the build is good) and every extension that was inspected."""
    if not build_dir.is_dir():
        return [f"{build_dir} is not a directory: run `sam build` first"], []
    extensions = list(compiled_extensions(build_dir))
    problems = [
        f"{ext.path.relative_to(build_dir)}: {ext.machine_name}, expected AArch64 (e_machine {EM_AARCH64})"
        for ext in extensions
        if ext.machine != EM_AARCH64
    ]
    for ext in extensions:
        tag = CPYTHON_TAG.search(ext.path.name)
        if tag and tag.group(1) != python_tag:
            problems.append(
                f"{ext.path.relative_to(build_dir)}: built for CPython {tag.group(1)}, the runtime is {python_tag}"
            )
    layer_python = build_dir / layer / "python"
    core = list((layer_python / "pydantic_core").glob("_pydantic_core*.so"))
    if not core:
        problems.append(
            f"pydantic_core is missing from {layer_python.relative_to(build_dir)}: "
            "the layer's requirements.txt did not install (or the layer id changed; see --layer)"
        )
    # /opt is read-only on Lambda: without shipped bytecode every cold start recompiles the layer.
    if not list((layer_python / "ridecast" / "__pycache__").glob(f"*.cpython-{python_tag}.pyc")):
        problems.append(
            f"{layer_python.relative_to(build_dir)}/ridecast has no precompiled bytecode: "
            "the layer must be built by layers/common/Makefile (BuildMethod: makefile)"
        )
    return problems, extensions


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("build_dir", type=Path, help="the `sam build` output, usually .aws-sam/build")
    parser.add_argument("--layer", default="CommonLayer", help="logical id of the layer that must hold pydantic_core")
    parser.add_argument("--python-tag", default="313", help="CPython ABI of the Lambda runtime (python3.13 -> 313)")
    args = parser.parse_args(argv)

    problems, extensions = check(args.build_dir, args.layer, args.python_tag)
    if problems:
        print(f"check_build_arch: {len(problems)} problem(s) in {args.build_dir}:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print(
            "  Rebuild with `sam build` (the template's arm64 architecture selects manylinux *_aarch64 wheels); "
            "delete .aws-sam/ if a stale cache is suspected.",
            file=sys.stderr,
        )
        return 1
    packages = len({ext.path.relative_to(args.build_dir).parts[:3] for ext in extensions})
    print(
        f"check_build_arch: OK: {len(extensions)} compiled extensions ({packages} packages) in {args.build_dir}, "
        f"all AArch64 for CPython {args.python_tag}; pydantic_core and precompiled bytecode in {args.layer}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
