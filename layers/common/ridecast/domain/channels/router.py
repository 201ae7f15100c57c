"""The channel router: who gets a message on which channel, for one fleet; the adapters do the sending.

SPEC §5: the fleet's own Telegram bot / Twilio account, else the platform's; a mode (`auto`, `telegram-only`,
`twilio-only`); in `auto` a failed send falls back at once for that driver (Telegram → the driver's phone,
WhatsApp → SMS) and an offline channel is skipped. Health and counters: ridecast.domain.channels.ledger."""

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property, partial

from ridecast.domain.channels.catalogue import render
from ridecast.domain.channels.health import (
    OFFLINE_AFTER_FAILURES,
    ChannelHealthStore,
    ChannelSource,
    ChannelStatus,
    RouterChannel,
    RouterMode,
    router_channel,
)
from ridecast.domain.channels.ledger import ChannelLedger
from ridecast.domain.channels.platform import PlatformChannels
from ridecast.domain.channels.ports import (
    Button,
    ChannelAdapter,
    ChannelProviders,
    OutboundEmail,
    OutboundMessage,
    SendReceipt,
    TelegramBot,
)
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Driver, Fleet, TwilioConfig
from ridecast.domain.fan_out import in_parallel
from ridecast.domain.ports import OpsAlerts, Ports, SecretStore, StatsStore
from ridecast.domain.stats.recording import record_sends
from ridecast.domain.types import MessageChannel
from ridecast.errors import ChannelError, NoSenderForChannel
from ridecast.observability import logger, mask_email, mask_phone

WHATSAPP_SESSION = timedelta(hours=24)
# A batch's first messages go out ahead of the rest: enough for a channel that is down to fail three times in a
# row and go offline, so that the rest reach their drivers by the fallback at once.
FIRST_SENDS = 16


