"""WebhookDeliveryFunction's work on one queued event (ridecast.adapters.webhooks): signed per Standard
Webhooks so that the `standardwebhooks` package verifies it; a failure is counted on the fleet, backed off
with ChangeMessageVisibility and reported so SQS brings it back; another fleet's receiver gets nothing."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from standardwebhooks import Webhook

from ridecast.adapters import webhooks
from ridecast.api.webhook_events import event_body
from ridecast.domain.entities import Fleet
from ridecast.domain.rides.events import ride_event
from ridecast.settings import get_settings
from tests.fakes import Fakes
from tests.unit.domain.conftest import a_fleet
from tests.unit.repositories.builders import NOW, a_ride

HOOK = "https://fleet.example.com/ridecast"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class FakeQueue:
    def __init__(self) -> None:
        self.visibility: list[int] = []

    def change_message_visibility(self, **call: Any) -> None:
        self.visibility.append(call["VisibilityTimeout"])


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeQueue]:
    monkeypatch.setenv("TABLE_NAME", "ridecast-test")
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", "https://sqs.example/q")
    get_settings.cache_clear()
    fake = FakeQueue()
    monkeypatch.setattr(webhooks, "sqs", lambda: fake)
    yield fake
    get_settings.cache_clear()


def _hooked_fleet(fakes: Fakes) -> Fleet:
    fleet = a_fleet(fakes, webhook={"url": HOOK})
    fakes.secrets.save_fleet_secrets(fleet.fleet_id, {"webhook_secret": SECRET})
    return fleet


def _record(fleet_id: str, kind_status: str = "assigned", receive_count: int = 1) -> SQSRecord:
    event = ride_event("searching", a_ride(fleet_id, 1, status=kind_status, version=2), NOW)
    assert event is not None
    body = json.dumps({"fleet_id": fleet_id, "event": event_body(event)})
    attributes = {"ApproximateReceiveCount": str(receive_count)}
    return SQSRecord({"messageId": "m1", "receiptHandle": "rh", "body": body, "attributes": attributes})


@responses.activate
def test_the_receiver_verifies_the_event_with_standardwebhooks(queue: FakeQueue) -> None:
    # Given a fleet with a webhook and a queued ride.assigned
    fakes = Fakes()
    fleet = _hooked_fleet(fakes)
    responses.post(HOOK, status=204)
    # When it is delivered
    webhooks.deliver_record(fakes.ports, _record(fleet.fleet_id))
    # Then the receiver verifies it with the fleet's secret, and the webhook-id is the event id
    sent = responses.calls[0].request
    headers = {k.lower(): v for k, v in sent.headers.items()}
    verified = Webhook(SECRET).verify(sent.body, headers)
    assert verified["type"] == "ride.assigned"
    assert headers["webhook-id"] == verified["id"] == f"evt_{verified['data']['ride_id']}_2"
    assert verified["data"]["status"] == "assigned"
    assert "offers" not in verified["data"]
    assert queue.visibility == []


@responses.activate
def test_a_failure_is_counted_backed_off_and_reported(queue: FakeQueue) -> None:
    # Given a fleet whose receiver answers 500, on the third attempt at an event
    fakes = Fakes()
    fleet = _hooked_fleet(fakes)
    responses.post(HOOK, status=500)
    # When the delivery is tried, Then it is reported failed
    with pytest.raises(webhooks.DeliveryFailed):
        webhooks.deliver_record(fakes.ports, _record(fleet.fleet_id, receive_count=3))
    # And the message comes back after the third backoff step; the fleet sees the failure
    assert queue.visibility == [240]
    webhook = fakes.stores.fleets.fleets[fleet.fleet_id].webhook
    assert webhook is not None
    assert (webhook.failures, webhook.last_error) == (1, "HTTP 500")


@responses.activate
def test_an_event_goes_only_to_its_own_fleets_receiver(queue: FakeQueue) -> None:
    # Given two fleets with receivers, and an event of the first
    fakes = Fakes()
    first = _hooked_fleet(fakes)
    other = a_fleet(fakes, twilio=None, webhook={"url": HOOK + "/other"})
    fakes.secrets.save_fleet_secrets(other.fleet_id, {"webhook_secret": SECRET})
    responses.post(HOOK, status=200)
    responses.post(HOOK + "/other", status=200)
    # When it is delivered
    webhooks.deliver_record(fakes.ports, _record(first.fleet_id))
    # Then only the first fleet's receiver was called
    assert [call.request.url for call in responses.calls] == [HOOK]


@responses.activate
def test_an_event_the_fleet_no_longer_wants_is_dropped(queue: FakeQueue) -> None:
    # Given a fleet now subscribed to ride.failed alone, and a queued ride.assigned
    fakes = Fakes()
    fleet = a_fleet(fakes, webhook={"url": HOOK, "events": ["ride.failed"]})
    fakes.secrets.save_fleet_secrets(fleet.fleet_id, {"webhook_secret": SECRET})
    # When it is processed, Then nothing is sent and nothing is retried
    webhooks.deliver_record(fakes.ports, _record(fleet.fleet_id))
    assert len(responses.calls) == 0
    assert queue.visibility == []
