"""LocalRuntime: the whole of template.yaml served in-process (HTTP API, authorizer, Lambdas, Step Functions,
schedules) on moto, with the provider stand-ins, for `make run` and for integration tests alike."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

import boto3
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from local_stack import aws, sam
from local_stack.gateway import Gateway
from local_stack.isolation import InvocationIsolation
from local_stack.lambdas import FunctionHost
from local_stack.sam import FunctionSpec, ScheduleSpec
from local_stack.schedules import ScheduleRunner
from local_stack.simulator import DriverPhones, DriverSimulator, FleetWebhooks, SimulatedDriver
from local_stack.standins import ProviderConditions, StandIns
from local_stack.template import REGION, Template

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

ROOT_KEY = "local-root-key"
DEMO_ADMIN_KEY = "demo-admin-key"
ROOT_KEY_SECRET = "RootKeySecret"

# Our code (handlers and layers) that a previous LocalRuntime imported: the next one imports it afresh, so
# caches built from the old environment (settings, clients, base URL) do not leak across runs. Third-party
# modules stay: re-importing moto or pydantic would split their class identities.
_imported_by_previous_runtime: set[str] = set()


class _QuietRequestHandler(WSGIRequestHandler):
    """The gateway logs requests in API Gateway terms; werkzeug's own access log would duplicate them."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            super().log(type, message, *args)


