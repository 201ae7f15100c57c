"""The providers' webhooks: Twilio's form posts (driver replies, delivery receipts) and Telegram's updates.

Each proves who sent it by signature or secret token; the route checks that before it trusts anything in
the body, so strangers learn nothing about what we accept."""

from typing import Any

from aws_lambda_powertools.event_handler import Request, Response
from pydantic import BaseModel, ConfigDict, ValidationError

from ridecast.adapters.channels.twilio import TwilioSignatures
from ridecast.api import twilio
from ridecast.api.bodies import check_json_object
from ridecast.api.callers import PROVIDER
from ridecast.api.routing import Routes
from ridecast.api.telegram import TelegramUpdate
from ridecast.domain.channels.ports import SignedRequest
from ridecast.domain.channels.webhooks import verify_platform_telegram, verify_telegram
from ridecast.domain.drivers.telegram_bot import handle_bot_update, handle_platform_update
from ridecast.domain.matching import driver_replies
from ridecast.errors import InvalidInput
from ridecast.settings import get_settings
from ridecast.wiring import ports

# One table per function: each webhook is its own Lambda (its own permissions and scaling).
twilio_replies = Routes(tag="webhooks")
twilio_receipts = Routes(tag="webhooks")
telegram_updates = Routes(tag="webhooks")

_TWIML = {"text/xml": {"schema": {"type": "string", "description": "TwiML"}}}


def _twilio_form(description: str, *fields: str) -> dict[str, Any]:
    """Twilio's form post: the fields we read; Twilio sends more, and all of them are signed."""
    schema = {"type": "object", "properties": {f: {"type": "string"} for f in fields}, "additionalProperties": True}
    return {
        "required": True,
        "description": description,
        "content": {"application/x-www-form-urlencoded": {"schema": schema}},
    }


_TELEGRAM_UPDATE = {
    "required": True,
    "description": "A Telegram Update; the parts not listed are ignored, not refused",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["update_id"],
                "properties": {
                    "update_id": {"type": "integer"},
                    "message": {"type": "object"},
                    "callback_query": {"type": "object"},
                    "edited_message": {"type": "object", "description": "a live location moving"},
                },
            }
        }
    },
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


class TelegramOk(BaseModel):
    model_config = ConfigDict(defer_build=True)  # see ridecast.domain.entities.DomainModel

    ok: bool = True


def _telegram_update(request: Request) -> TelegramUpdate:
    check_json_object(request.resolved_event)
    try:
        return TelegramUpdate.model_validate_json(request.resolved_event.decoded_body or "")
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise InvalidInput(f"{where}: {first.get('msg')}", field=where) from None


# body="none": the body is read here, after the secret, not before the route as on other JSON routes.
@telegram_updates.post(
    "/webhooks/telegram/<fleet_id>",
    callers=PROVIDER,
    body="none",
    errors=(400, 403, 415, 422),
    read_body=_TELEGRAM_UPDATE,
)
def bot_update(fleet_id: str, request: Request) -> TelegramOk:
    """An update of the fleet's bot: offer buttons, /start registration, /online, /offline, locations
    (X-Telegram-Bot-Api-Secret-Token checked before the body is read)."""
    fleet = verify_telegram(ports(), fleet_id, request.headers.get("x-telegram-bot-api-secret-token"))
    update = _telegram_update(request)
    handle_bot_update(ports(), fleet, update.update_id, update.event())
    return TelegramOk()


# A literal path: API Gateway (and the resolver) prefer it to `{fleet_id}`, so "platform" is never a fleet id.
@telegram_updates.post(
    "/webhooks/telegram/platform",
    callers=PROVIDER,
    body="none",
    errors=(400, 403, 415, 422),
    read_body=_TELEGRAM_UPDATE,
)
def platform_bot_update(request: Request) -> TelegramOk:
    """An update of the platform's own bot, shared by the fleets without one: the driver's fleet is found by
    the chat (or, on `/start <token>`, by the registration link); secret token checked against the platform's."""
    verify_platform_telegram(ports(), request.headers.get("x-telegram-bot-api-secret-token"))
    update = _telegram_update(request)
    handle_platform_update(ports(), update.update_id, update.event())
    return TelegramOk()
