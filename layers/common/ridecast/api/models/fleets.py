"""Fleets and their API keys: request and response bodies (SPEC §3). Secrets never leave."""

from datetime import datetime
from typing import Self
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from pydantic import Field, field_validator

from ridecast.api.models.base import (
    MASK,
    AdminContactInput,
    ApiInput,
    ApiOutput,
    FleetSettingsInput,
    PatchRequest,
    TwilioSenderInput,
)
from ridecast.domain.entities import (
    AdminContact,
    ApiKey,
    Fleet,
    FleetSettings,
    FleetWebhook,
    RideEventType,
    TwilioSender,
)
from ridecast.domain.types import (
    Language,
    Name,
    Role,
    TwilioChannel,
)
from ridecast.settings import get_settings


def _known_timezone(value: str | None) -> str | None:
    if value is not None and value not in _timezones():
        raise ValueError(f"unknown timezone {value!r}; use an IANA name such as 'Europe/London'")
    return value


_TIMEZONES: set[str] = set()


def _timezones() -> set[str]:
    if not _TIMEZONES:
        _TIMEZONES.update(available_timezones() | {"UTC"})
    return _TIMEZONES


class TwilioInput(ApiInput):
    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: str = Field(min_length=16, max_length=128)
    senders: list[TwilioSenderInput] = Field(min_length=1, max_length=50)
    offer_content_sid: str | None = Field(default=None, pattern=r"^HX[0-9a-fA-F]{32}$")


class TelegramInput(ApiInput):
    bot_token: str = Field(pattern=r"^\d{3,20}:[A-Za-z0-9_-]{20,100}$")
    bot_username: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
    # Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and - in secret_token.
    webhook_secret: str = Field(pattern=r"^[A-Za-z0-9_-]{16,256}$")


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _webhook_url(value: str) -> str:
    """https only (SPEC §10): events carry customers' names and phones. Loopback http is for the local stack."""
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return value
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS and get_settings().webhook_allow_loopback:
        return value
    raise ValueError("url must be an https:// URL")


class WebhookInput(ApiInput):
    url: str = Field(max_length=2048, description="https:// (loopback http:// only in the local stack)")
    events: list[RideEventType] | None = Field(
        default=None, min_length=1, max_length=7, description="ride events to send; left out: all of them"
    )

    _url = field_validator("url")(_webhook_url)


class WebhookPatch(WebhookInput):
    rotate_secret: bool = Field(default=False, description="issue a new signing secret (shown once)")


class FleetSettingsPatch(PatchRequest):
    cannot_be_null = (
        "driver_response_seconds",
        "matching_timeout_seconds",
        "low_availability_threshold",
        "max_rides_per_minute",
        "max_messages_per_customer_per_hour",
        "prebook_lead_minutes",
        "max_reallocations",
    )

    driver_response_seconds: int | None = Field(default=None, ge=1, le=3600)
    matching_timeout_seconds: int | None = Field(default=None, ge=1, le=86400)
    low_availability_threshold: int | None = Field(default=None, ge=0, le=100000)
    max_rides_per_minute: int | None = Field(default=None, ge=1, le=100000)
    max_messages_per_customer_per_hour: int | None = Field(default=None, ge=1, le=10000)
    prebook_lead_minutes: int | None = Field(default=None, ge=0, le=1440)
    max_reallocations: int | None = Field(default=None, ge=0, le=10)


class CreateFleetRequest(ApiInput):
    name: Name
    timezone: str = "UTC"
    language: Language = "en"
    admin_contacts: list[AdminContactInput] = Field(default_factory=list, max_length=20)
    settings: FleetSettingsInput = Field(default_factory=FleetSettingsInput)
    twilio: TwilioInput | None = None
    telegram: TelegramInput | None = None
    webhook: WebhookInput | None = None

    _tz = field_validator("timezone")(_known_timezone)


class UpdateFleetRequest(PatchRequest):
    cannot_be_null = ("name", "timezone", "language", "admin_contacts", "settings", "twilio", "telegram")

    name: Name | None = None
    timezone: str | None = None
    language: Language | None = None
    admin_contacts: list[AdminContactInput] | None = Field(default=None, max_length=20)
    settings: FleetSettingsPatch | None = None
    twilio: TwilioInput | None = None
    telegram: TelegramInput | None = None
    webhook: WebhookPatch | None = Field(default=None, description="null removes the webhook")

    _tz = field_validator("timezone")(_known_timezone)


