"""The deployment's own channels (SPEC §5): a Twilio account with senders, a Telegram bot and an SES sender,
in one secret named by the `PlatformChannelsSecretName` template parameter. A fleet without its own Twilio
or Telegram config is reached through them; a fleet's own config always wins.

The secret is a flat JSON object of strings (as the fleets' secrets are):
`twilio_account_sid`, `twilio_auth_token`, `twilio_senders` ("sms:+15550009000,whatsapp:+15550009001"),
`telegram_bot_token`, `telegram_bot_username`, `telegram_webhook_secret`, `email_sender`."""

from dataclasses import dataclass

from pydantic import ValidationError

from ridecast.domain.entities import TwilioConfig, TwilioSender
from ridecast.observability import logger


@dataclass(frozen=True)
class PlatformChannels:
    twilio: TwilioConfig | None = None
    twilio_auth_token: str = ""
    telegram_bot_token: str = ""
    telegram_bot_username: str = ""
    telegram_webhook_secret: str = ""
    email_sender: str = ""

    @classmethod
    def from_secret(cls, values: dict[str, str]) -> "PlatformChannels":
        twilio = None
        if values.get("twilio_account_sid") and values.get("twilio_auth_token"):
            try:
                senders = [
                    TwilioSender.model_validate({"channel": channel.strip(), "from": phone.strip()})
                    for channel, _, phone in (s.partition(":") for s in values.get("twilio_senders", "").split(","))
                    if phone
                ]
                twilio = TwilioConfig(account_sid=values["twilio_account_sid"], senders=senders)
            except ValidationError as error:
                # A broken platform secret must not take every fleet down: the platform's Twilio is just absent.
                logger.error("platform Twilio config ignored", extra={"error": str(error)})
        return cls(
            twilio=twilio,
            twilio_auth_token=values.get("twilio_auth_token", "") if twilio else "",
            telegram_bot_token=values.get("telegram_bot_token", ""),
            telegram_bot_username=values.get("telegram_bot_username", ""),
            telegram_webhook_secret=values.get("telegram_webhook_secret", ""),
            email_sender=values.get("email_sender", ""),
        )
