"""LocalRuntime: the whole of template.yaml served in-process (HTTP API, authorizer, Lambdas, Step Functions,
schedules) on moto, with the provider stand-ins, for `make run` and for integration tests alike."""

from __future__ import annotations

import json
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

from local_stack import aws
from local_stack.gateway import Gateway
from local_stack.lambdas import FunctionHost, invocation_isolation
from local_stack.seed import DEMO_ADMIN_KEY, seed_demo_fleet
from local_stack.simulator import DriverPhones, DriverSimulator, SimulatedDriver
from local_stack.standins import StandIns
from local_stack.template import REGION, LocalTemplate, ScheduleSpec

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

ROOT_KEY = "local-root-key"
ROOT_KEY_SECRET = "RootKeySecret"
# The platform's default channels (SPEC §2, §5) point at the stand-ins: a fleet with only a name reaches drivers.
PLATFORM_SECRET = "ridecast-local/platform-channels"
PLATFORM_CHANNELS = {"twilio_account_sid": "AC" + "0" * 31 + "9", "twilio_auth_token": "local-platform-twilio-token"}
PLATFORM_CHANNELS |= {"twilio_senders": "sms:+15550009000,whatsapp:+15550009001"}
PLATFORM_CHANNELS["email_sender"] = "rides@ridecast.local"
PLATFORM_CHANNELS |= {"telegram_bot_token": "9000:local-platform-bot", "telegram_bot_username": "RidecastLocalBot"}
PLATFORM_CHANNELS["telegram_webhook_secret"] = "local-platform-webhook-secret"

# Our code a previous LocalRuntime imported is imported afresh, so caches of the old environment (settings, clients,
# base URL) do not leak; third-party modules stay (re-importing moto or pydantic would split class identities).
_imported_by_previous_runtime: set[str] = set()
# An SQS event record's members, from ReceiveMessage's (AttributeNames=["All"] always returns Attributes).
_SQS_RECORD = {"messageId": "MessageId", "receiptHandle": "ReceiptHandle", "body": "Body", "attributes": "Attributes"}
# The gateway logs requests in API Gateway terms; werkzeug's own access log would duplicate them.
QUIET = type("QuietRequestHandler", (WSGIRequestHandler,), {"log_request": lambda *args, **kwargs: None})


