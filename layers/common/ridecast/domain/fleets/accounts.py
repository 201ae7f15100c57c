"""Fleets: creation with their first admin key, settings, channel credentials."""

from ridecast.domain.clock import utcnow
from ridecast.domain.entities import ApiKey, Fleet, FleetSettings, FleetWebhook, TelegramConfig, TwilioConfig
from ridecast.domain.fleets.commands import (
    FleetChanges,
    NewFleet,
    TelegramBotAccount,
    TwilioAccount,
    WebhookSubscription,
)
from ridecast.domain.ports import Ports
from ridecast.domain.rides.events import RIDE_EVENT_TYPES
from ridecast.errors import FleetNotFound, InvalidInput, SenderInUse
from ridecast.ids import hash_api_key, new_api_key, new_id, new_webhook_secret
from ridecast.observability import logger


def create_fleet(ports: Ports, request: NewFleet) -> tuple[Fleet, str, str | None]:
    """The new fleet, its admin key (shown once; only the hash is stored) and its webhook signing secret
    (shown once, kept in Secrets Manager; None without a webhook)."""
    now = utcnow()
    fleet = Fleet(
        fleet_id=new_id("f"),
        name=request.name,
        timezone=request.timezone,
        language=request.language,
        admin_contacts=request.admin_contacts,
        settings=request.settings,
        twilio=_twilio_config(request.twilio),
        telegram=_telegram_config(request.telegram),
        webhook=_webhook_config(request.webhook),
        created_at=now,
        updated_at=now,
    )
    _claim_senders(ports, fleet.fleet_id, request.twilio)
    webhook_secret = new_webhook_secret() if request.webhook else None
    _save_channel_secrets(ports, fleet.fleet_id, request.twilio, request.telegram, webhook_secret)
    raw_key = new_api_key()
    key = ApiKey(key_id=new_id("k"), fleet_id=fleet.fleet_id, role="admin", label="first admin key", created_at=now)
    ports.stores.fleets.create(fleet, key, hash_api_key(raw_key))
    logger.info("fleet created", extra={"fleet_id": fleet.fleet_id})
    return fleet, raw_key, webhook_secret


def get_fleet(ports: Ports, fleet_id: str) -> Fleet:
    fleet = ports.stores.fleets.get(fleet_id)
    if fleet is None:
        raise FleetNotFound(f"fleet {fleet_id} not found")
    return fleet


def update_fleet(ports: Ports, fleet_id: str, request: FleetChanges) -> tuple[Fleet, str | None]:
    """The updated fleet, and a new webhook signing secret when the webhook was first set or its secret
    rotated (shown once)."""
    fleet = get_fleet(ports, fleet_id)
    changes = request.model_dump(exclude_unset=True, exclude={"settings", "twilio", "telegram", "webhook"})
    if request.settings is not None:
        merged = {**fleet.settings.model_dump(), **request.settings.model_dump(exclude_unset=True)}
        try:
            changes["settings"] = FleetSettings(**merged)
        except ValueError as error:
            raise InvalidInput(f"settings: {_first_error(error)}", field="settings") from None
    if request.twilio is not None:
        changes["twilio"] = _twilio_config(request.twilio)
    if request.telegram is not None:
        changes["telegram"] = _telegram_config(request.telegram)
    webhook_secret = None
    if "webhook" in request.model_fields_set:
        changes["webhook"] = _webhook_config(request.webhook)
        wants_secret = request.webhook is not None and (fleet.webhook is None or request.webhook.rotate_secret)
        webhook_secret = new_webhook_secret() if wants_secret else None
    # Validated, not model_copy'd: the changes hold plain dicts (admin contacts) that must become models.
    updated = Fleet.model_validate({**fleet.model_dump(), **changes, "updated_at": utcnow()})
    _claim_senders(ports, fleet_id, request.twilio)
    _save_channel_secrets(ports, fleet_id, request.twilio, request.telegram, webhook_secret)
    ports.stores.fleets.save(updated)
    if request.twilio is not None and fleet.twilio is not None:
        # Released once the fleet no longer names them: inbound messages to them stop finding this fleet.
        kept = {s.from_ for s in request.twilio.senders}
        ports.stores.senders.release(fleet_id, [s.from_ for s in fleet.twilio.senders if s.from_ not in kept])
    return updated, webhook_secret


def _first_error(error: ValueError) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        first = errors()[0]
        return str(first.get("msg", error))
    return str(error)


def _twilio_config(twilio: TwilioAccount | None) -> TwilioConfig | None:
    if twilio is None:
        return None
    return TwilioConfig(
        account_sid=twilio.account_sid, senders=twilio.senders, offer_content_sid=twilio.offer_content_sid
    )


def _telegram_config(telegram: TelegramBotAccount | None) -> TelegramConfig | None:
    return TelegramConfig(bot_username=telegram.bot_username) if telegram else None


def _webhook_config(webhook: WebhookSubscription | None) -> FleetWebhook | None:
    """A new subscription starts with no failures: they are about the receiver it replaces."""
    if webhook is None:
        return None
    return FleetWebhook(url=webhook.url, events=list(webhook.events or RIDE_EVENT_TYPES))


def _claim_senders(ports: Ports, fleet_id: str, twilio: TwilioAccount | None) -> None:
    """Inbound Twilio webhooks find their fleet by the number written to, so a number has one fleet."""
    if twilio is None:
        return
    taken = ports.stores.senders.claim(fleet_id, [s.from_ for s in twilio.senders])
    if taken:
        raise SenderInUse(f"twilio sender {taken[0]} already belongs to another fleet", field="twilio.senders")


def _save_channel_secrets(
    ports: Ports,
    fleet_id: str,
    twilio: TwilioAccount | None,
    telegram: TelegramBotAccount | None,
    webhook_secret: str | None = None,
) -> None:
    # Saved before the fleet that names the webhook: a delivery never finds a webhook without its secret.
    values: dict[str, str] = {"webhook_secret": webhook_secret} if webhook_secret else {}
    if twilio is not None:
        values["twilio_auth_token"] = twilio.auth_token
    if telegram is not None:
        values["telegram_bot_token"] = telegram.bot_token
        values["telegram_webhook_secret"] = telegram.webhook_secret
    if values:
        ports.secrets.save_fleet_secrets(fleet_id, values)
