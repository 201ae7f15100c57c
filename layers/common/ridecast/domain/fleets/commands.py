"""What a caller asks of the fleets domain, in domain terms (the API maps its request models onto these).
Provider credentials arrive here once and go straight to the secret store."""

from pydantic import Field

from ridecast.domain.entities import AdminContact, DomainModel, FleetSettings, RideEventType, TwilioSender
from ridecast.domain.types import Language, Name


class TwilioAccount(DomainModel):
    account_sid: str
    auth_token: str
    senders: list[TwilioSender] = Field(min_length=1)
    offer_content_sid: str | None = None


class TelegramBotAccount(DomainModel):
    bot_token: str
    bot_username: str
    webhook_secret: str


class WebhookSubscription(DomainModel):
    url: str
    events: list[RideEventType] | None = None  # None: every ride event
    rotate_secret: bool = False


class NewFleet(DomainModel):
    name: Name
    timezone: str = "UTC"
    language: Language = "en"
    admin_contacts: list[AdminContact] = Field(default_factory=list)
    settings: FleetSettings = Field(default_factory=FleetSettings)
    twilio: TwilioAccount | None = None
    telegram: TelegramBotAccount | None = None
    webhook: WebhookSubscription | None = None


class FleetSettingsChanges(DomainModel):
    driver_response_seconds: int | None = None
    matching_timeout_seconds: int | None = None
    low_availability_threshold: int | None = None
    max_rides_per_minute: int | None = None
    max_messages_per_customer_per_hour: int | None = None
    prebook_lead_minutes: int | None = None
    max_reallocations: int | None = None


class FleetChanges(DomainModel):
    """Only the fields a caller set change (build it with `exclude_unset`)."""

    name: Name | None = None
    timezone: str | None = None
    language: Language | None = None
    admin_contacts: list[AdminContact] | None = None
    settings: FleetSettingsChanges | None = None
    twilio: TwilioAccount | None = None
    telegram: TelegramBotAccount | None = None
    webhook: WebhookSubscription | None = None  # set to None: the webhook is removed
