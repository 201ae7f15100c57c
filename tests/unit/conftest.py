"""Unit-test fixtures: AWS emulated in-process by moto, built from template.yaml and statemachines/."""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
import boto3.session
import pytest

# Before anything creates a boto3 client: never reach a real account, whatever the developer's shell has.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Ridecast",
    "POWERTOOLS_SERVICE_NAME": "ridecast-tests",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(_name, _value)
os.environ.pop("AWS_PROFILE", None)

from moto import mock_aws  # noqa: E402 - after the credentials above

from tests.fixtures import (  # noqa: E402
    REGION,
    clear_cached_clients,
    create_matching_state_machine,
    create_table_from_template,
)

TABLE_NAME = "ridecast-test"
STATE_MACHINE_NAME = "ridecast-test-matching"
ROOT_KEY = "test-root-key-0123456789"
FLEET_SECRETS_PREFIX = "ridecast-test/fleets"


@cache
def _session() -> boto3.session.Session:
    return boto3.session.Session(region_name=REGION)


def _share_session_with_powertools() -> None:
    from aws_lambda_powertools.utilities.parameters import base
    from aws_lambda_powertools.utilities.parameters.secrets import SecretsProvider

    if "secrets" not in base.DEFAULT_PROVIDERS:
        base.DEFAULT_PROVIDERS["secrets"] = SecretsProvider(boto3_session=_session())


@dataclass
class AwsStack:
    """The emulated account: the table, root key, state machine and alerts topic the template creates."""

    table_name: str
    root_key: str
    root_key_secret_arn: str
    state_machine_arn: str
    alerts_topic_arn: str

    @property
    def dynamodb(self) -> Any:
        return boto3.client("dynamodb", region_name=REGION)

    @property
    def sfn(self) -> Any:
        return boto3.client("stepfunctions", region_name=REGION)

    def raw_item(self, pk: str, sk: str) -> dict[str, Any] | None:
        table = boto3.resource("dynamodb", region_name=REGION).Table(self.table_name)
        item: dict[str, Any] | None = table.get_item(Key={"PK": pk, "SK": sk}).get("Item")
        return item

    def executions(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"]
        return found


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsStack]:
    """A fresh moto account with the Ridecast resources, and the env the template gives every function."""
    monkeypatch.setenv("STAGE", "test")
    monkeypatch.setenv("TABLE_NAME", TABLE_NAME)
    monkeypatch.setenv("FLEET_SECRETS_PREFIX", FLEET_SECRETS_PREFIX)
    # template.yaml's PublicBaseUrl default: the Twilio events in events/ are signed for it.
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://ridecast.example.com")
    # Secrets change within a test (fleet updates); Powertools must read them afresh.
    monkeypatch.setenv("SECRETS_CACHE_SECONDS", "0")
    clear_cached_clients()
    with mock_aws():
        # moto resets boto3's default session on every start, and a new session re-reads megabytes of
        # botocore JSON (about 0.2 s a test). One session, holding only the fake credentials set above, is
        # enough: moto intercepts every session's calls while the mock is active.
        boto3.DEFAULT_SESSION = _session()
        _share_session_with_powertools()
        create_table_from_template(boto3.client("dynamodb", region_name=REGION), TABLE_NAME)
        root_secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="ridecast-test/root-key", SecretString=ROOT_KEY
        )
        state_machine_arn = create_matching_state_machine(
            boto3.client("stepfunctions", region_name=REGION), STATE_MACHINE_NAME
        )
        topic = boto3.client("sns", region_name=REGION).create_topic(Name="ridecast-test-alerts")
        monkeypatch.setenv("ROOT_KEY_SECRET_ARN", root_secret["ARN"])
        monkeypatch.setenv("STATE_MACHINE_ARN", state_machine_arn)
        monkeypatch.setenv("ALERTS_TOPIC_ARN", topic["TopicArn"])
        clear_cached_clients()
        try:
            yield AwsStack(
                table_name=TABLE_NAME,
                root_key=ROOT_KEY,
                root_key_secret_arn=root_secret["ARN"],
                state_machine_arn=state_machine_arn,
                alerts_topic_arn=topic["TopicArn"],
            )
        finally:
            clear_cached_clients()


@pytest.fixture
def make_fleet(aws: AwsStack) -> Callable[..., tuple[Any, str]]:
    """Create a fleet through the domain code; returns (fleet, its admin API key)."""
    from ridecast.domain.fleets.accounts import create_fleet
    from ridecast.domain.fleets.commands import NewFleet
    from ridecast.wiring import ports

    def make(name: str = "Northside Cabs", **fields: Any) -> tuple[Any, str]:
        created, api_key, _ = create_fleet(ports(), NewFleet.model_validate({"name": name, **fields}))
        return created, api_key

    return make


@pytest.fixture
def fleet(make_fleet: Callable[..., tuple[Any, str]]) -> Any:
    created, _ = make_fleet()
    return created


def fleet_principal(fleet_id: str, role: str = "admin", key_id: str = "k-test") -> dict[str, str]:
    """The authorizer context API Gateway passes on for a fleet key (functions/authorizer/app.py)."""
    return {"principal": "fleet", "fleet_id": fleet_id, "role": role, "key_id": key_id}
