"""Twilio webhooks: driver replies by SMS/WhatsApp, and delivery receipts. Signed, and processed once."""

from datetime import timedelta
from xml.sax.saxutils import escape

from ridecast.adapters import dynamodb, secrets
from ridecast.domain import offers
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Fleet
from ridecast.domain.messages import render, ride_values
from ridecast.domain.replies import parse_reply
from ridecast.errors import WebhookForbidden
from ridecast.observability import logger, mask_phone
from ridecast.settings import get_settings

# Twilio retries for up to a day; remembering deliveries for a week covers every retry.
DEDUPE_WINDOW = timedelta(days=7)
FAILED_DELIVERY_STATUSES = frozenset({"failed", "undelivered"})


def twiml(text: str | None) -> str:
    body = f"<Message>{escape(text)}</Message>" if text else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


def _phone(address: str | None) -> str:
    return (address or "").removeprefix("whatsapp:").strip()


def _verified_fleet(fleet_id: str | None, url: str, params: dict[str, str], signature: str | None) -> Fleet:
    fleet = dynamodb.get_fleet(fleet_id) if fleet_id else None
    auth_token = secrets.fleet_secrets(fleet.fleet_id).get("twilio_auth_token") if fleet else None
    if fleet is None or fleet.twilio is None or not auth_token or not signature:
        raise WebhookForbidden("unknown sender or missing signature")
    from twilio.request_validator import RequestValidator

    if not RequestValidator(auth_token).validate(url, params, signature):
        raise WebhookForbidden("invalid X-Twilio-Signature")
    if params.get("AccountSid") != fleet.twilio.account_sid:
        raise WebhookForbidden("message is for another Twilio account")
    return fleet


def handle_message(params: dict[str, str], signature: str | None) -> str:
    """A driver's reply; answers TwiML with what happened."""
    fleet = _verified_fleet(
        dynamodb.fleet_for_sender(_phone(params.get("To"))),
        f"{get_settings().base_url}/webhooks/twilio",
        params,
        signature,
    )
    message_sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not message_sid:
        raise WebhookForbidden("no MessageSid")
    if not dynamodb.claim_delivery("twilio", message_sid, utcnow() + DEDUPE_WINDOW):
        logger.info("replayed twilio delivery ignored", extra={"message_sid": message_sid})
        return twiml(None)
    try:
        via_whatsapp = (params.get("From") or "").startswith("whatsapp:")
        return twiml(_answer(fleet, _phone(params.get("From")), params.get("Body", ""), via_whatsapp))
    except Exception:
        dynamodb.release_delivery("twilio", message_sid)
        raise


def _answer(fleet: Fleet, phone: str, text: str, via_whatsapp: bool) -> str:
    driver = dynamodb.find_driver_by_phone(fleet.fleet_id, phone)
    if driver is None:
        logger.info("reply from unknown number", extra={"phone": mask_phone(phone)})
        return render(fleet, "unknown_driver", fleet_name=fleet.name)
    dynamodb.touch_driver(fleet.fleet_id, driver.driver_id, utcnow(), via_whatsapp=via_whatsapp)
    reply = parse_reply(text)
    if reply.action is None:
        return render(fleet, "reply_help")
    found = offers.newest_open_offer(driver.driver_id, reply.ride_code)
    if found is None:
        return render(fleet, "result_no_open_offer")
    result, ride = offers.answer(*found, accepting=reply.action == "accept")
    return render(fleet, f"result_{result}", **ride_values(ride))


def handle_status(params: dict[str, str], raw_query: str, signature: str | None) -> None:
    """Delivery receipts for offers; the callback URL names the offer (ride and driver)."""
    query = dict(pair.split("=", 1) for pair in raw_query.split("&") if "=" in pair)
    ride = dynamodb.get_ride(query.get("ride_id", "")) if query.get("ride_id") else None
    url = f"{get_settings().base_url}/webhooks/twilio/status" + (f"?{raw_query}" if raw_query else "")
    _verified_fleet(ride.fleet_id if ride else None, url, params, signature)
    assert ride is not None  # _verified_fleet refused an unknown ride
    status = params.get("MessageStatus", "")
    delivery_id = f"{params.get('MessageSid', '')}:{status}"
    if not dynamodb.claim_delivery("twilio-status", delivery_id, utcnow() + DEDUPE_WINDOW):
        return
    driver_id = query.get("driver_id", "")
    if status in FAILED_DELIVERY_STATUSES:
        error = f"twilio {status} (error {params.get('ErrorCode') or 'unknown'})"
        dynamodb.update_offer(ride.ride_id, driver_id, {"sent"}, status="failed", delivery_status=status, error=error)
    elif status:
        dynamodb.update_offer(ride.ride_id, driver_id, None, delivery_status=status)