class LocalRuntime:
    """One run of the stack, which `stop()` undoes entirely. Single use; one at a time per process."""

    root_key = ROOT_KEY
    demo_admin_key = DEMO_ADMIN_KEY

    def __init__(
        self,
        repo_root: Path,
        port: int = 0,
        parameter_overrides: Mapping[str, str] | None = None,
        simulated_drivers: int = 0,
        seed_demo: bool = True,
        *,
        schedule_seconds: float | None = None,
        twilio_status_callbacks: bool = True,
        log: Callable[[str], None] | None = None,
    ) -> None:
        """`schedule_seconds` None: LOCAL_SCHEDULE_SECONDS (knobs: local_stack/README.md); `log` gets each request."""
        self.repo_root = Path(repo_root).resolve()
        self._port, self._host, self._template_path = port, "127.0.0.1", self.repo_root / "template.yaml"
        self._overrides, self._log = dict(parameter_overrides or {}), log
        self._simulated_drivers, self._seed_demo = simulated_drivers, seed_demo
        latency, rate_limit = _knob("LOCAL_PROVIDER_LATENCY_MS"), _knob("LOCAL_TELEGRAM_RATE_LIMIT") or None
        self.standins = StandIns(latency, rate_limit, twilio_status_callbacks=twilio_status_callbacks)
        self._schedule_seconds = _knob("LOCAL_SCHEDULE_SECONDS", schedule_seconds) or None
        self._sandbox = aws.AwsSandbox()
        self._isolation: Any = None  # Powertools patched per thread while running (lambdas.invocation_isolation)
        self._server: BaseWSGIServer | None = None
        self._gateway: Gateway | None = None
        self._functions, self._stopping, self._started = FunctionHost(), threading.Event(), False
        self.schedules: list[ScheduleSpec] = []
        self._threads: list[threading.Thread] = []
        self.simulator: DriverSimulator | None = None  # the simulated demo drivers: their answers, and knobs
        self._added_paths: list[str] = []
        self.template: LocalTemplate | None = None
        self.demo: dict[str, Any] | None = None

    def start(self) -> LocalRuntime:
        if self._started:
            raise RuntimeError("LocalRuntime already started")
        self._started = True
        try:
            # Bind first: the port is part of the configuration (PublicBaseUrl, offer links, Twilio signatures).
            self._server = make_server(self._host, self._port, self._wsgi, threaded=True, request_handler=QUIET)
            self._server.socket.listen(1024)  # a crowd of drivers accepting at once: werkzeug's backlog is 128
            self.template = LocalTemplate(self._template_path, self._parameters())
            for name in _imported_by_previous_runtime:
                sys.modules.pop(name, None)
            self._start_stack(self.template)
            self._remember_our_modules()
        except BaseException:
            self.stop()  # which remembers our modules too
            raise
        return self

    def _remember_our_modules(self) -> None:
        """Our modules, lazily imported ones too (an adapter on its first message): the next runtime re-imports them."""
        code_dirs = [spec.code_dir for spec in self._functions.specs.values()] + [Path(p) for p in self._added_paths]
        for name, module in list(sys.modules.items()):
            origin = getattr(module, "__file__", None)  # a handler's module too: it is imported from its file
            if origin and any(Path(origin).is_relative_to(directory) for directory in code_dirs):
                _imported_by_previous_runtime.add(name)

    def _start_stack(self, template: LocalTemplate) -> None:
        self._sandbox.start(self._functions.invoke_payload, self.standins.down, self.standins.record_email)
        self._isolation = invocation_isolation()
        self._isolation.start()
        aws.provision(template, {ROOT_KEY_SECRET: ROOT_KEY}, {PLATFORM_SECRET: json.dumps(PLATFORM_CHANNELS)})
        # SES (and moto) send only from a verified identity.
        boto3.client("sesv2").create_email_identity(EmailIdentity=PLATFORM_CHANNELS["email_sender"])
        functions = template.functions()
        for layer in dict.fromkeys(str(layer) for spec in functions for layer in spec.layer_dirs):
            if layer not in sys.path:
                sys.path.insert(0, layer)
                self._added_paths.append(layer)
        self._functions.load_all(functions)
        self._gateway = Gateway(template.routes(), self._functions.invoke, self.domain_name, log=self._log)
        # Each schedule and each SQS event source loops on a thread of its own (a slow target does not delay
        # another); a schedule fires first one period after start, as a new schedule does, and a missed tick is
        # skipped, not replayed in a burst.
        self.schedules = template.schedules(self._schedule_seconds)
        loops = [(s.period_seconds, s.name, partial(self.trigger_schedule, s.name)) for s in self.schedules]
        sqs = boto3.client("sqs", region_name=REGION)
        loops += [(0.2, f"{c[1]} on {c[0]}", partial(self._poll, sqs, *c)) for c in template.queue_consumers()]
        assert self._server is not None
        self._threads = [threading.Thread(target=self._server.serve_forever, name="local-http", daemon=True)]
        self._threads += [threading.Thread(target=self._every, args=loop, daemon=True) for loop in loops]
        for thread in self._threads:
            thread.start()
        if self._seed_demo:
            self.demo = seed_demo_fleet(drivers=self._simulated_drivers)
            if self._simulated_drivers > 0:
                drivers = [SimulatedDriver(**raw) for raw in self.demo["drivers"]]  # seed_demo_fleet's keys
                # They answer as real drivers do: signed Twilio replies and Telegram button taps on the webhooks.
                phones = DriverPhones(self.base_url, self.demo, self.standins.outbox)
                log = self._log or print
                self.simulator = DriverSimulator(self.standins.outbox, drivers, self.base_url, phones=phones, log=log)
                self.simulator.start()  # Telegram drivers open their registration link (/start) first

    def stop(self) -> None:
        """Stop everything this runtime started; safe to call twice and after a failed start."""
        self._stopping.set()
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None
        if self._threads and self._server is not None:  # the first thread serves HTTP until shutdown()
            self._server.shutdown()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._server is not None:
            self._server.server_close()
        self.standins.close()
        self._remember_our_modules()
        self._sandbox.stop()
        if self._isolation is not None:
            self._isolation.stop()
        sys.path[:] = [path for path in sys.path if path not in self._added_paths]

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *exception: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("LocalRuntime not started")
        return int(self._server.server_port)

    @property
    def domain_name(self) -> str:
        return f"{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.domain_name}"

    def ref(self, logical_id: str) -> Any:
        """The physical value of a template resource (table name, state machine ARN, topic ARN, ...)."""
        if self.template is None:
            raise RuntimeError("LocalRuntime not started")
        return self.template.ref(logical_id)

    def invoke(self, function: str, event: Any) -> Any:
        """Call a handler in-process by logical id, function name or ARN; its exception propagates."""
        if not self._functions.specs:
            raise RuntimeError("LocalRuntime not started")
        return self._functions.invoke(function, event)

    def trigger_schedule(self, name: str) -> None:
        """Fire a schedule now, on this thread: its name (`SweeperFunction.EveryMinute`) or its target."""
        if not (found := [s for s in self.schedules if name in (s.name, s.target_id)]):
            raise KeyError(f"no schedule {name!r} (known: {sorted(s.name for s in self.schedules)})")
        self.invoke(found[0].target_id, {})  # EventBridge Scheduler without Input sends {}

    @property
    def outbox(self) -> list[dict[str, Any]]:
        return self.standins.outbox.messages()

    def messages_to(self, recipient: str) -> list[dict[str, Any]]:
        return self.standins.outbox.messages(to=recipient)

    def wait_for_messages(
        self,
        to: str | None = None,
        count: int = 1,
        timeout: float = 10.0,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Block until `count` messages (to `to`, matching `where`) are in the outbox; raises on timeout."""
        found: list[dict[str, Any]] = []

        def enough() -> bool:
            found[:] = [m for m in self.standins.outbox.messages(to=to) if where is None or where(m)]
            return len(found) >= count

        if not self.standins.outbox.wait_for(enough, timeout):
            raise TimeoutError(f"{len(found)}/{count} messages to {to or 'anyone'} after {timeout}s: {found}")
        return found

    def set_provider_down(self, provider: str, down: bool) -> None:
        """Make the Telegram (503), Twilio (500) or e-mail (SES error) stand-in fail every call, or recover."""
        self.standins.set_down(provider, down)

    def _parameters(self) -> dict[str, str]:
        base = self.base_url
        locally = {"Stage": "local", "PublicBaseUrl": base, "TwilioApiBaseUrl": f"{base}/_local/twilio"}
        locally |= {"TelegramApiBaseUrl": f"{base}/_local/telegram", "PlatformChannelsSecretName": PLATFORM_SECRET}
        locally["WebhookAllowLoopback"] = "true"  # e2e receivers listen on loopback http
        return {**locally, **self._overrides}

    def _every(self, seconds: float, name: str, action: Callable[[], object]) -> None:
        while not self._stopping.wait(seconds):
            try:
                action()
            except Exception:
                print(f"local stack: {name} failed", file=sys.stderr)
                traceback.print_exc()

    def _poll(self, sqs: Any, queue_url: str, function: str, batch_size: int) -> None:
        """Lambda's SQS event source mapping: delete what the function did not report failed (ReportBatchItemFailures);
        the rest (all, if it raised) comes back when its visibility timeout (the function's backoff) ends."""
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=batch_size, AttributeNames=["All"])
        records: list[dict[str, Any]] = [
            {name: m[key] for name, key in _SQS_RECORD.items()} | {"messageAttributes": {}, "eventSource": "aws:sqs"}
            for m in got.get("Messages", [])
        ]
        if records:
            failed = {f["itemIdentifier"] for f in self.invoke(function, {"Records": records})["batchItemFailures"]}
            for record in records:
                if record["messageId"] not in failed:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"])

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith("/_local/") or self._gateway is None:  # the stand-ins answer first
            return self.standins.handle(request)(environ, start_response)
        return self._gateway.handle(request)(environ, start_response)


def _knob(variable: str, value: float | None = None) -> float:
    raw = os.environ.get(variable, "").strip() if value is None else value
    try:
        return float(raw or 0)
    except ValueError:
        raise ValueError(f"{variable}={raw!r} is not a number") from None
