"""The channel router: who gets a message on which channel, for one fleet; the adapters do the sending."""

from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property

from ridecast.domain.channels.ports import (
    Button,
    ChannelAdapter,
    ChannelProviders,
    OutboundMessage,
    SendReceipt,
    TelegramBot,
)
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Driver, Fleet
from ridecast.domain.ports import OpsAlerts, Ports, SecretStore
from ridecast.domain.types import MessageChannel
from ridecast.errors import ChannelError, NoSenderForChannel
from ridecast.observability import logger, mask_phone

WHATSAPP_SESSION = timedelta(hours=24)


@dataclass(frozen=True)
class Delivery:
    channel: MessageChannel
    receipt: SendReceipt | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.receipt is not None


class ChannelRouter:
    """The fleet's Telegram bot and Twilio senders, built lazily from its config and secrets."""

    def __init__(self, fleet: Fleet, secrets: SecretStore, providers: ChannelProviders, alerts: OpsAlerts) -> None:
        self.fleet = fleet
        self._secret_store = secrets
        self._providers = providers
        self._alerts = alerts

    @classmethod
    def for_fleet(cls, fleet: Fleet, ports: Ports) -> "ChannelRouter":
        return cls(fleet, ports.secrets, ports.channels, ports.alerts)

    @cached_property
    def _secrets(self) -> dict[str, str]:
        return self._secret_store.fleet_secrets(self.fleet.fleet_id)

    @cached_property
    def _telegram(self) -> TelegramBot | None:
        token = self._secrets.get("telegram_bot_token")
        if not self.fleet.telegram or not token:
            return None
        return self._providers.telegram(token)

    @cached_property
    def _twilio(self) -> ChannelAdapter | None:
        token = self._secrets.get("twilio_auth_token")
        if not self.fleet.twilio or not token:
            return None
        return self._providers.twilio(self.fleet.twilio.account_sid, token, self.fleet.twilio.senders)

    def telegram_bot(self) -> TelegramBot | None:
        return self._telegram

    def adapter(self, channel: MessageChannel) -> ChannelAdapter:
        adapter = self._telegram if channel == "telegram" else self._twilio
        if adapter is None:
            provider = "Telegram bot" if channel == "telegram" else "Twilio account"
            raise NoSenderForChannel(f"fleet has no {provider} configured for {channel}")
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

    def to_chat(self, chat_id: str, body: str) -> Delivery:
        return self.send(OutboundMessage(channel="telegram", to=chat_id, body=body))

    def to_admins(self, subject: str, body: str, **context: str) -> list[Delivery]:
        deliveries = []
        for admin in self.fleet.admin_contacts:
            if admin.telegram_chat_id and self._telegram is not None:
                deliveries.append(self.to_chat(admin.telegram_chat_id, body))
            elif admin.phone:
                deliveries.append(self.to_phone(admin.phone, body))
        self._alerts.publish(subject, body, {"fleet_id": self.fleet.fleet_id, **context})
        return deliveries
