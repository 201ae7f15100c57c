"""Twilio adapter (SMS and WhatsApp) through the official SDK, imported only when a message goes out."""

import json
import zlib
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from ridecast.adapters.channels.pacing import pacer_for
from ridecast.domain.channels.ports import OutboundMessage, SendReceipt, SignedRequest
from ridecast.domain.entities import TwilioSender
from ridecast.errors import ChannelError, NoSenderForChannel
from ridecast.settings import get_settings

if TYPE_CHECKING:
    from twilio.rest import Client


class TwilioMessaging:
    def __init__(self, account_sid: str, auth_token: str, senders: Sequence[TwilioSender]) -> None:
        self._client = _client(account_sid, auth_token)
        self._account_sid = account_sid
        self._senders: dict[str, list[TwilioSender]] = {}
        for sender in senders:
            self._senders.setdefault(sender.channel, []).append(sender)

    def send(self, message: OutboundMessage) -> SendReceipt:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        candidates = self._senders.get(message.channel)
        if not candidates:
            raise NoSenderForChannel(f"no Twilio {message.channel} sender configured for this fleet")
        # Several senders share the load; each recipient always hears from the same one, so replies and
        # WhatsApp conversations stay on one number.
        configured = candidates[zlib.crc32(message.to.encode()) % len(candidates)]
        sender = configured.from_
        prefix = "whatsapp:" if message.channel == "whatsapp" else ""
        kwargs: dict[str, object] = {"to": prefix + message.to, "from_": prefix + sender}
        if message.content_sid:
            kwargs["content_sid"] = message.content_sid
            kwargs["content_variables"] = json.dumps(message.content_variables)
        else:
            kwargs["body"] = message.body
        if message.status_callback:
            kwargs["status_callback"] = message.status_callback
        if configured.messages_per_second:
            pacer_for(f"twilio:{sender}", configured.messages_per_second).wait()
        try:
            created = self._client.messages.create(**kwargs)
        except TwilioRestException as error:
            raise ChannelError(
                f"twilio: {error.msg}",
                retryable=error.status >= 500 or error.status == 429,
                provider_code=str(error.code or error.status),
            ) from None
        except TwilioException as error:
            raise ChannelError(f"twilio: {type(error).__name__}", retryable=True) from None
        except OSError as error:
            raise ChannelError(f"twilio: {type(error).__name__}", retryable=True) from None
        return SendReceipt(provider_message_id=str(created.sid))

    def probe(self) -> None:
        """GET /2010-04-01/Accounts/{sid}.json: the account answers, and is active."""
        from twilio.base.exceptions import TwilioException

        try:
            account = self._client.api.v2010.accounts(self._account_sid).fetch()
        except (TwilioException, OSError) as error:
            raise ChannelError(f"twilio account fetch: {type(error).__name__}", retryable=True) from None
        if account.status not in (None, "active"):
            raise ChannelError(f"twilio account is {account.status}")


@lru_cache(maxsize=64)
def _client(account_sid: str, auth_token: str) -> "Client":
    from requests.adapters import HTTPAdapter
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    settings = get_settings()
    http_client = TwilioHttpClient(timeout=settings.provider_timeout_seconds, pool_connections=True)
    if http_client.session is not None:
        # requests keeps 10 connections per host by default: a 64-wide broadcast would open (and TLS
        # handshake) a fresh connection for most messages.
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=settings.broadcast_concurrency)
        http_client.session.mount("https://", adapter)
        http_client.session.mount("http://", adapter)
        # Reading proxy settings from the environment on every request cost ~1.6 ms of CPU per message.
        http_client.session.trust_env = False
    client = Client(account_sid, auth_token, http_client=http_client)
    # The API host is configuration so the local stack can point the real SDK at its stand-in.
    client.api.base_url = settings.twilio_api_base_url.rstrip("/")
    return client


class TwilioSignatures:
    """Checks X-Twilio-Signature with the SDK's RequestValidator (imported on the webhook paths only)."""

    def verify(self, auth_token: str, request: SignedRequest) -> bool:
        from twilio.request_validator import RequestValidator

        if not request.signature:
            return False
        return bool(RequestValidator(auth_token).validate(request.url, dict(request.params), request.signature))
