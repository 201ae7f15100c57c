"""AWS for the local stack: moto for every boto3 session of the process, behind one botocore hook.

botocore runs *every* `before-send` handler and keeps the first answer, so a handler next to moto's would not replace
it (each DynamoDB write would be applied twice): the hook takes moto's place in `BUILTIN_HANDLERS`, before the first
boto3 session exists (sessions copy them when created), which importing `local_stack` ensures. It serializes DynamoDB
(moto's is not thread-safe: concurrent conditional writes get several winners; local_stack.moto_dynamodb makes it cost
what DynamoDB does) and Step Functions (Ridecast names every execution, so moto's "None" for an unnamed one never
shows); it answers Lambda `Invoke` from the in-process handlers, fails SES while the e-mail stand-in is down and, once
a stack has started in this process, refuses any call moto did not answer. moto's Step Functions parses the ASL (~150 ms
of ANTLR CPU) for every execution and makes a boto3 client for every Lambda task; here one parse serves every execution
(each keeps its state in its own Environment, under component keys made race-free) and one client every task.
"""

import functools
import os
import re
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext, suppress
from secrets import token_urlsafe
from typing import Any
from unittest import mock
from urllib.parse import unquote, urlsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError
from botocore.handlers import BUILTIN_HANDLERS
from moto import mock_aws
from moto.core import models as moto_core_models
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber
from moto.stepfunctions.parser.asl.component import eval_component
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

from local_stack import moto_dynamodb
from local_stack.template import ACCOUNT_ID, REGION, LocalTemplate

