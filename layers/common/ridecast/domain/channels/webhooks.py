"""Provider webhooks: who may call them (SPEC §5: 403 and no state change otherwise), and processing each
delivery once (the providers retry, and a replay must not answer an offer twice)."""

from collections.abc import Callable
from datetime import timedelta

from ridecast.domain.channels.platform import PlatformChannels
from ridecast.domain.channels.ports import SignedRequest, WebhookVerifier
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Fleet
from ridecast.domain.ports import DeliveryLog, Ports
from ridecast.errors import WebhookForbidden
from ridecast.ids import same_secret


def verify_telegram(ports: Ports, fleet_id: str, secret_token: str | None) -> Fleet:
    """The fleet whose bot this is, when the X-Telegram-Bot-Api-Secret-Token is that bot's."""
    fleet = ports.stores.fleets.get(fleet_id)
    expected = ports.secrets.fleet_secrets(fleet_id).get("telegram_webhook_secret") if fleet else None
    if fleet is None or fleet.telegram is None or not expected or not same_secret(expected, secret_token or ""):
        raise WebhookForbidden("invalid X-Telegram-Bot-Api-Secret-Token")
    return fleet


def verify_platform_telegram(ports: Ports, secret_token: str | None) -> None:
    """The update is the platform bot's when its X-Telegram-Bot-Api-Secret-Token is the platform's secret."""
    platform = PlatformChannels.from_secret(ports.secrets.platform_secrets())
    expected = platform.telegram_webhook_secret if platform.telegram_bot_token else ""
    if not expected or not same_secret(expected, secret_token or ""):
        raise WebhookForbidden("invalid X-Telegram-Bot-Api-Secret-Token")


def verify_twilio(ports: Ports, verifier: WebhookVerifier, fleet_id: str | None, request: SignedRequest) -> Fleet:
    """The fleet the message is for, when Twilio signed it with that fleet's auth token and account."""
    fleet = ports.stores.fleets.get(fleet_id) if fleet_id else None
    account_sid, auth_token = _twilio_account(ports, fleet) if fleet else (None, None)
    if fleet is None or not account_sid or not auth_token or not request.signature:
        raise WebhookForbidden("unknown sender or missing signature")
    if not verifier.verify(auth_token, request):
        raise WebhookForbidden("invalid X-Twilio-Signature")
    if request.params.get("AccountSid") != account_sid:
        raise WebhookForbidden("message is for another Twilio account")
    return fleet


def _twilio_account(ports: Ports, fleet: Fleet) -> tuple[str | None, str | None]:
    """The account that sends the fleet's messages: its own, or the platform's when it has none (SPEC §5)."""
    if fleet.twilio is not None:
        return fleet.twilio.account_sid, ports.secrets.fleet_secrets(fleet.fleet_id).get("twilio_auth_token")
    platform = PlatformChannels.from_secret(ports.secrets.platform_secrets())
    return (platform.twilio.account_sid, platform.twilio_auth_token) if platform.twilio else (None, None)


def process_once[T](
    deliveries: DeliveryLog, source: str, delivery_id: str, remember_for: timedelta, work: Callable[[], T]
) -> T | None:
    """Run `work` for the first delivery of this id; None for a replay. A delivery whose processing fails
    is forgotten again, so the provider's retry gets processed."""
    if not deliveries.claim(source, delivery_id, utcnow() + remember_for):
        return None
    try:
        return work()
    except Exception:
        deliveries.release(source, delivery_id)
        raise
