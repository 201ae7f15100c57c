"""Who gets a message on which channel, for one fleet; the adapters do the sending."""

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from ridecast.adapters import alerts, secrets
from ridecast.adapters.channels.base import Button, ChannelAdapter, OutboundMessage, SendReceipt
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Driver, Fleet, TwilioSender
from ridecast.domain.types import MessageChannel
from ridecast.errors import ChannelError, ChannelNotConfigured
from ridecast.observability import logger, mask_phone

if TYPE_CHECKING:
    from ridecast.adapters.channels.telegram import TelegramBot


def _telegram_bot_class() -> type["TelegramBot"]:
    from ridecast.adapters.channels.telegram import TelegramBot

    return TelegramBot


WHATSAPP_SESSION = timedelta(hours=24)


@dataclass(frozen=True)
class Delivery:
    channel: MessageChannel
    receipt: SendReceipt | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.receipt is not None


class FleetChannels:
    """The fleet's Telegram bot and Twilio senders, built lazily from its config and secrets."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    @cached_property
    def _secrets(self) -> dict[str, str]:
        return secrets.fleet_secrets(self.fleet.fleet_id)

    @cached_property
    def _telegram(self) -> ChannelAdapter | None:
        token = self._secrets.get("telegram_bot_token")
        if not self.fleet.telegram or not token:
            return None
        from ridecast.adapters.channels.telegram import TelegramBot

        return TelegramBot(token)

    @cached_property
    def _twilio(self) -> ChannelAdapter | None:
        token = self._secrets.get("twilio_auth_token")
        if not self.fleet.twilio or not token:
            return None
        from ridecast.adapters.channels.twilio import TwilioMessaging

        senders: dict[str, list[TwilioSender]] = {}
        for sender in self.fleet.twilio.senders:
            senders.setdefault(sender.channel, []).append(sender)
        return TwilioMessaging(self.fleet.twilio.account_sid, token, senders)

    def telegram_bot(self) -> "TelegramBot | None":
        bot = self._telegram
        return bot if isinstance(bot, _telegram_bot_class()) else None

    def adapter(self, channel: MessageChannel) -> ChannelAdapter:
        adapter = self._telegram if channel == "telegram" else self._twilio
        if adapter is None:
            provider = "Telegram bot" if channel == "telegram" else "Twilio account"
            raise ChannelNotConfigured(f"fleet has no {provider} configured for {channel}")
        return adapter

    def send(self, message: OutboundMessage) -> Delivery:
        try:
            receipt = self.adapter(message.channel).send(message)
        except ChannelError as error:
            logger.warning(
                "message not delivered",
                extra={"channel": message.channel, "to": mask_phone(message.to), "error": error.message},
            )
            return Delivery(channel=message.channel, receipt=None, error=error.message)
        return Delivery(channel=message.channel, receipt=receipt)

    def driver_channel(self, driver: Driver) -> tuple[MessageChannel, str]:
        """Telegram drivers who have not opened their registration link yet are reached by SMS."""
        if driver.channel == "telegram":
            if driver.telegram_chat_id:
                return "telegram", driver.telegram_chat_id
            return "sms", driver.phone
        return driver.channel, driver.phone

    def to_driver(
        self,
        driver: Driver,
        body: str,
        *,
        telegram_body: str | None = None,
        buttons: tuple[Button, ...] = (),
        status_callback: str | None = None,
        template_variables: dict[str, str] | None = None,
    ) -> Delivery:
        channel, address = self.driver_channel(driver)
        if channel == "telegram":
            message = OutboundMessage(channel=channel, to=address, body=telegram_body or body, buttons=buttons)
        elif channel == "whatsapp" and template_variables and (content_sid := self._whatsapp_template(driver)):
            message = OutboundMessage(
                channel=channel,
                to=address,
                body=body,
                content_sid=content_sid,
                content_variables=template_variables,
                status_callback=status_callback,
            )
        else:
            message = OutboundMessage(channel=channel, to=address, body=body, status_callback=status_callback)
        return self.send(message)

    def _whatsapp_template(self, driver: Driver) -> str | None:
        """The fleet's offer template when the driver is outside WhatsApp's 24-hour session, which delivers
        only approved templates; None inside it, or when the fleet has no template."""
        if self.fleet.twilio is None or self.fleet.twilio.offer_content_sid is None:
            return None
        last = driver.last_whatsapp_inbound_at
        return self.fleet.twilio.offer_content_sid if last is None or utcnow() - last >= WHATSAPP_SESSION else None

    def to_phone(self, phone: str, body: str) -> Delivery:
        return self.send(OutboundMessage(channel="sms", to=phone, body=body))

    def to_admins(self, subject: str, body: str, **context: str) -> list[Delivery]:
        deliveries = []
        for admin in self.fleet.admin_contacts:
            if admin.telegram_chat_id and self._telegram is not None:
                deliveries.append(self.send(OutboundMessage(channel="telegram", to=admin.telegram_chat_id, body=body)))
            elif admin.phone:
                deliveries.append(self.to_phone(admin.phone, body))
        alerts.publish(subject, body, {"fleet_id": self.fleet.fleet_id, **context})
        return deliveries
