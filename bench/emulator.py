"""`python -m bench.emulator`: moto in server mode, alone in its process, with the tables of template.yaml.

In production DynamoDB and Secrets Manager are someone else's machines: a broadcast benchmark whose
emulator shared the process of the code under test would charge that code with the emulator's CPU (and its
GIL). Prints one JSON line: the endpoint, the pid, and the MatchingFunction's environment as the template
gives it (the broadcast worker runs with exactly that). Serves until SIGTERM or SIGINT.
"""

import functools
import gc
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    # No profile, config file or instance metadata can swap the fake credentials for real ones.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def main() -> int:
    os.environ.update(FAKE_CREDENTIALS)
    import boto3
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from bench import emulator_moto
    from bench.keep_alive import application, serve
    from local_stack.aws import create_tables  # which installs local_stack.moto_dynamodb's patches

    emulator_moto.install()
    from local_stack.template import LocalTemplate

    template = LocalTemplate(REPO / "template.yaml")
    matching = next(f for f in template.functions() if f.logical_id == "MatchingFunction")

    def ready(port: int) -> None:
        # The tables are created over HTTP like any client's, so from a thread: the server answers on this one.
        def create() -> None:
            url = f"http://127.0.0.1:{port}"
            # As the local stack creates them: keys, indexes and TTL as template.yaml declares them.
            create_tables(boto3.client("dynamodb", endpoint_url=url), template)
            # moto, botocore's models and the ASL parser are ~280,000 objects that live as long as the process: each
            # full collection walked them all (0.2-0.5 s of CPU in a 1,000-driver broadcast) to find them alive.
            # Frozen, the collector walks only what the emulator holds for its clients (the items) and its garbage.
            gc.collect()
            gc.freeze()
            print(json.dumps({"url": url, "pid": os.getpid(), "environment": matching.environment}), flush=True)

        threading.Thread(target=create, daemon=True).start()

    # moto's server mode (what ThreadedMotoServer runs), on connections kept open as DynamoDB keeps them.
    dispatcher = DomainDispatcherApplication(create_backend_app)
    # moto looked each request's service up anew: its host among moto's ~200 service folders (a stat each), then
    # among their URL patterns. A host's service does not change while the emulator runs.
    dispatcher.get_backend_for_host = functools.cache(dispatcher.get_backend_for_host)  # type: ignore[method-assign]
    serve(application(dispatcher), 0, ready)
    return 0


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU a process has used so far (Linux /proc; None elsewhere): psutil is not a dependency."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    # After the command name: state is field 3, utime and stime are fields 14 and 15 (1-based, man proc).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serving(module: str, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`python -m module args…` as a child process, with the first line it prints; stopped on exit."""
    process = subprocess.Popen(  # noqa: S603 - our interpreter running our own module
        [sys.executable, "-m", module, *args], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline().strip()
        if not first_line:
            raise RuntimeError(f"{module} exited before it was ready (status {process.wait(timeout=10)})")
        yield process, first_line
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # a server busy winding down: its figures are already taken
            process.kill()
            process.wait(timeout=15)


@contextmanager
def aws_emulator() -> Iterator[dict[str, Any]]:
    """The emulator's endpoint, pid and the MatchingFunction environment (see `main`)."""
    with serving("bench.emulator") as (_, line):
        started: dict[str, Any] = json.loads(line)
        yield started


if __name__ == "__main__":
    sys.exit(main())
