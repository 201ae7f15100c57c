"""Cold import of each function's handler, against `import boto3` alone, each in a fresh interpreter.

`python -m bench.cold_imports [--runs N] [function ...]`. Each ratio is reported twice: elapsed time, as Lambda's
init bills it, and CPU time of the importing process. Importing is CPU work once the files are cached, and on
this shared 2-core machine the elapsed time also counts the neighbours' turns (boto3 alone took 220-880 ms from
one run to the next), so the CPU ratio is the steadier figure of the two.
"""

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 7
LAYER_REQUIREMENTS = REPO / "layers" / "common" / "requirements.txt"
# What a Lambda container has: the layer's packages (precompiled, as `sam build` ships them) and nothing
# else. The dev venv also holds awscrt and pyOpenSSL (from aws-sam-cli), which botocore imports when
# present and which would inflate both sides of the comparison.
LAMBDA_VENV = REPO / ".bench" / "lambda-venv"


def lambda_python() -> str:
    """The interpreter of a venv with exactly the layer's requirements, rebuilt when they change."""
    digest = hashlib.sha256(LAYER_REQUIREMENTS.read_bytes()).hexdigest()
    stamp = LAMBDA_VENV / ".requirements-sha256"
    python = LAMBDA_VENV / "bin" / "python"
    if not stamp.exists() or stamp.read_text() != digest:
        venv.create(LAMBDA_VENV, with_pip=True, clear=True)
        subprocess.run(  # noqa: S603 - our venv's pip installing our pinned requirements
            [str(python), "-m", "pip", "install", "--quiet", "-r", str(LAYER_REQUIREMENTS)], check=True
        )
        stamp.write_text(digest)
    return str(python)


_PROBE = """
import importlib.util, json, sys, time
sys.path.insert(0, {layer!r})
started, cpu_started = time.perf_counter(), time.process_time()
{statement}
print(json.dumps([time.perf_counter() - started, time.process_time() - cpu_started]))
"""

_LOAD_HANDLER = """
spec = importlib.util.spec_from_file_location("handler_under_test", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
"""

# What the template gives every function, so settings validate as they would on Lambda, plus what the
# Lambda runtime itself sets. LAMBDA_TASK_ROOT matters: outside Lambda the X-Ray SDK builds a botocore
# client for centralised sampling when imported (~130 ms); inside Lambda it samples locally and does not.
# Tracing stays enabled, as deployed (`Tracing: Active`).
_LAMBDA_LIKE_ENV = {
    "TABLE_NAME": "ridecast-bench",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:ridecast-matching",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_LAMBDA_FUNCTION_NAME": "ridecast-bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "LAMBDA_TASK_ROOT": str(REPO),
    "POWERTOOLS_METRICS_NAMESPACE": "Ridecast",
}


def _time(python: str, statement: str, service: str = "bench") -> tuple[float, float]:
    """Elapsed and CPU seconds of `statement` in a fresh interpreter."""
    code = _PROBE.format(layer=str(REPO / "layers" / "common"), statement=statement)
    inherited = {
        k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("POWERTOOLS")
    }
    env = inherited | _LAMBDA_LIKE_ENV | {"POWERTOOLS_SERVICE_NAME": service}
    answer = subprocess.run(  # noqa: S603 - our own interpreter running our own probe
        [python, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=REPO
    )
    elapsed, cpu = json.loads(answer.stdout.strip().splitlines()[-1])
    return float(elapsed), float(cpu)


def _median_ratio(handler: list[float], boto3: list[float]) -> float:
    return round(statistics.median(h / b for h, b in zip(handler, boto3, strict=True)), 2)


def _paired(python: str, app: Path, runs: int = RUNS) -> dict[str, float]:
    """Alternate `import boto3` and the handler so a noisy neighbour slows both sides of each ratio alike."""
    load = _LOAD_HANDLER.format(path=str(app))
    _time(python, load, app.parent.name)  # warm the OS file cache and the .pyc files the layer ships precompiled
    boto3_runs, handler_runs = [], []
    for _ in range(runs):
        boto3_runs.append(_time(python, "import boto3"))
        handler_runs.append(_time(python, load, app.parent.name))
    boto3_elapsed, boto3_cpu = zip(*boto3_runs, strict=True)
    handler_elapsed, handler_cpu = zip(*handler_runs, strict=True)
    return {
        "import_ms": round(statistics.median(handler_elapsed) * 1000, 1),
        "boto3_ms": round(statistics.median(boto3_elapsed) * 1000, 1),
        "ratio_to_boto3": _median_ratio(list(handler_elapsed), list(boto3_elapsed)),
        "import_cpu_ms": round(statistics.median(handler_cpu) * 1000, 1),
        "boto3_cpu_ms": round(statistics.median(boto3_cpu) * 1000, 1),
        "cpu_ratio_to_boto3": _median_ratio(list(handler_cpu), list(boto3_cpu)),
    }


def measure(runs: int = RUNS, functions: tuple[str, ...] = ()) -> dict[str, object]:
    """Every function's handler (or only `functions`), `runs` pairs each."""
    python = lambda_python()
    every = sorted((REPO / "functions").glob("*/app.py"))
    apps = [app for app in every if not functions or app.parent.name in functions]
    handlers = {app.parent.name: _paired(python, app, runs) for app in apps}
    return {
        "interpreter": "venv with only layers/common/requirements.txt, bytecode precompiled, Lambda's environment",
        "runs": runs,
        "boto3_ms": round(statistics.median(h["boto3_ms"] for h in handlers.values()), 1),
        "handlers": handlers,
        "worst_ratio": max(h["ratio_to_boto3"] for h in handlers.values()),
        "worst_cpu_ratio": max(h["cpu_ratio_to_boto3"] for h in handlers.values()),
        "target_ratio": 1.3,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="pairs of fresh interpreters per function")
    parser.add_argument("functions", nargs="*", help="folders under functions/ (default: all)")
    arguments = parser.parse_args()
    print(json.dumps(measure(arguments.runs, tuple(arguments.functions)), indent=2))
