"""Twilio's webhook forms and the TwiML it expects back, translated to and from domain inputs."""

from collections.abc import Mapping
from html import escape
from urllib.parse import parse_qsl

from ridecast.domain.matching.driver_replies import DeliveryReceipt, TextReply


def form_fields(body: str | None) -> dict[str, str]:
    return dict(parse_qsl(body or "", keep_blank_values=True))


def twiml(text: str | None) -> str:
    # html.escape without quotes escapes what xml.sax.saxutils.escape does (&, <, >) without importing urllib's
    # HTTP client and the e-mail parser with it (~40 ms of the webhook's cold start).
    body = f"<Message>{escape(text, quote=False)}</Message>" if text else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


def _phone(address: str | None) -> str:
    return (address or "").removeprefix("whatsapp:").strip()


def text_reply(params: Mapping[str, str]) -> TextReply:
    return TextReply(
        message_id=params.get("MessageSid") or params.get("SmsSid") or "",
        from_phone=_phone(params.get("From")),
        to_phone=_phone(params.get("To")),
        text=params.get("Body", ""),
        via_whatsapp=(params.get("From") or "").startswith("whatsapp:"),
        # A WhatsApp location message: the coordinates, with an empty Body.
        latitude=params.get("Latitude"),
        longitude=params.get("Longitude"),
    )


def delivery_receipt(params: Mapping[str, str], raw_query: str) -> DeliveryReceipt:
    """The status callback URL carries the offer (`?ride_id=…&driver_id=…`), the form what became of it."""
    query = dict(pair.split("=", 1) for pair in raw_query.split("&") if "=" in pair)
    return DeliveryReceipt(
        ride_id=query.get("ride_id", ""),
        driver_id=query.get("driver_id", ""),
        message_id=params.get("MessageSid", ""),
        status=params.get("MessageStatus", ""),
        error_code=params.get("ErrorCode") or None,
        # Twilio writes WhatsApp recipients `whatsapp:+E164`: which of the offer's messages this receipt is about.
        channel="whatsapp" if params.get("To", "").startswith("whatsapp:") else "sms",
    )