class LocalRuntime:
    """One run of the stack: `start()` binds the port, loads the template, starts moto, creates the tables,
    secrets, topics and state machines, imports every handler, serves HTTP and ticks the schedules;
    `stop()` undoes all of it. Single use; one at a time per process."""

    def __init__(
        self,
        repo_root: Path,
        port: int = 0,
        parameter_overrides: Mapping[str, str] | None = None,
        simulated_drivers: int = 0,
        seed_demo: bool = True,
        *,
        host: str = "127.0.0.1",
        template_file: str = "template.yaml",
        provider_latency_ms: float | None = None,
        telegram_rate_limit: float | None = None,
        schedule_seconds: float | None = None,
        twilio_status_callbacks: bool = True,
        log: Callable[[str], None] | None = None,
    ) -> None:
        """Knobs left as None come from the environment: LOCAL_PROVIDER_LATENCY_MS, LOCAL_TELEGRAM_RATE_LIMIT,
        LOCAL_SCHEDULE_SECONDS. `log` receives one line per API request and simulated-driver action."""
        self.repo_root = Path(repo_root).resolve()
        self._requested_port = port
        self._host = host
        self._template_path = self.repo_root / template_file
        self._overrides = dict(parameter_overrides or {})
        self._simulated_drivers = simulated_drivers
        self._seed_demo = seed_demo
        self.conditions = ProviderConditions(
            latency_ms=provider_latency_ms
            if provider_latency_ms is not None
            else _env_float("LOCAL_PROVIDER_LATENCY_MS", 0),
            telegram_rate_limit=telegram_rate_limit
            if telegram_rate_limit is not None
            else (_env_float("LOCAL_TELEGRAM_RATE_LIMIT", 0) or None),
        )
        self._schedule_seconds = (
            schedule_seconds if schedule_seconds is not None else (_env_float("LOCAL_SCHEDULE_SECONDS", 0) or None)
        )
        self._log = log
        self.standins = StandIns(self.conditions, twilio_status_callbacks=twilio_status_callbacks)
        self._sandbox = aws.AwsSandbox()
        self._isolation = InvocationIsolation()
        self._server: BaseWSGIServer | None = None
        self._server_thread: threading.Thread | None = None
        self._gateway: Gateway | None = None
        self._host_functions: FunctionHost | None = None
        self._schedules: ScheduleRunner | None = None
        self._simulator: DriverSimulator | None = None
        self._added_paths: list[str] = []
        self._started = False
        self.template: Template | None = None
        self.demo: dict[str, Any] | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalRuntime:
        if self._started:
            raise RuntimeError("LocalRuntime already started")
        self._started = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        # Bind first: the port is part of the configuration (PublicBaseUrl, offer links, Twilio signatures).
        self._server = make_server(
            self._host, self._requested_port, self._wsgi, threaded=True, request_handler=_QuietRequestHandler
        )
        template = self.template = Template(self._template_path, self._parameters())
        for api in sam.resources_of(template, sam.HTTP_API_TYPE):
            template.register(api.logical_id, "local", ApiId="local", ApiEndpoint=self.base_url)

        for name in _imported_by_previous_runtime:
            sys.modules.pop(name, None)
        try:
            self._start_stack(template)
        finally:
            self._remember_our_modules()

    def _remember_our_modules(self) -> None:
        """Our modules, including those imported lazily while running (a provider adapter on its first
        message): the next runtime must not inherit their caches or their classes."""
        code_dirs = [spec.code_dir for spec in self._functions_or_none()] + [Path(p) for p in self._added_paths]
        for name, module in list(sys.modules.items()):
            if name.startswith("local_stack_function_") or _lives_in(module, code_dirs):
                _imported_by_previous_runtime.add(name)

    def _start_stack(self, template: Template) -> None:
        self._sandbox.start(invoker=self._invoke_payload)
        self._isolation.install()
        aws.provision_tables(sam.read_tables(template))
        aws.provision_secrets(template, sam.read_secrets(template, {ROOT_KEY_SECRET: ROOT_KEY}))
        aws.provision_topics(template, sam.read_topics(template))
        aws.provision_queues(template, sam.read_queues(template))

        functions = sam.read_functions(template)
        for spec in functions:
            for layer in spec.layer_dirs:
                if str(layer) not in sys.path:
                    sys.path.insert(0, str(layer))
                    self._added_paths.append(str(layer))
        host = FunctionHost(functions)
        host.load_all()
        self._host_functions = host
        aws.provision_state_machines(sam.read_state_machines(template))

        self._gateway = Gateway(sam.read_http_api(template), host.invoke, self.domain_name, log=self._log)
        assert self._server is not None
        self._server_thread = threading.Thread(target=self._server.serve_forever, name="local-http", daemon=True)
        self._server_thread.start()

        self._schedules = ScheduleRunner(sam.read_schedules(template, self._schedule_seconds), self._fire_schedule)
        self._schedules.start()

        if self._seed_demo:
            from ridecast.local_seed import seed_demo_fleet

            self.demo = seed_demo_fleet(admin_key=DEMO_ADMIN_KEY, drivers=self._simulated_drivers)
            if self._simulated_drivers > 0:
                drivers = [SimulatedDriver.from_seed(raw) for raw in self.demo["drivers"]]
                # They answer as real drivers do: signed Twilio replies and Telegram button taps on the webhooks.
                phones = DriverPhones(FleetWebhooks.from_seed(self.base_url, self.demo), self.standins.outbox)
                self._simulator = DriverSimulator(
                    self.standins.outbox, drivers, self.base_url, phones=phones, log=self._log or print
                )
                self._simulator.start()  # Telegram drivers open their registration link (/start) first

    def stop(self) -> None:
        """Stop everything this runtime started; safe to call twice and after a failed start."""
        if self._simulator is not None:
            self._simulator.stop()
            self._simulator = None
        if self._schedules is not None:
            self._schedules.stop()
            self._schedules = None
        if self._server is not None:
            if self._server_thread is not None:
                self._server.shutdown()
                self._server_thread.join(timeout=10)
                self._server_thread = None
            self._server.server_close()
        self.standins.close()
        self._remember_our_modules()
        self._sandbox.stop()
        self._isolation.remove()
        for path in self._added_paths:
            if path in sys.path:
                sys.path.remove(path)
        self._added_paths.clear()

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses and credentials
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

    @property
    def outbox_url(self) -> str:
        return f"{self.base_url}/_local/outbox"

    @property
    def root_key(self) -> str:
        return ROOT_KEY

    @property
    def demo_admin_key(self) -> str:
        return DEMO_ADMIN_KEY

    @property
    def demo_fleet_id(self) -> str | None:
        return None if self.demo is None else str(self.demo["fleet_id"])

    @property
    def simulator(self) -> DriverSimulator | None:
        """The simulated demo drivers (None without any): their answers, and knobs tests may turn."""
        return self._simulator

    def ref(self, logical_id: str) -> Any:
        """The physical value of a template resource (table name, state machine ARN, topic ARN, ...)."""
        if self.template is None:
            raise RuntimeError("LocalRuntime not started")
        return self.template.ref(logical_id)

    # ------------------------------------------------------------------ Lambdas, schedules, messages
    def invoke(self, function: str, event: Any) -> Any:
        """Call a handler in-process by logical id, function name or ARN; its exception propagates."""
        return self._functions().invoke(function, event)

    def trigger_schedule(self, name: str) -> None:
        """Fire a schedule now: its name (`SweeperFunction.EveryMinute`) or its target's logical id."""
        if self._schedules is None:
            raise RuntimeError("LocalRuntime not started")
        self._schedules.trigger(name)

    @property
    def schedules(self) -> list[ScheduleSpec]:
        return [] if self._schedules is None else self._schedules.schedules

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
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.standins.outbox.messages(to=to) if where is None or where(m)]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(found)}/{count} messages to {to or 'anyone'} after {timeout}s: {found}")
            self.standins.outbox.wait_for_new(len(self.standins.outbox), timeout=min(remaining, 0.5))

    def set_provider_down(self, provider: str, down: bool) -> None:
        """Make the Telegram (503) or Twilio (500) stand-in fail every call, or recover."""
        self.conditions.set_down(provider, down)

    # ------------------------------------------------------------------ internals
    def _parameters(self) -> dict[str, str]:
        return {
            "Stage": "local",
            "PublicBaseUrl": self.base_url,
            "TwilioApiBaseUrl": f"{self.base_url}/_local/twilio",
            "TelegramApiBaseUrl": f"{self.base_url}/_local/telegram",
            **self._overrides,
        }

    def _functions_or_none(self) -> list[FunctionSpec]:
        return [] if self._host_functions is None else list(self._host_functions.specs.values())

    def _functions(self) -> FunctionHost:
        if self._host_functions is None:
            raise RuntimeError("LocalRuntime not started")
        return self._host_functions

    def _invoke_payload(self, function: str, invocation_type: str, payload: bytes) -> aws.InvokeResult:
        host = self._host_functions
        if host is None:
            return aws.InvokeResult(404, json.dumps({"Type": "User", "Message": "functions not loaded yet"}).encode())
        return host.invoke_payload(function, invocation_type, payload)

    def _fire_schedule(self, schedule: ScheduleSpec, event: Any) -> None:
        if schedule.target_kind == "function":
            self.invoke(schedule.target_id, event)
            return
        boto3.client("stepfunctions", region_name=REGION).start_execution(
            stateMachineArn=str(self.ref(schedule.target_id)), input=json.dumps(event)
        )

    def _wsgi(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith("/_local/"):
            response = self.standins.handle(request)
        elif self._gateway is None:
            response = Response(json.dumps({"message": "Service Unavailable"}), 503, content_type="application/json")
        else:
            response = self._gateway.handle(request)
        return response(environ, start_response)


def _lives_in(module: ModuleType | None, directories: list[Path]) -> bool:
    origin = getattr(module, "__file__", None)
    return bool(origin) and any(Path(str(origin)).is_relative_to(directory) for directory in directories)


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None
