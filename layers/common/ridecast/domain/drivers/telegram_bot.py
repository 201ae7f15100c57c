"""A fleet's Telegram bot: offer buttons, /start registration, /online, /offline, /help. Each update once."""

import re
from dataclasses import dataclass
from datetime import timedelta

from ridecast.domain.channels.catalogue import render, render_in, ride_values
from ridecast.domain.channels.platform import PlatformChannels
from ridecast.domain.channels.ports import OutboundMessage
from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.channels.webhooks import process_once
from ridecast.domain.clock import utcnow
from ridecast.domain.drivers.commands import DriverChanges
from ridecast.domain.drivers.roster import locate_driver, update_driver
from ridecast.domain.entities import Driver, Fleet
from ridecast.domain.matching import admin_actions, answers
from ridecast.domain.matching.holder import GIVE_BACK_BUTTON
from ridecast.domain.matching.reallocation import give_back_reply
from ridecast.domain.ports import Ports
from ridecast.errors import ChannelError, ChatAlreadyBound, OfferNotFound
from ridecast.observability import logger

TELEGRAM_DEDUPE_WINDOW = timedelta(days=2)
START_PAYLOAD_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class ChatMessage:
    """A text a user wrote to the bot in `chat_id`."""

    chat_id: str
    text: str


@dataclass(frozen=True)
class PressedButton:
    """A button (`data`) pressed by the Telegram user `user_id` under one of the bot's messages, with that
    message to edit in place."""

    callback_query_id: str
    user_id: str
    data: str
    chat_id: str | None = None
    message_id: str | None = None
    message_text: str = ""


@dataclass(frozen=True)
class SharedLocation:
    """A location the user shared in `chat_id`, or (`live_update`) where their live location moved to."""

    chat_id: str
    lat: float
    lng: float
    live_update: bool = False


BotEvent = ChatMessage | PressedButton | SharedLocation


def handle_bot_update(ports: Ports, fleet: Fleet, update_id: int, event: BotEvent | None) -> None:
    """One Telegram update (an `event` we act on, or None for the kinds we ignore), processed once."""

    def handle() -> bool:
        _on_event(ports, ChannelRouter.for_fleet(fleet, ports), event)
        return True

    delivery_id = f"{fleet.fleet_id}:{update_id}"
    if not process_once(ports.stores.deliveries, "telegram", delivery_id, TELEGRAM_DEDUPE_WINDOW, handle):
        logger.info("replayed telegram update ignored", extra={"update_id": update_id})


def handle_platform_update(ports: Ports, update_id: int, event: BotEvent | None) -> None:
    """An update of the platform's own bot, which every fleet without a bot shares (SPEC §5). It names no
    fleet: the fleet is the one whose registration link the chat opens (`/start <token>`), else the one whose
    driver the chat was bound to on registering. Each update once, as on a fleet's bot."""

    def handle() -> bool:
        router = _platform_router(ports, event)
        if router is not None:
            _on_event(ports, router, event)
        elif event is not None:
            _answer_stranger(ports, event)
        return True

    if not process_once(ports.stores.deliveries, "telegram", f"platform:{update_id}", TELEGRAM_DEDUPE_WINDOW, handle):
        logger.info("replayed telegram update ignored", extra={"update_id": update_id})


def _platform_router(ports: Ports, event: BotEvent | None) -> ChannelRouter | None:
    """The router of the fleet this platform-bot update is for; None when no fleet on the platform bot is."""
    if event is None:
        return None
    command, _, argument = event.text.strip().partition(" ") if isinstance(event, ChatMessage) else ("", "", "")
    token = argument.strip()
    action, _, ride_id = event.data.partition(":") if isinstance(event, PressedButton) else ("", "", "")
    if command.split("@", 1)[0].lower() == "/start" and START_PAYLOAD_PATTERN.match(token):
        fleet_id = ports.stores.registrations.fleet_of(token)
    elif action in admin_actions.ACTIONS and START_PAYLOAD_PATTERN.match(ride_id):
        # An admin alert's button names its ride, hence the fleet; the press is then checked to come from one
        # of that fleet's admin chats, as on a fleet's own bot.
        ride = ports.stores.rides.get(ride_id)
        fleet_id = ride.fleet_id if ride else None
    else:
        bound = ports.stores.platform_chats.find(event.user_id if isinstance(event, PressedButton) else event.chat_id)
        fleet_id = bound[0] if bound else None
    fleet = ports.stores.fleets.get(fleet_id) if fleet_id else None
    router = ChannelRouter.for_fleet(fleet, ports) if fleet else None
    # A fleet that has its own bot by now is reached there: its drivers register again with that bot.
    return router if router is not None and router.source("telegram") == "platform" else None


