"""The real channel providers the router asks for: a fleet's Telegram bot and Twilio account, and SES."""

from collections.abc import Sequence

from ridecast.domain.channels.ports import ChannelAdapter, EmailSender, TelegramBot
from ridecast.domain.entities import TwilioSender


class ProviderChannels:
    """Imports each provider's client only when a fleet first uses it (a cold start pays for what it uses)."""

    def email(self) -> EmailSender:
        from ridecast.adapters.channels.email import SesEmail

        return SesEmail()

    def telegram(self, bot_token: str) -> TelegramBot:
        from ridecast.adapters.channels.telegram import TelegramBotApi

        return TelegramBotApi(bot_token)

    def twilio(self, account_sid: str, auth_token: str, senders: Sequence[TwilioSender]) -> ChannelAdapter:
        from ridecast.adapters.channels.twilio import TwilioMessaging

        return TwilioMessaging(account_sid, auth_token, senders)
