"""The channel ports: what the router hands a provider adapter, what it gets back, and the adapters it asks
for. `ridecast.adapters.channels` implements them with the Telegram Bot API and the Twilio SDK."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from ridecast.domain.entities import TwilioSender
from ridecast.domain.types import MessageChannel
from ridecast.errors import ChannelError


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str


@dataclass(frozen=True)
class OutboundMessage:
    channel: MessageChannel
    # An E.164 phone for SMS and WhatsApp, a chat id for Telegram.
    to: str
    body: str
    buttons: tuple[Button, ...] = ()
    # WhatsApp outside the 24-hour session window needs an approved template.
    content_sid: str | None = None
    content_variables: dict[str, str] = field(default_factory=dict)
    status_callback: str | None = None


@dataclass(frozen=True)
class SendReceipt:
    provider_message_id: str
    chat_id: str | None = None


class ChannelAdapter(Protocol):
    def send(self, message: OutboundMessage) -> SendReceipt:
        """Raises ChannelError when the provider refuses or fails the message."""

    def send_many(self, messages: Sequence[OutboundMessage]) -> list[SendReceipt | ChannelError]:
        """Every message at once (bounded and paced by the adapter), each outcome in the order given: the
        receipt, or the ChannelError that `send` would have raised for it."""

    def probe(self) -> None:
        """The router's health probe (Telegram getMe, Twilio account fetch): raises ChannelError when the
        provider does not answer as healthy."""


class MessageEdit(NamedTuple):
    """A sent Telegram message's new text (its buttons go)."""

    chat_id: str
    message_id: str
    text: str


class TelegramBot(ChannelAdapter, Protocol):
    """A fleet's bot: besides sending, it edits offers in place and answers button presses."""

    def edit(self, chat_id: str, message_id: str, text: str) -> None: ...

    def edit_many(self, edits: Sequence[MessageEdit]) -> list[ChannelError | None]:
        """Every edit at once (paced by the adapter), each outcome in the order given: None, or the
        ChannelError that `edit` would have raised for it."""

    def answer_callback(self, callback_query_id: str, text: str) -> None: ...


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "image/png"
    data: bytes
    # Also shown in the HTML body, as <img src="cid:{filename}">.
    inline: bool = False


@dataclass(frozen=True)
class OutboundEmail:
    to: str
    subject: str
    body: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()


class EmailSender(Protocol):
    def send(self, sender: str, message: OutboundEmail) -> str:
        """The provider's message id; raises ChannelError when the provider refuses or fails it."""


class ChannelProviders(Protocol):
    """Builds the adapter for a fleet's credentials (the router asks once per fleet and invocation)."""

    def email(self) -> EmailSender:
        """The e-mail service (SES); the sender address comes from the platform's channels."""

    def telegram(self, bot_token: str) -> TelegramBot: ...

    def twilio(self, account_sid: str, auth_token: str, senders: Sequence[TwilioSender]) -> ChannelAdapter: ...


@dataclass(frozen=True)
class SignedRequest:
    """A provider's webhook call as its signature covers it: the URL it was sent to and its form fields."""

    url: str
    params: Mapping[str, str]
    signature: str | None


class WebhookVerifier(Protocol):
    def verify(self, auth_token: str, request: SignedRequest) -> bool:
        """True when `request` was signed with `auth_token` (Twilio's X-Twilio-Signature)."""