def _answer_stranger(ports: Ports, event: BotEvent) -> None:
    """A chat the platform bot knows no fleet for is told how to register (in English: it has no fleet yet)."""
    if isinstance(event, SharedLocation):
        return  # a location from a stranger changes nothing, and a live one would be answered every few seconds
    platform = PlatformChannels.from_secret(ports.secrets.platform_secrets())
    if not platform.telegram_bot_token:
        return
    bot = ports.channels.telegram(platform.telegram_bot_token)
    try:
        if isinstance(event, PressedButton):
            bot.answer_callback(event.callback_query_id, render_in("en", "result_no_open_offer"))
        elif event.text.strip().lower().startswith("/start "):
            bot.send(
                OutboundMessage(channel="telegram", to=event.chat_id, body=render_in("en", "telegram_link_invalid"))
            )
        else:
            bot.send(
                OutboundMessage(channel="telegram", to=event.chat_id, body=render_in("en", "telegram_not_registered"))
            )
    except ChannelError as error:
        logger.warning("platform bot answer failed", extra={"error": error.message})


def _on_event(ports: Ports, router: ChannelRouter, event: BotEvent | None) -> None:
    if isinstance(event, PressedButton):
        _on_button(ports, router, event)
    elif isinstance(event, SharedLocation):
        _on_location(ports, router, event)
    elif isinstance(event, ChatMessage) and event.text:
        _on_command(ports, router, event)


def _on_command(ports: Ports, router: ChannelRouter, message: ChatMessage) -> None:
    fleet = router.fleet
    chat_id = message.chat_id
    command, _, argument = message.text.strip().partition(" ")
    command = command.split("@", 1)[0].lower()  # "/start@ridecast_bot" in group chats
    if command == "/start" and argument.strip():
        _register(ports, router, chat_id, argument.strip())
        return
    drivers = ports.stores.drivers
    driver = drivers.find_by_chat(fleet.fleet_id, chat_id)
    if driver is None:
        router.to_chat(chat_id, render(fleet, "telegram_not_registered"))
        return
    if command in ("/online", "/offline"):
        if driver.status == "blocked":
            router.to_chat(chat_id, render(fleet, "telegram_blocked"))
            return
        status = "active" if command == "/online" else "inactive"
        update_driver(ports, fleet.fleet_id, driver.driver_id, DriverChanges(status=status))
        router.to_chat(chat_id, render(fleet, f"telegram_{command[1:]}"))
        return
    drivers.touch(fleet.fleet_id, driver.driver_id, utcnow())
    if command == "/start":
        router.to_chat(chat_id, render(fleet, "telegram_welcome", driver_name=driver.name, fleet_name=fleet.name))
        return
    router.to_chat(chat_id, render(fleet, "telegram_help"))


def _on_location(ports: Ports, router: ChannelRouter, shared: SharedLocation) -> None:
    """SPEC §5: a shared (or live) location sets the driver's `location`; from a chat that is no driver's it
    changes nothing. Not answered: a live location sends an update every few seconds."""
    fleet_id = router.fleet.fleet_id
    driver = ports.stores.drivers.find_by_chat(fleet_id, shared.chat_id)
    if driver is None:
        logger.info("location from an unregistered chat ignored")
        return
    locate_driver(ports, driver, shared.lat, shared.lng)


