"""Ops alerts to the SNS topic (email, chat, pager subscribe to it in the template)."""

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3

from ridecast.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


@lru_cache(maxsize=1)
def _client() -> "SNSClient":
    return boto3.client("sns")


class SnsAlerts:
    def publish(self, subject: str, message: str, attributes: dict[str, Any]) -> None:
        topic = get_settings().alerts_topic_arn
        if not topic:
            return
        _client().publish(
            TopicArn=topic,
            Subject=subject[:100],
            Message=json.dumps({"message": message, **attributes}, default=str),
        )
