"""Typed settings read once from the Lambda environment (template.yaml sets every variable).

Each field comes from the environment variable of its name in upper case (`table_name` ← `TABLE_NAME`),
validated by pydantic as pydantic-settings would. pydantic-settings itself is not used: for this flat read
it would add its dotenv, CLI and cloud sources (~30 ms) to every function's cold start (SPEC §7).
"""

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)  # see DomainModel

    stage: str = "dev"
    table_name: str
    state_machine_arn: str = ""
    root_key_secret_arn: str = ""
    alerts_topic_arn: str = ""
    fleet_secrets_prefix: str = "ridecast/fleets"
    # The deployment's own Twilio/Telegram/SES (ridecast.domain.channels.platform); empty = none.
    platform_channels_secret_name: str = ""
    public_base_url: str = Field(default="http://127.0.0.1:3000")
    twilio_api_base_url: str = "https://api.twilio.com"
    telegram_api_base_url: str = "https://api.telegram.org"
    # Bounded fan-out: parallel sends (and their offer writes) per broadcast, capped so a wave to 1,000
    # drivers does not open 1,000 sockets; providers' own rate limits are paced separately.
    broadcast_concurrency: int = Field(default=100, ge=1, le=512)
    provider_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    # Telegram allows about 30 messages/s per bot; pacing a little under it avoids 429s, each of which
    # stalls the whole bot for its retry_after (at least a second).
    telegram_messages_per_second: float = Field(default=28.0, gt=0)
    # The function that sends operators' messages to drivers, invoked asynchronously by the drivers API.
    messaging_function_name: str = ""
    # SPEC §10: fleets' webhooks are https only; the local stack alone also lets them reach loopback http
    # receivers (template.yaml parameter WebhookAllowLoopback, "false" unless the local stack sets it).
    webhook_allow_loopback: bool = False
    webhook_queue_url: str = ""
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=30)
    # The first retry's delay; later ones double (ridecast.domain.rides.events). Tests shorten it.
    webhook_first_retry_seconds: int = Field(default=60, ge=1, le=3600)
    secrets_cache_seconds: int = Field(default=300, ge=0)
    # A ride still `searching` this long after its deadline is settled by the sweeper.
    sweeper_grace_seconds: int = Field(default=120, ge=0)

    @property
    def base_url(self) -> str:
        return self.public_base_url.rstrip("/")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    variables = {name: os.environ[name.upper()] for name in Settings.model_fields if name.upper() in os.environ}
    return Settings.model_validate(variables)  # table_name has no default: a deployment without it fails here