def _register(ports: Ports, router: ChannelRouter, chat_id: str, token: str) -> None:
    """Bind the chat to the link's driver. One chat, one driver (SPEC §5): a chat bound to another driver is
    refused and told so (the link is spent: the admin sends a new one to be opened from the driver's own chat)."""
    fleet = router.fleet
    drivers = ports.stores.drivers
    driver_id = (
        ports.stores.registrations.consume(token, fleet.fleet_id, utcnow())
        if START_PAYLOAD_PATTERN.match(token)
        else None
    )
    driver = drivers.get(fleet.fleet_id, driver_id) if driver_id else None
    if driver is None:
        router.to_chat(chat_id, render(fleet, "telegram_link_invalid"))
        return
    try:
        bound = _bind_chat(ports, router, driver, chat_id)
    except ChatAlreadyBound:
        logger.info("telegram chat already bound to another driver", extra={"driver_id": driver.driver_id})
        router.to_chat(chat_id, render(fleet, "telegram_chat_taken"))
        return
    drivers.touch(fleet.fleet_id, bound.driver_id, utcnow())
    logger.info("telegram chat bound", extra={"driver_id": bound.driver_id})
    router.to_chat(chat_id, render(fleet, "telegram_welcome", driver_name=bound.name, fleet_name=fleet.name))


def _bind_chat(ports: Ports, router: ChannelRouter, driver: Driver, chat_id: str) -> Driver:
    """Bind the chat to the driver in the fleet; on the platform's bot, shared by many fleets, the chat is also
    claimed platform-wide (its updates name no fleet). ChatAlreadyBound when another driver holds it."""
    fleet_id = router.fleet.fleet_id
    if router.source("telegram") != "platform":
        return ports.stores.drivers.bind_telegram_chat(driver, chat_id)
    chats = ports.stores.platform_chats
    if not chats.bind(chat_id, fleet_id, driver.driver_id):
        raise ChatAlreadyBound(f"telegram chat {chat_id} is bound to another driver on the platform bot")
    try:
        bound = ports.stores.drivers.bind_telegram_chat(driver, chat_id)
    except ChatAlreadyBound:
        chats.unbind(chat_id, fleet_id, driver.driver_id)
        raise
    if driver.telegram_chat_id and driver.telegram_chat_id != chat_id:
        chats.unbind(driver.telegram_chat_id, fleet_id, driver.driver_id)  # their previous chat is free again
    return bound


def _on_button(ports: Ports, router: ChannelRouter, pressed: PressedButton) -> None:
    action, _, argument = pressed.data.partition(":")
    if action in admin_actions.ACTIONS:
        text, edit = admin_actions.answer_admin_press(
            ports, router.fleet, admin_actions.AdminPress(action, argument, pressed.chat_id)
        )
    else:
        text, edit = _answer_button(ports, router.fleet, pressed), True
    bot = router.telegram_bot()
    if bot is None:
        return
    try:
        bot.answer_callback(pressed.callback_query_id, text)
        # The message shows what was done (and loses its buttons); a refused press leaves it as it was.
        if edit and pressed.chat_id is not None and pressed.message_id is not None:
            edited = f"{pressed.message_text}\n\n{text}".strip()
            bot.edit(pressed.chat_id, pressed.message_id, edited)
    except ChannelError as error:
        # The answer itself is recorded; a lost toast or edit must not make Telegram redeliver it.
        logger.warning("telegram callback answer failed", extra={"error": error.message})


def _answer_button(ports: Ports, fleet: Fleet, press: PressedButton) -> str:
    """The toast text for an Accept (`a:<token>`) or Reject (`r:<token>`) button under a Telegram offer, or the
    Give back (`g:<token>`) button under the "ride is yours" message (SPEC §8)."""
    action, _, token = press.data.partition(":")
    if action not in ("a", "r", GIVE_BACK_BUTTON):
        return render(fleet, "telegram_help")
    try:
        offer, ride = answers.open_offer(ports, token)
    except OfferNotFound:
        return render(fleet, "result_no_open_offer")
    driver = ports.stores.drivers.get(fleet.fleet_id, offer.driver_id)
    # The button answers for the driver whose chat it was sent to, not whoever it was forwarded to.
    if driver is None or ride.fleet_id != fleet.fleet_id or driver.telegram_chat_id != press.user_id:
        return render(fleet, "result_no_open_offer")
    ports.stores.drivers.touch(fleet.fleet_id, driver.driver_id, utcnow())
    if action == GIVE_BACK_BUTTON:
        return give_back_reply(ports, fleet, offer, ride)
    result, ride = answers.answer(ports, offer, ride, accepting=action == "a")
    return render(fleet, f"result_{result}", **ride_values(ride))