_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN")
FAKE_AWS_ENVIRONMENT = {"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION} | dict.fromkeys(_CREDENTIALS, "testing")
# No profile, no config file, no instance metadata: nothing can swap the fake credentials for real ones.
FAKE_AWS_ENVIRONMENT |= {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
FAKE_AWS_ENVIRONMENT["AWS_EC2_METADATA_DISABLED"] = "true"
_REMOVED_PREFIXES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONTAINER_", "AWS_WEB_IDENTITY")
DUMMY_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/ridecast-local-execution"


class RealAwsRefused(RuntimeError):
    """A boto3 call would have left the process; the local stack never talks to real AWS."""


# function name or ARN, payload → HTTP status, payload, X-Amz-Function-Error
LambdaInvoker = Callable[[str, bytes], tuple[int, bytes, str | None]]


class _HookState:
    # moto's DynamoDB and Step Functions, one call at a time (see the module docstring).
    locks = {"dynamodb": threading.Lock(), "sfn": threading.Lock()}
    invoker: LambdaInvoker | None = None
    providers_down: set[str] = set()  # the stand-ins' switch: "email" fails SES
    email_sink: Callable[[bytes], None] | None = None  # the outbox, given each SendEmail that moto accepted
    refuse_unanswered = False
    active = threading.Lock()  # held while a sandbox runs
    # Time spent inside moto's DynamoDB: what real DynamoDB would not cost the caller's CPU (benchmarks).
    dynamodb_seconds = 0.0


def _before_send(event_name: str, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse | None:
    _, service, operation = event_name.split(".", 2)  # before-send.{service}.{operation}
    invoker = _HookState.invoker
    if service == "lambda" and operation == "Invoke" and invoker is not None:
        return _invoke(invoker, request)
    if service in ("ses", "sesv2") and "email" in _HookState.providers_down:
        message = "local stack: the e-mail stand-in is down"
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": message}}, operation)
    with _HookState.locks.get(service) or nullcontext():
        started = time.perf_counter()
        response = botocore_stubber(event_name=event_name, request=request, **kwargs)
        if service == "dynamodb":
            _HookState.dynamodb_seconds += time.perf_counter() - started
    sink = _HookState.email_sink
    if service == "sesv2" and operation == "SendEmail" and sink and response and response.status_code == 200:
        sink(_body(request))
    if response is None and _HookState.refuse_unanswered:
        raise RealAwsRefused(f"local stack: {service}.{operation} to {request.url} was not answered by moto")
    return response


def dynamodb_emulator_seconds() -> float:
    """Seconds moto has spent answering DynamoDB calls so far (they run one at a time)."""
    return _HookState.dynamodb_seconds


def _install_hook() -> None:
    """In moto's place (moto.core.models put its stubber in BUILTIN_HANDLERS when imported); idempotent."""
    for index, entry in enumerate(BUILTIN_HANDLERS):
        if entry[1] is botocore_stubber:
            BUILTIN_HANDLERS[index] = (entry[0], _before_send, *entry[2:])


_install_hook()
moto_dynamodb.install()
AmazonStateLanguageParser.parse = staticmethod(functools.cache(AmazonStateLanguageParser.parse))  # type: ignore[method-assign]
eval_component.EvalComponent.heap_key = property(lambda self: f"{type(self).__name__}-{id(self)}")  # type: ignore[assignment,method-assign]
_lambda_clients = functools.cache(boto_client_for)  # which ignores its state_credentials
lambda_eval_utils.boto_client_for = lambda region, service, state_credentials=None: _lambda_clients(region, service)  # type: ignore[attr-defined]


def _invoke(invoker: LambdaInvoker, request: AWSPreparedRequest) -> AWSResponse:
    # /2015-03-31/functions/{FunctionName}/invocations, the name maybe an ARN with a version or alias
    function = unquote(urlsplit(request.url).path.split("/")[3])
    function = re.sub(r"(:function:[^:]+):.*", r"\1", function)  # the function itself, whatever its qualifier
    if request.headers.get("X-Amz-Invocation-Type") in (b"Event", "Event"):
        threading.Thread(target=invoker, args=(function, _body(request)), daemon=True).start()
        return AWSResponse(request.url, 202, HTTPHeaders(), MockRawResponse(b""))
    status, payload, error = invoker(function, _body(request))
    headers = {"Content-Type": "application/json"} | ({"X-Amz-Function-Error": error} if error else {})
    headers |= {"x-amzn-ErrorType": "ResourceNotFoundException"} if status == 404 else {}
    return AWSResponse(request.url, status, HTTPHeaders.from_dict(headers), MockRawResponse(payload))


def _body(request: AWSPreparedRequest) -> bytes:
    body = request.body or b""
    assert isinstance(body, (str, bytes, bytearray)), "these APIs never stream a request body"
    return body.encode() if isinstance(body, str) else bytes(body)


class AwsSandbox:
    """moto on, fake credentials in the environment, Lambda invokes routed to `invoker`; one per process."""

    def __init__(self) -> None:
        self._mock: Any = None
        self._environment = mock.patch.dict(os.environ, FAKE_AWS_ENVIRONMENT)
        self._started = False

    def start(
        self,
        invoker: LambdaInvoker,
        providers_down: set[str] | None = None,
        email_sink: Callable[[bytes], None] | None = None,
    ) -> None:
        if not _HookState.active.acquire(blocking=False):
            raise RuntimeError("a local stack is already running in this process (moto is process-wide)")
        self._started = True
        _install_hook()
        self._environment.start()  # stop() puts the whole environment back as it was
        for name in [name for name in os.environ if name.startswith(_REMOVED_PREFIXES) or name == "TEST_SERVER_MODE"]:
            del os.environ[name]
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        # moto also patches `requests` to catch AWS URLs, matching every request against hundreds of
        # URL patterns. Our AWS traffic is boto3 (answered by the botocore hook above); what goes through
        # `requests` is provider traffic to the stand-ins, which that matching slowed several-fold.
        moto_core_models.responses_mock.stop()
        boto3.setup_default_session(region_name=REGION)
        _HookState.invoker = invoker
        _HookState.providers_down = providers_down if providers_down is not None else set()
        _HookState.email_sink = email_sink
        # Stays on after stop(): a Step Functions thread still winding down must not reach real AWS.
        _HookState.refuse_unanswered = True

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        _HookState.invoker, _HookState.providers_down, _HookState.email_sink = None, set(), None
        if self._mock is not None:
            # Ask moto's interpreter threads to wind down; they are daemons, so this is courtesy, not a join.
            sfn = boto3.client("stepfunctions", region_name=REGION)
            with suppress(Exception):  # best effort at shutdown; moto is about to be reset anyway
                for machine in sfn.list_state_machines()["stateMachines"]:
                    running = sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")
                    for execution in running["executions"]:
                        sfn.stop_execution(executionArn=execution["executionArn"], cause="local stack stopped")
            moto_core_models.responses_mock.start()  # moto's stop() expects its patch in place
            self._mock.stop()
        self._environment.stop()
        _HookState.active.release()


def provision(template: LocalTemplate, fixed_secrets: dict[str, str], named_secrets: dict[str, str]) -> None:
    """template.yaml's resources in moto; `named_secrets` are those it names by parameter (the platform's channels)."""
    create_tables(boto3.client("dynamodb", region_name=REGION), template)
    secrets = boto3.client("secretsmanager", region_name=REGION)
    for logical_id in template.resources_of("AWS::SecretsManager::Secret"):
        value = fixed_secrets.get(logical_id) or token_urlsafe(32)
        arn = secrets.create_secret(Name=template.ref(logical_id), SecretString=value)["ARN"]
        template.register(logical_id, arn, Id=arn)
    for name, value in named_secrets.items():
        secrets.create_secret(Name=name, SecretString=value)
    sns = boto3.client("sns", region_name=REGION)
    for logical_id in template.resources_of("AWS::SNS::Topic"):
        sns.create_topic(Name=template.ref(logical_id).rpartition(":")[2])
    sqs = boto3.client("sqs", region_name=REGION)  # redrive and retention are AWS's to apply, not the local stack's
    for logical_id, props in template.resources_of("AWS::SQS::Queue").items():
        name, visibility = template.ref(logical_id).rpartition("/")[2], str(props.get("VisibilityTimeout", 30))
        sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": visibility})
    sfn = boto3.client("stepfunctions", region_name=REGION)
    for machine in template.state_machines():
        created = sfn.create_state_machine(name=machine.name, definition=machine.definition, roleArn=DUMMY_ROLE_ARN)
        if created["stateMachineArn"] != machine.arn:
            raise RuntimeError(f"{machine.logical_id}: moto named it {created['stateMachineArn']}, not {machine.arn}")


def create_tables(dynamodb: Any, template: LocalTemplate) -> None:
    """template.yaml's tables with their TTL, in whichever DynamoDB `dynamodb` reaches (the bench's emulator too)."""
    for logical_id in template.resources_of("AWS::DynamoDB::Table"):
        kwargs, ttl_attribute = template.table_create_kwargs(logical_id)
        dynamodb.create_table(**kwargs)
        if ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=kwargs["TableName"], TimeToLiveSpecification={"AttributeName": ttl_attribute, "Enabled": True}
            )
