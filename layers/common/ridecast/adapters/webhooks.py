"""Delivering ride events to fleets' receivers: the WebhookDeliveryFunction's work on a batch of the
webhook queue (SQS, ReportBatchItemFailures).

Each event is POSTed signed per Standard Webhooks (the `standardwebhooks` package: `webhook-id` is the
event id, so one transition is one id however often it is tried). A failed attempt is counted on the
fleet (GET /fleets/{id} shows it), its message is hidden for the next backoff step (ChangeMessageVisibility)
and reported as a batch item failure, so SQS — not a loop in a Lambda — makes the retries; past the last
attempt the queue moves it to the dead-letter queue, whose alarm tells the ops topic.
"""

import json
from datetime import datetime
from typing import Any

import requests
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from standardwebhooks import Webhook

from ridecast.adapters.ride_events import sqs
from ridecast.domain.clock import utcnow
from ridecast.domain.ports import Ports
from ridecast.domain.rides.events import retry_delay_seconds, subscribed
from ridecast.observability import count_by, logger
from ridecast.settings import get_settings


class DeliveryFailed(Exception):
    """This attempt failed; SQS brings the message back after its backoff."""


def signed_headers(secret: str, event_id: str, at: datetime, payload: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, payload),
    }


def post_event(url: str, headers: dict[str, str], payload: str) -> str | None:
    """None when the receiver took it (2xx); otherwise what went wrong, without the URL (it may hold a token)."""
    try:
        answer = requests.post(
            url,
            data=payload.encode(),
            headers=headers,
            timeout=get_settings().webhook_timeout_seconds,
            allow_redirects=False,  # Standard Webhooks: a redirect is not a delivery
        )
    except requests.Timeout:
        return "timeout"
    except requests.RequestException as error:
        return f"connection failed ({type(error).__name__})"
    return None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"


def deliver_record(ports: Ports, record: SQSRecord) -> None:
    message = json.loads(record.body)
    fleet_id, event = str(message["fleet_id"]), message["event"]
    fleet = ports.stores.fleets.get(fleet_id)
    if fleet is None or fleet.webhook is None or not subscribed(fleet, event["type"]):
        logger.info("webhook event dropped: the fleet no longer subscribes", extra={"fleet_id": fleet_id})
        return
    secret = ports.secrets.fleet_secrets(fleet_id).get("webhook_secret")
    if not secret:
        logger.warning("webhook event dropped: the fleet has no signing secret", extra={"fleet_id": fleet_id})
        return
    payload = json.dumps(event, separators=(",", ":"))
    error = post_event(fleet.webhook.url, signed_headers(secret, event["id"], utcnow(), payload), payload)
    if error is None:
        logger.info("webhook delivered", extra={"fleet_id": fleet_id, "event_id": event["id"]})
        return
    attempt = int(record.attributes.approximate_receive_count or 1)
    ports.stores.fleets.record_webhook_failure(fleet_id, fleet.webhook.url, error, utcnow())
    count_by("WebhookDeliveryFailures", "EventType", str(event["type"]))
    _retry_later(record, retry_delay_seconds(attempt, get_settings().webhook_first_retry_seconds))
    logger.info("webhook delivery failed", extra={"fleet_id": fleet_id, "attempt": attempt, "error": error})
    raise DeliveryFailed(error)


def _retry_later(record: SQSRecord, delay_seconds: int) -> None:
    try:
        sqs().change_message_visibility(
            QueueUrl=get_settings().webhook_queue_url,
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=delay_seconds,
        )
    except (ClientError, BotoCoreError) as error:  # the queue's own visibility timeout still brings it back
        logger.warning("webhook backoff not set", extra={"error": type(error).__name__})


def deliver_webhooks(ports: Ports, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # A batch whose every receiver failed is still an answer (each message keeps its own backoff), not an error.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    answer = process_partial_response(
        event=event, record_handler=lambda record: deliver_record(ports, record), processor=processor, context=context
    )
    return dict(answer)
