"""E-mail through Amazon SES (API v2): a MIME message built with the standard library, sent raw so that it can
carry a plain-text part, an HTML part with inline images and attachments."""

from email.message import EmailMessage
from functools import lru_cache
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ridecast.domain.channels.ports import OutboundEmail
from ridecast.errors import ChannelError

# SES answers these when it is throttled or unavailable: worth a retry, unlike a rejected message.
RETRYABLE_CODES = frozenset({"Throttling", "TooManyRequestsException", "ServiceUnavailable", "InternalFailure"})


@lru_cache(maxsize=1)
def _client() -> Any:  # mypy_boto3_sesv2 is not among the pinned stubs
    return boto3.client("sesv2")


def mime_message(sender: str, message: OutboundEmail) -> EmailMessage:
    mime = EmailMessage()
    mime["From"], mime["To"], mime["Subject"] = sender, message.to, message.subject
    mime.set_content(message.body)
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html")
        html_part = mime.get_body(preferencelist=("html",))
        assert html_part is not None, "the HTML alternative was just added"
        for inline in (a for a in message.attachments if a.inline):
            maintype, _, subtype = inline.content_type.partition("/")
            html_part.add_related(inline.data, maintype, subtype, cid=f"<{inline.filename}>", filename=inline.filename)
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mime.add_attachment(attachment.data, maintype, subtype, filename=attachment.filename)
    return mime


class SesEmail:
    def send(self, sender: str, message: OutboundEmail) -> str:
        raw = mime_message(sender, message).as_bytes()
        try:
            answer = _client().send_email(
                FromEmailAddress=sender,
                Destination={"ToAddresses": [message.to]},
                Content={"Raw": {"Data": raw}},
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", "ClientError"))
            raise ChannelError(
                f"ses SendEmail: {code}", retryable=code in RETRYABLE_CODES, provider_code=code
            ) from None
        except BotoCoreError as error:
            raise ChannelError(f"ses SendEmail: {type(error).__name__}", retryable=True) from None
        return str(answer["MessageId"])
