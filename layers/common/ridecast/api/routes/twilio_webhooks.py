"""Twilio's webhooks: form posts of drivers' replies and of delivery receipts.

Each proves who sent it by signature; the route checks that before it trusts anything in the body, so
strangers learn nothing about what we accept. One module per provider, so each webhook function loads only
its own provider's side (cold start, SPEC §7)."""

from typing import Any

from aws_lambda_powertools.event_handler import Request, Response

from ridecast.adapters.channels.twilio_signatures import TwilioSignatures
from ridecast.api import twilio
from ridecast.api.callers import PROVIDER
from ridecast.api.routing import Routes
from ridecast.domain.channels.ports import SignedRequest
from ridecast.domain.matching import driver_replies
from ridecast.settings import get_settings
from ridecast.wiring import ports

# One table per function: each webhook is its own Lambda (its own permissions and scaling).
twilio_replies = Routes(tag="webhooks")
twilio_receipts = Routes(tag="webhooks")

_TWIML = {"text/xml": {"schema": {"type": "string", "description": "TwiML"}}}


def _twilio_form(description: str, *fields: str) -> dict[str, Any]:
    """Twilio's form post: the fields we read; Twilio sends more, and all of them are signed."""
    schema = {"type": "object", "properties": {f: {"type": "string"} for f in fields}, "additionalProperties": True}
    return {
        "required": True,
        "description": description,
        "content": {"application/x-www-form-urlencoded": {"schema": schema}},
    }


@twilio_replies.post(
    "/webhooks/twilio",
    callers=PROVIDER,
    body="form",
    success={"description": "TwiML answer to the driver", "content": _TWIML},
    # 422: a signed request whose MessageSid is no id, or whose Latitude/Longitude is out of range.
    errors=(403, 422),
    read_body=_twilio_form(
        "A driver's message, or a WhatsApp location (Latitude, Longitude)",
        *("MessageSid", "AccountSid", "From", "To", "Body", "NumMedia", "Latitude", "Longitude"),
    ),
)
def driver_reply(request: Request) -> Response[str]:
    """A driver's SMS or WhatsApp reply, or WhatsApp location (X-Twilio-Signature checked); answered well within
    Twilio's 15 s."""
    params = twilio.form_fields(request.resolved_event.decoded_body)
    # Twilio signs the public URL it was given, whatever host or stage the request reached us through.
    signed = SignedRequest(
        url=f"{get_settings().base_url}/webhooks/twilio",
        params=params,
        signature=request.headers.get("x-twilio-signature"),
    )
    answer = driver_replies.answer_text_reply(ports(), TwilioSignatures(), twilio.text_reply(params), signed)
    return Response(status_code=200, content_type="text/xml", body=twilio.twiml(answer))


@twilio_receipts.post(
    "/webhooks/twilio/status",
    callers=PROVIDER,
    body="form",
    status_code=204,
    success={"description": "Receipt recorded"},
    errors=(403, 422),
    read_body=_twilio_form("A delivery status callback", "MessageSid", "AccountSid", "MessageStatus", "ErrorCode"),
)
def delivery_receipt(request: Request) -> Response[str]:
    """Twilio's delivery status callback for an offer message (X-Twilio-Signature checked)."""
    params = twilio.form_fields(request.resolved_event.decoded_body)
    raw_query = request.resolved_event.get("rawQueryString") or ""
    # The callback URL Twilio signs carries the offer in its query string.
    signed = SignedRequest(
        url=f"{get_settings().base_url}/webhooks/twilio/status" + (f"?{raw_query}" if raw_query else ""),
        params=params,
        signature=request.headers.get("x-twilio-signature"),
    )
    receipt = twilio.delivery_receipt(params, raw_query)
    driver_replies.record_delivery_receipt(ports(), TwilioSignatures(), receipt, signed)
    return Response(status_code=204, content_type="text/plain", body="")
