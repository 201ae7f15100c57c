"""Cold import of each function's handler, against `import boto3` alone, each in a fresh interpreter."""

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
started = time.perf_counter()
{statement}
print(json.dumps(time.perf_counter() - started))
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


def _time(python: str, statement: str, service: str = "bench") -> float:
    code = _PROBE.format(layer=str(REPO / "layers" / "common"), statement=statement)
    inherited = {
        k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("POWERTOOLS")
    }
    env = inherited | _LAMBDA_LIKE_ENV | {"POWERTOOLS_SERVICE_NAME": service}
    answer = subprocess.run(  # noqa: S603 - our own interpreter running our own probe
        [python, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=REPO
    )
    return float(json.loads(answer.stdout.strip().splitlines()[-1]))


def _paired(python: str, app: Path) -> dict[str, float]:
    """Alternate `import boto3` and the handler so a noisy neighbour slows both sides of each ratio alike."""
    load = _LOAD_HANDLER.format(path=str(app))
    _time(python, load, app.parent.name)  # warm the OS file cache and the .pyc files the layer ships precompiled
    boto3_runs, handler_runs = [], []
    for _ in range(RUNS):
        boto3_runs.append(_time(python, "import boto3"))
        handler_runs.append(_time(python, load, app.parent.name))
    return {
        "import_ms": round(statistics.median(handler_runs) * 1000, 1),
        "boto3_ms": round(statistics.median(boto3_runs) * 1000, 1),
        "ratio_to_boto3": round(statistics.median(h / b for h, b in zip(handler_runs, boto3_runs, strict=True)), 2),
    }


def measure() -> dict[str, object]:
    python = lambda_python()
    handlers = {app.parent.name: _paired(python, app) for app in sorted((REPO / "functions").glob("*/app.py"))}
    worst = max(h["ratio_to_boto3"] for h in handlers.values())
    return {
        "interpreter": "venv with only layers/common/requirements.txt, bytecode precompiled, Lambda's environment",
        "runs": RUNS,
        "boto3_ms": round(statistics.median(h["boto3_ms"] for h in handlers.values()), 1),
        "handlers": handlers,
        "worst_ratio": worst,
        "target_ratio": 1.3,
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