class TwilioSenderOut(ApiOutput):
    channel: TwilioChannel
    from_: str = Field(alias="from")
    messages_per_second: float | None = None

    @classmethod
    def from_domain(cls, sender: TwilioSender) -> Self:
        return cls(channel=sender.channel, from_=sender.from_, messages_per_second=sender.messages_per_second)


class TwilioOut(ApiOutput):
    account_sid: str
    auth_token: str = MASK
    senders: list[TwilioSenderOut]
    offer_content_sid: str | None = None


class TelegramOut(ApiOutput):
    bot_username: str
    bot_token: str = MASK
    webhook_secret: str = MASK


class WebhookOut(ApiOutput):
    url: str
    events: list[RideEventType]
    failures: int = Field(description="deliveries that failed (each failed attempt counts)")
    last_error: str | None
    last_failure_at: datetime | None

    @classmethod
    def from_domain(cls, webhook: FleetWebhook) -> Self:
        return cls(**webhook.model_dump())


class FleetOut(ApiOutput):
    fleet_id: str
    name: str
    timezone: str
    language: Language
    admin_contacts: list[AdminContact]
    settings: FleetSettings
    twilio: TwilioOut | None = None
    telegram: TelegramOut | None = None
    webhook: WebhookOut | None = None
    dispatch_paused: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, fleet: Fleet, **shown_once: str | None) -> Self:
        return cls(
            **shown_once,
            fleet_id=fleet.fleet_id,
            name=fleet.name,
            timezone=fleet.timezone,
            language=fleet.language,
            admin_contacts=fleet.admin_contacts,
            settings=fleet.settings,
            twilio=TwilioOut(
                account_sid=fleet.twilio.account_sid,
                senders=[TwilioSenderOut.from_domain(s) for s in fleet.twilio.senders],
                offer_content_sid=fleet.twilio.offer_content_sid,
            )
            if fleet.twilio
            else None,
            telegram=TelegramOut(bot_username=fleet.telegram.bot_username) if fleet.telegram else None,
            webhook=WebhookOut.from_domain(fleet.webhook) if fleet.webhook else None,
            dispatch_paused=fleet.dispatch_paused,
            created_at=fleet.created_at,
            updated_at=fleet.updated_at,
        )


_SHOWN_ONCE = "The webhook's signing secret (whsec_...), shown once; kept in Secrets Manager."


class UpdatedFleetOut(FleetOut):
    webhook_secret: str | None = Field(default=None, description=_SHOWN_ONCE + " Set when first set or rotated.")


class CreatedFleetOut(FleetOut):
    api_key: str = Field(description="The fleet's admin key. Shown once; only its hash is stored.")
    webhook_secret: str | None = Field(default=None, description=_SHOWN_ONCE)


class CreateApiKeyRequest(ApiInput):
    role: Role
    label: Name | None = None


class ApiKeyOut(ApiOutput):
    key_id: str
    role: Role
    label: str | None
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_domain(cls, key: ApiKey, **shown_once: str) -> Self:
        return cls(
            **shown_once,
            key_id=key.key_id,
            role=key.role,
            label=key.label,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


class CreatedApiKeyOut(ApiKeyOut):
    api_key: str = Field(description="Shown once; only its hash is stored.")


class ApiKeyListOut(ApiOutput):
    api_keys: list[ApiKeyOut]


class MeOut(ApiOutput):
    """Who the calling key is: what a client (the console) needs to greet it in the fleet's language."""

    fleet_id: str
    fleet_name: str
    role: Role
    language: Language
    timezone: str
    dispatch_paused: bool

    @classmethod
    def from_domain(cls, fleet: Fleet, role: Role) -> Self:
        return cls(
            fleet_id=fleet.fleet_id,
            fleet_name=fleet.name,
            role=role,
            language=fleet.language,
            timezone=fleet.timezone,
            dispatch_paused=fleet.dispatch_paused,
        )