@dataclass(frozen=True)
class DriverMessage:
    """What `to_driver(s)` sends one driver: the same body on every route, the Telegram one with buttons."""

    driver: Driver
    body: str
    telegram_body: str | None = None
    buttons: tuple[Button, ...] = ()
    status_callback: str | None = None
    # The fleet's approved WhatsApp template's placeholders, for drivers outside the 24-hour session.
    template_variables: dict[str, str] | None = None
    # Channels already tried for this message (a resend after a failed receipt).
    exclude: frozenset[MessageChannel] = frozenset()


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

    def __init__(
        self,
        fleet: Fleet,
        secrets: SecretStore,
        providers: ChannelProviders,
        alerts: OpsAlerts,
        health: ChannelHealthStore,
        stats: StatsStore | None = None,
    ) -> None:
        self.fleet = fleet
        self._secret_store = secrets
        self._providers = providers
        self._alerts = alerts
        count_sends = None if stats is None else partial(record_sends, stats, fleet.fleet_id)
        self.ledger = ChannelLedger(fleet.fleet_id, health, self._tell_admins_status, count_sends)

    @classmethod
    def for_fleet(cls, fleet: Fleet, ports: Ports) -> "ChannelRouter":
        return cls(fleet, ports.secrets, ports.channels, ports.alerts, ports.stores.channel_health, ports.stores.stats)

    @cached_property
    def _secrets(self) -> dict[str, str]:
        return self._secret_store.fleet_secrets(self.fleet.fleet_id)

    @cached_property
    def platform(self) -> PlatformChannels:
        return PlatformChannels.from_secret(self._secret_store.platform_secrets())

    def source(self, channel: RouterChannel) -> ChannelSource | None:
        """Whose account reaches the channel: the fleet's own always wins over the platform's."""
        if channel == "telegram":
            if self.fleet.telegram and self._secrets.get("telegram_bot_token"):
                return "fleet"
            return "platform" if self.platform.telegram_bot_token else None
        if self.fleet.twilio and self._secrets.get("twilio_auth_token"):
            return "fleet"
        return "platform" if self.platform.twilio else None

    @cached_property
    def twilio_config(self) -> TwilioConfig | None:
        source = self.source("twilio")
        return self.fleet.twilio if source == "fleet" else self.platform.twilio if source == "platform" else None

    def can_reach(self, channel: MessageChannel) -> bool:
        """Whether a driver on `channel` can be reached at all (by the fleet's or the platform's account)."""
        if channel == "telegram":
            return self.source("telegram") is not None
        config = self.twilio_config
        return config is not None and any(s.channel == channel for s in config.senders)

    @cached_property
    def _telegram(self) -> TelegramBot | None:
        source = self.source("telegram")
        if source is None:
            return None
        token = self._secrets["telegram_bot_token"] if source == "fleet" else self.platform.telegram_bot_token
        return self._providers.telegram(token)

    @cached_property
    def _twilio(self) -> ChannelAdapter | None:
        config = self.twilio_config
        if config is None:
            return None
        token = (
            self._secrets["twilio_auth_token"] if self.source("twilio") == "fleet" else self.platform.twilio_auth_token
        )
        return self._providers.twilio(config.account_sid, token, config.senders)

    @property
    def mode(self) -> RouterMode:
        return self.ledger.state.mode

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Outcomes of the sends inside are written once per channel at the end (a wave: 2 writes, not N)."""
        self.ledger.begin()
        try:
            yield
        finally:
            self.ledger.end()

    def probe(self, channel: RouterChannel) -> ChannelStatus | None:
        """Ask the provider whether the channel is healthy (getMe, account fetch) and move its status; None
        when the fleet has no such channel."""
        adapter = self._telegram if channel == "telegram" else self._twilio
        if adapter is None:
            return None
        try:
            adapter.probe()
        except ChannelError as error:
            logger.warning("channel probe failed", extra={"channel": channel, "error": error.message})
            self.ledger.set_status(channel, "offline")
            return "offline"
        if not self.ledger.set_status(channel, "online"):
            self.ledger.mark_online_quietly(channel)
        return "online"

    def _tell_admins_status(self, channel: RouterChannel, status: ChannelStatus) -> None:
        kind = "admin_channel_offline" if status == "offline" else "admin_channel_recovered"
        body = render(self.fleet, kind, fleet_name=self.fleet.name, channel=channel, count=str(OFFLINE_AFTER_FAILURES))
        self.to_admins(f"Ridecast channel {channel} {status}", body, kind=kind, channel=channel)

    def telegram_bot(self) -> TelegramBot | None:
        return self._telegram

    def telegram_username(self) -> str | None:
        """The bot the fleet's drivers register with: its own, else the platform's; None when neither."""
        source = self.source("telegram")
        if source == "fleet" and self.fleet.telegram is not None:
            return self.fleet.telegram.bot_username
        return (self.platform.telegram_bot_username or None) if source == "platform" else None

    def adapter(self, channel: MessageChannel) -> ChannelAdapter:
        adapter = self._telegram if channel == "telegram" else self._twilio
        if adapter is None:
            provider = "Telegram bot" if channel == "telegram" else "Twilio account"
            raise NoSenderForChannel(f"fleet has no {provider} configured for {channel}")
        return adapter

    def send(self, message: OutboundMessage) -> Delivery:
        started = time.perf_counter()
        try:
            result: SendReceipt | ChannelError = self.adapter(message.channel).send(message)
        except ChannelError as error:  # NoSenderForChannel too: `_delivery` tells them apart
            result = error
        return self._delivery(message, result, started)

    def _record(self, channel: MessageChannel, started: float, *, ok: bool, provider_failure: bool) -> None:
        latency_ms = (time.perf_counter() - started) * 1000
        at = utcnow()
        self.ledger.record(
            router_channel(channel), ok, latency_ms, at, provider_failure=provider_failure, sent_on=channel
        )

    def driver_routes(
        self, driver: Driver, exclude: frozenset[MessageChannel] = frozenset()
    ) -> list[tuple[MessageChannel, str]]:
        """Where to try the driver, in order: their own channel, then the fallback (`auto` only); a channel
        that is offline goes last, one the mode forbids or no account reaches is left out."""
        mode = self.mode
        first = self.driver_channel(driver)
        phone_fallback: MessageChannel = "sms" if self.can_reach("sms") else "whatsapp"
        if first[0] == "telegram":
            routes = [first, (phone_fallback, driver.phone)]
        elif first[0] == "whatsapp":
            routes = [first, ("sms", driver.phone)]
        else:
            routes = [first] + ([("telegram", driver.telegram_chat_id)] if driver.telegram_chat_id else [])
        if mode == "telegram-only":
            routes = [("telegram", driver.telegram_chat_id)] if driver.telegram_chat_id else []
        elif mode == "twilio-only":
            routes = [r for r in routes if r[0] != "telegram"]
        routes = [r for r in routes if r[0] not in exclude and self.can_reach(r[0])]
        if mode != "auto":
            return routes  # the one channel allowed, offline or not
        online = [r for r in routes if not self.ledger.is_offline(router_channel(r[0]))]
        return online + [r for r in routes if r not in online]

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
        exclude: frozenset[MessageChannel] = frozenset(),
    ) -> Delivery:
        """The message on the driver's first route that takes it (SPEC §5 fallback: at once, same body)."""
        message = DriverMessage(driver, body, telegram_body, buttons, status_callback, template_variables, exclude)
        return self.to_drivers([message])[0]

    def to_drivers(self, messages: Sequence[DriverMessage], first: int = FIRST_SENDS) -> list[Delivery]:
        """`to_driver` for many drivers, each provider's share of a round in one batch: every driver's first
        route, then the fallbacks of those it failed, and so on. The `first` drivers go ahead of the rest, so
        that a channel they find down (offline after three failures) is tried last for everyone after them,
        as `to_driver` one by one would; the rest go in one batch."""
        ahead, rest = messages[:first], messages[first:]
        return self._to_group(ahead) + (self._to_group(rest) if rest else [])

    def _to_group(self, messages: Sequence[DriverMessage]) -> list[Delivery]:
        routes = [iter(self.driver_routes(m.driver, m.exclude)) for m in messages]
        outcome: list[Delivery | None] = [None] * len(messages)
        waiting = set(range(len(messages)))  # drivers whose message no route has taken yet
        while waiting:
            round_ = {}
            for i in sorted(waiting):
                route = next(routes[i], None)
                if route is None:
                    waiting.discard(i)
                else:
                    round_[i] = self._outbound(messages[i], *route)
            for i, delivery in self._send_round(round_).items():
                outcome[i] = delivery
                if delivery.ok:
                    waiting.discard(i)
        return [
            delivery if delivery is not None else self._unreachable(message.driver)
            for message, delivery in zip(messages, outcome, strict=True)
        ]

    def _outbound(self, message: DriverMessage, channel: MessageChannel, address: str) -> OutboundMessage:
        if channel == "telegram":
            body = message.telegram_body or message.body
            return OutboundMessage(channel=channel, to=address, body=body, buttons=message.buttons)
        variables = message.template_variables
        if channel == "whatsapp" and variables and (content_sid := self._whatsapp_template(message.driver)):
            return OutboundMessage(
                channel=channel,
                to=address,
                body=message.body,
                content_sid=content_sid,
                content_variables=variables,
                status_callback=message.status_callback,
            )
        return OutboundMessage(channel=channel, to=address, body=message.body, status_callback=message.status_callback)

    def _send_round(self, round_: dict[int, OutboundMessage]) -> dict[int, Delivery]:
        """One batch per provider (side by side when a round needs both), outcomes recorded in driver order;
        a lone message goes by `send`."""
        if len(round_) == 1:
            ((i, message),) = round_.items()
            return {i: self.send(message)}
        shares: dict[str, list[int]] = {}
        deliveries: dict[int, Delivery] = {}
        for i, message in round_.items():
            provider = "telegram" if message.channel == "telegram" else "twilio"
            try:
                self.adapter(message.channel)
            except NoSenderForChannel as error:
                deliveries[i] = self._delivery(message, error, time.perf_counter())
                continue
            shares.setdefault(provider, []).append(i)
        started = time.perf_counter()

        def send_share(indexes: list[int]) -> list[SendReceipt | ChannelError]:
            return self.adapter(round_[indexes[0]].channel).send_many([round_[i] for i in indexes])

        sent = in_parallel(send_share, list(shares.values()))
        for indexes, outcomes in zip(shares.values(), sent, strict=True):
            for i, result in zip(indexes, outcomes, strict=True):
                deliveries[i] = self._delivery(round_[i], result, started)
        return dict(sorted(deliveries.items()))

    def _delivery(self, message: OutboundMessage, result: SendReceipt | ChannelError, started: float) -> Delivery:
        """Record the outcome of one send (in a batch, the batch's time is each message's latency); a message
        for which the fleet has no sender is not the provider's failure and is not recorded."""
        if isinstance(result, NoSenderForChannel):
            return Delivery(channel=message.channel, receipt=None, error=result.message)
        if isinstance(result, ChannelError):
            logger.warning(
                "message not delivered",
                extra={"channel": message.channel, "to": mask_phone(message.to), "error": result.message},
            )
            self._record(message.channel, started, ok=False, provider_failure=result.retryable)
            return Delivery(channel=message.channel, receipt=None, error=result.message)
        self._record(message.channel, started, ok=True, provider_failure=False)
        return Delivery(channel=message.channel, receipt=result)

    def _unreachable(self, driver: Driver) -> Delivery:
        reason = f"no channel reaches this driver (router mode {self.mode})"
        return Delivery(channel=self.driver_channel(driver)[0], receipt=None, error=reason)

    def _whatsapp_template(self, driver: Driver) -> str | None:
        """The fleet's offer template when the driver is outside WhatsApp's 24-hour session, which delivers
        only approved templates; None inside it, or when the fleet has no template."""
        config = self.twilio_config
        if config is None or config.offer_content_sid is None:
            return None
        last = driver.last_whatsapp_inbound_at
        return config.offer_content_sid if last is None or utcnow() - last >= WHATSAPP_SESSION else None

    def to_phone(self, phone: str, body: str) -> Delivery:
        return self.send(OutboundMessage(channel="sms", to=phone, body=body))

    def to_chat(self, chat_id: str, body: str, buttons: tuple[Button, ...] = ()) -> Delivery:
        return self.send(OutboundMessage(channel="telegram", to=chat_id, body=body, buttons=buttons))

    def to_admins(self, subject: str, body: str, buttons: tuple[Button, ...] = (), **context: str) -> list[Delivery]:
        """An alert: each admin told (`tell_admins`, with `buttons` to act on it on Telegram), and the ops topic."""
        deliveries = self.tell_admins(subject, body, buttons)
        self._alerts.publish(subject, body, {"fleet_id": self.fleet.fleet_id, **context})
        return deliveries

    def tell_admins(self, subject: str, body: str, buttons: tuple[Button, ...] = ()) -> list[Delivery]:
        """Each admin on Telegram or by SMS, and by e-mail too where they have an address."""
        deliveries = []
        for admin in self.fleet.admin_contacts:
            telegram_usable = self._telegram is not None and self.mode != "twilio-only"
            if admin.telegram_chat_id and telegram_usable and not self.ledger.is_offline("telegram"):
                deliveries.append(self.to_chat(admin.telegram_chat_id, body, buttons))
            elif admin.phone:
                deliveries.append(self.to_phone(admin.phone, body))
            if admin.email:
                self.email(OutboundEmail(to=admin.email, subject=subject, body=body))
        return deliveries

    def email(self, message: OutboundEmail) -> bool:
        """Send through SES from the platform's sender; False (logged) when there is none or SES fails it."""
        sender = self.platform.email_sender
        if not sender:
            logger.info("e-mail skipped: the platform has no email_sender", extra={"to": mask_email(message.to)})
            return False
        try:
            self._providers.email().send(sender, message)
        except ChannelError as error:
            logger.warning("e-mail not sent", extra={"to": mask_email(message.to), "error": error.message})
            return False
        return True
