"""Telegram webhook: offer buttons, /start registration, /online, /offline, /help. Secret-checked, once."""

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from ridecast.adapters import dynamodb, secrets
from ridecast.adapters.channels.base import OutboundMessage
from ridecast.domain import offers
from ridecast.domain.clock import utcnow
from ridecast.domain.delivery import FleetChannels
from ridecast.domain.drivers import update_driver
from ridecast.domain.entities import Fleet
from ridecast.domain.messages import render, ride_values
from ridecast.errors import ChannelError, OfferNotFound, WebhookForbidden
from ridecast.ids import same_secret
from ridecast.models.api import UpdateDriverRequest
from ridecast.observability import logger

DEDUPE_WINDOW = timedelta(days=2)
START_PAYLOAD_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class TelegramUser(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int


class TelegramChat(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: int


class TelegramMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message_id: int
    chat: TelegramChat
    text: str | None = None


class CallbackQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    from_: TelegramUser = Field(alias="from")
    data: str | None = None
    message: TelegramMessage | None = None


class TelegramUpdate(BaseModel):
    """The parts of a Telegram Update we act on; everything else is ignored, not rejected."""

    model_config = ConfigDict(extra="ignore")
    update_id: int
    message: TelegramMessage | None = None
    callback_query: CallbackQuery | None = None


def verify(fleet_id: str, secret_token: str | None) -> Fleet:
    fleet = dynamodb.get_fleet(fleet_id)
    expected = secrets.fleet_secrets(fleet_id).get("telegram_webhook_secret") if fleet else None
    if fleet is None or fleet.telegram is None or not expected or not same_secret(expected, secret_token or ""):
        raise WebhookForbidden("invalid X-Telegram-Bot-Api-Secret-Token")
    return fleet


def handle_update(fleet: Fleet, update: TelegramUpdate) -> None:
    delivery_id = f"{fleet.fleet_id}:{update.update_id}"
    if not dynamodb.claim_delivery("telegram", delivery_id, utcnow() + DEDUPE_WINDOW):
        logger.info("replayed telegram update ignored", extra={"update_id": update.update_id})
        return
    try:
        channels = FleetChannels(fleet)
        if update.callback_query is not None:
            _on_button(channels, update.callback_query)
        elif update.message is not None and update.message.text:
            _on_command(channels, update.message)
    except Exception:
        dynamodb.release_delivery("telegram", delivery_id)
        raise


def _reply(channels: FleetChannels, chat_id: int, text: str) -> None:
    channels.send(OutboundMessage(channel="telegram", to=str(chat_id), body=text))


def _on_command(channels: FleetChannels, message: TelegramMessage) -> None:
    fleet = channels.fleet
    chat_id = str(message.chat.id)
    command, _, argument = (message.text or "").strip().partition(" ")
    command = command.split("@", 1)[0].lower()  # "/start@ridecast_bot" in group chats
    if command == "/start" and argument.strip():
        _register(channels, message.chat.id, argument.strip())
        return
    driver = dynamodb.find_driver_by_chat(fleet.fleet_id, chat_id)
    if driver is None:
        _reply(channels, message.chat.id, render(fleet, "telegram_not_registered"))
        return
    if command in ("/online", "/offline"):
        if driver.status == "blocked":
            _reply(channels, message.chat.id, render(fleet, "telegram_blocked"))
            return
        status = "active" if command == "/online" else "inactive"
        update_driver(fleet.fleet_id, driver.driver_id, UpdateDriverRequest(status=status))
        _reply(channels, message.chat.id, render(fleet, f"telegram_{command[1:]}"))
        return
    dynamodb.touch_driver(fleet.fleet_id, driver.driver_id, utcnow())
    if command == "/start":
        _reply(
            channels, message.chat.id, render(fleet, "telegram_welcome", driver_name=driver.name, fleet_name=fleet.name)
        )
        return
    _reply(channels, message.chat.id, render(fleet, "telegram_help"))


def _register(channels: FleetChannels, chat_id: int, token: str) -> None:
    import re

    fleet = channels.fleet
    driver_id = (
        dynamodb.consume_registration(token, fleet.fleet_id, utcnow())
        if re.match(START_PAYLOAD_PATTERN, token)
        else None
    )
    driver = dynamodb.get_driver(fleet.fleet_id, driver_id) if driver_id else None
    if driver is None:
        _reply(channels, chat_id, render(fleet, "telegram_link_invalid"))
        return
    bound = dynamodb.bind_telegram_chat(driver, str(chat_id))
    dynamodb.touch_driver(fleet.fleet_id, bound.driver_id, utcnow())
    logger.info("telegram chat bound", extra={"driver_id": bound.driver_id})
    _reply(channels, chat_id, render(fleet, "telegram_welcome", driver_name=bound.name, fleet_name=fleet.name))


def _on_button(channels: FleetChannels, query: CallbackQuery) -> None:
    fleet = channels.fleet
    action, _, token = (query.data or "").partition(":")
    text = _answer_button(fleet, query, action, token)
    bot = channels.telegram_bot()
    if bot is None:
        return
    try:
        bot.answer_callback(query.id, text)
        if query.message is not None:
            original = query.message.text or ""
            bot.edit(str(query.message.chat.id), str(query.message.message_id), f"{original}\n\n{text}".strip())
    except ChannelError as error:
        # The answer itself is recorded; a lost toast or edit must not make Telegram redeliver it.
        logger.warning("telegram callback answer failed", extra={"error": error.message})


def _answer_button(fleet: Fleet, query: CallbackQuery, action: str, token: str) -> str:
    if action not in ("a", "r"):
        return render(fleet, "telegram_help")
    try:
        offer, ride = offers.open_offer(token)
    except OfferNotFound:
        return render(fleet, "result_no_open_offer")
    driver = dynamodb.get_driver(fleet.fleet_id, offer.driver_id)
    # The button answers for the driver whose chat it was sent to, not whoever it was forwarded to.
    if driver is None or ride.fleet_id != fleet.fleet_id or driver.telegram_chat_id != str(query.from_.id):
        return render(fleet, "result_no_open_offer")
    dynamodb.touch_driver(fleet.fleet_id, driver.driver_id, utcnow())
    result, ride = offers.answer(offer, ride, accepting=action == "a")
    return render(fleet, f"result_{result}", **ride_values(ride))
