"""The adapters behind MatchingEngine, SecretStore and OpsAlerts, and the wiring that builds the real Ports."""

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from ridecast import wiring
from ridecast.adapters import alerts, secrets, stepfunctions
from ridecast.adapters.alerts import SnsAlerts
from ridecast.adapters.secrets import SecretsManagerSecrets
from ridecast.adapters.stepfunctions import StepFunctionsMatching
from ridecast.errors import MatchingUnavailable
from ridecast.repositories import table
from tests.fixtures import REGION, clear_cached_clients
from tests.unit.conftest import AwsStack


def test_ports_are_built_once_per_container_and_create_no_client(aws: AwsStack) -> None:
    # Given a fresh container
    clear_cached_clients()
    # When the handler asks for its ports twice
    first, second = wiring.ports(), wiring.ports()
    # Then it gets the same ones, sharing the stores, and nothing has connected to AWS yet
    assert first is second
    assert first.stores is wiring.stores()
    cached = [table.table, stepfunctions.client, secrets._client, alerts._client]
    assert [f.cache_info().currsize for f in cached] == [0, 0, 0, 0]


def test_the_test_fixtures_forget_the_ports_between_tests(aws: AwsStack) -> None:
    before = wiring.ports()
    clear_cached_clients()
    assert wiring.ports() is not before


def test_matching_starts_one_execution_per_ride(aws: AwsStack) -> None:
    # Given a ride whose matching is started
    matching = StepFunctionsMatching()
    matching.start("r1", {"ride_id": "r1", "fleet_id": "f1"})
    # When a retry starts it again, Then nothing fails and there is still one execution, named after the ride
    matching.start("r1", {"ride_id": "r1", "fleet_id": "f1"})
    assert [e["name"] for e in aws.executions()] == ["r1"]


def test_matching_that_cannot_start_is_a_domain_error(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a state machine that is not there
    monkeypatch.setenv("STATE_MACHINE_ARN", aws.state_machine_arn + "-gone")
    clear_cached_clients()
    # When a ride's matching is started, Then the domain is told matching is unavailable, as a 503
    with pytest.raises(MatchingUnavailable) as raised:
        StepFunctionsMatching().start("r1", {"ride_id": "r1"})
    assert (raised.value.status_code, raised.value.code) == (503, "matching_unavailable")


def test_matching_unreachable_is_a_domain_error(aws: AwsStack, monkeypatch: pytest.MonkeyPatch) -> None:
    class Unreachable:
        def start_execution(self, **_: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="https://states.eu-west-1.amazonaws.com")

    monkeypatch.setattr(stepfunctions, "client", Unreachable)
    with pytest.raises(MatchingUnavailable):
        StepFunctionsMatching().start("r1", {"ride_id": "r1"})


def test_fleet_secrets_are_merged_and_read_back(aws: AwsStack) -> None:
    store = SecretsManagerSecrets()
    assert store.fleet_secrets("f1") == {}
    store.save_fleet_secrets("f1", {"telegram_bot_token": "t1"})
    store.save_fleet_secrets("f1", {"twilio_auth_token": "a1"})
    assert store.fleet_secrets("f1") == {"telegram_bot_token": "t1", "twilio_auth_token": "a1"}
    assert store.root_key() == aws.root_key


def test_secrets_read_together_share_one_provider_which_a_saved_secret_keeps(
    aws: AwsStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    # Given no secrets provider yet, and invocations sharing the process (the local stack) reading at once
    monkeypatch.delitem(DEFAULT_PROVIDERS, "secrets", raising=False)
    store = SecretsManagerSecrets()
    made: list[object] = []
    real = parameters.SecretsProvider
    monkeypatch.setattr(parameters, "SecretsProvider", lambda **kwargs: made.append(1) or real(**kwargs))
    # When eight of them read the root key together, then a fleet's secret is saved and read back
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = list(pool.map(lambda _: store.root_key(), range(8)))
    provider = DEFAULT_PROVIDERS["secrets"]
    store.save_fleet_secrets("f1", {"telegram_bot_token": "t1"})
    # Then one provider was made for all of them, and the save dropped its values, not the provider
    assert keys == [aws.root_key] * 8
    assert len(made) == 1
    assert DEFAULT_PROVIDERS["secrets"] is provider
    assert store.fleet_secrets("f1") == {"telegram_bot_token": "t1"}


def test_an_alert_reaches_the_topic_subscribers(aws: AwsStack) -> None:
    # Given a queue subscribed to the alerts topic
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=aws.alerts_topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    # When an alert is published
    SnsAlerts().publish("No driver for R-00001", "nobody accepted", {"fleet_id": "f1"})
    # Then the subscriber gets the message with its attributes
    received = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert [json.loads(m["Body"]) for m in received] == [{"message": "nobody accepted", "fleet_id": "f1"}]


def test_an_email_carries_text_html_an_inline_image_and_an_attachment(aws: AwsStack) -> None:
    from ridecast.adapters.channels.email import SesEmail, mime_message
    from ridecast.domain.channels.ports import Attachment, OutboundEmail
    from ridecast.errors import ChannelError

    # Given a message with an HTML part showing a PNG that is also attached
    png = Attachment("qr.png", "image/png", b"\x89PNG\r\n\x1a\n", inline=True)
    html = '<img src="cid:qr.png">'
    message = OutboundEmail("ann@example.com", "Your link", "Open it", html=html, attachments=(png,))
    # Then the MIME message has both alternatives, the image related to the HTML and attached
    mime = mime_message("rides@example.com", message)
    parts = [(part.get_content_type(), part.get_filename(), part.get("Content-ID")) for part in mime.walk()]
    assert ("text/plain", None, None) in parts
    assert ("text/html", None, None) in parts
    assert [p for p in parts if p[1]] == [("image/png", "qr.png", "<qr.png>"), ("image/png", "qr.png", None)]
    # And SES sends it from a verified sender, and refuses an unverified one as a channel error
    boto3.client("sesv2", region_name=REGION).create_email_identity(EmailIdentity="rides@example.com")
    assert SesEmail().send("rides@example.com", message)
    with pytest.raises(ChannelError, match="MessageRejected"):
        SesEmail().send("stranger@example.org", message)
