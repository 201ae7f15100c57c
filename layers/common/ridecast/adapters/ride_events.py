"""Ride events onto the webhook queue (SQS), right after the transition that makes them is recorded.

Best effort by design (SPEC §10: webhooks never block matching): the ride's write has already won, so a
queue or fleet read that fails is logged and counted (`WebhookEventsLost`), never raised into matching.
The price is that a crash between the write and the send loses that one event; the receiver can always
read the ride with GET /rides/{id}. Fleets without a webhook, or not subscribed to the event, cost one
fleet read and no message.
"""

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ridecast.api.webhook_events import event_body
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Ride
from ridecast.domain.rides.events import ride_event, subscribed
from ridecast.observability import count_by, logger
from ridecast.repositories.fleets import DynamoFleetStore
from ridecast.repositories.rides import DynamoRideStore
from ridecast.settings import get_settings


@lru_cache(maxsize=1)
def sqs() -> Any:  # mypy_boto3_sqs is not among the pinned stubs
    return boto3.client("sqs")


def publish_ride_event(previous_status: str | None, ride: Ride, at: datetime) -> None:
    queue_url = get_settings().webhook_queue_url
    event = ride_event(previous_status, ride, at)
    if not queue_url or event is None:
        return
    try:
        if not subscribed(DynamoFleetStore().get(ride.fleet_id), event.type):
            return
        body = json.dumps({"fleet_id": event.fleet_id, "event": event_body(event)})
        sqs().send_message(QueueUrl=queue_url, MessageBody=body)
    except (ClientError, BotoCoreError) as error:
        logger.warning(
            "webhook event not queued",
            extra={"fleet_id": ride.fleet_id, "event_id": event.event_id, "error": type(error).__name__},
        )
        count_by("WebhookEventsLost", "EventType", event.type)


class PublishingRideStore(DynamoRideStore):
    """The ride repository, publishing each recorded creation and transition as a ride event."""

    def add(self, ride: Ride) -> None:
        super().add(ride)
        publish_ride_event(None, ride, ride.created_at)

    def transition(self, ride: Ride, to_status: str, **fields: Any) -> Ride | None:
        moved = super().transition(ride, to_status, **fields)
        if moved is not None:
            publish_ride_event(ride.status, moved, utcnow())
        return moved
