"""The domain objects: what a fleet, driver, ride and offer are, independent of API and table."""

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ridecast.domain.types import (
    ChatId,
    DriverChannel,
    DriverStatus,
    Email,
    Language,
    Name,
    OfferStatus,
    Phone,
    RideStatus,
    Role,
    Text,
    TwilioChannel,
)


class DomainModel(BaseModel):
    # defer_build: a handler builds the validators of the models it uses on first use, not every model
    # of the module at import (a Lambda cold start pays for what it imports).
    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)


class FleetSettings(DomainModel):
    driver_response_seconds: int = Field(default=30, ge=1, le=3600)
    matching_timeout_seconds: int = Field(default=300, ge=1, le=86400)
    # Admins are warned when a ride starts with fewer eligible drivers than this (0 = never).
    low_availability_threshold: int = Field(default=0, ge=0, le=100000)
    # SPEC §11: what a caller can make Ridecast send to numbers it chooses. A busy desk books a ride every
    # few seconds; a customer hears about 2 messages per ride, so 10 an hour covers several real bookings.
    max_rides_per_minute: int = Field(default=60, ge=1, le=100000)
    max_messages_per_customer_per_hour: int = Field(default=10, ge=1, le=10000)
    # SPEC §4 step 0: a ride whose pickup is further away than this waits `scheduled`, and its matching
    # starts this many minutes before the pickup.
    prebook_lead_minutes: int = Field(default=15, ge=0, le=1440)
    # SPEC §8: how often one ride may go back to matching (give backs and driver-less reassigns); past it
    # the ride times out and the admins take over, so a ride nobody keeps cannot bounce around for ever.
    max_reallocations: int = Field(default=2, ge=0, le=10)

    @model_validator(mode="after")
    def _timeout_covers_one_window(self) -> Self:
        if self.matching_timeout_seconds < self.driver_response_seconds:
            raise ValueError("matching_timeout_seconds must not be below driver_response_seconds")
        return self


class AdminContact(DomainModel):
    name: Name
    phone: Phone | None = None
    telegram_chat_id: ChatId | None = None
    # Alerts and the daily report also go by e-mail (SES, the platform's sender) where an admin has one.
    email: Email | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not self.phone and not self.telegram_chat_id and not self.email:
            raise ValueError("an admin contact needs a phone, a telegram_chat_id or an email")
        return self


class TwilioSender(DomainModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    channel: TwilioChannel
    from_: Phone = Field(alias="from")
    # The sender's throughput (1 for a US long code, more for short codes and toll-free). Unset, sends
    # are not paced here and Twilio queues what exceeds the sender's rate.
    messages_per_second: float | None = Field(default=None, gt=0, le=10000)

    @field_validator("from_", mode="before")
    @classmethod
    def _one_form(cls, value: object, info: ValidationInfo) -> object:
        """Twilio writes WhatsApp senders `whatsapp:+E164`; either form is accepted and E.164 is what is kept."""
        if info.data.get("channel") == "whatsapp" and isinstance(value, str) and value.startswith("whatsapp:"):
            return value.removeprefix("whatsapp:")
        return value


class TwilioConfig(DomainModel):
    """What is public about a fleet's Twilio account; the auth token lives in Secrets Manager."""

    account_sid: str = Field(pattern=r"^AC[0-9a-fA-F]{32}$")
    senders: list[TwilioSender] = Field(min_length=1, max_length=50)
    offer_content_sid: str | None = Field(default=None, pattern=r"^HX[0-9a-fA-F]{32}$")


class TelegramConfig(DomainModel):
    """What is public about a fleet's bot; token and webhook secret live in Secrets Manager."""

    bot_username: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$")


# SPEC §10: what a fleet's own systems can subscribe to, one event per ride transition.
RideEventType = Literal[
    "ride.scheduled",
    "ride.searching",
    "ride.assigned",
    "ride.timed_out",
    "ride.cancelled",
    "ride.failed",
    "ride.reassigned",
]


class FleetWebhook(DomainModel):
    """Where a fleet's ride events go; the signing secret lives in Secrets Manager. The failure fields are
    written by the delivery function alone (one atomic update), so a fleet sees its receiver failing."""

    url: str
    events: list[RideEventType]
    failures: int = 0
    last_error: str | None = None
    last_failure_at: datetime | None = None


class Fleet(DomainModel):
    fleet_id: str
    name: Name
    # The fleet's own day: the daily report covers its local yesterday (ridecast.domain.stats.daily_report).
    timezone: str = "UTC"
    language: Language = "en"
    admin_contacts: list[AdminContact] = Field(default_factory=list)
    settings: FleetSettings = Field(default_factory=FleetSettings)
    twilio: TwilioConfig | None = None
    telegram: TelegramConfig | None = None
    webhook: FleetWebhook | None = None
    # POST /dispatch/pause (SPEC §5 emergency control): new rides are held, not broadcast, until resume.
    dispatch_paused: bool = False
    created_at: datetime
    updated_at: datetime


class GeoPoint(DomainModel):
    """A point on Earth in WGS 84 degrees, as phones and maps give it."""

    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class Vehicle(DomainModel):
    type: Name
    plate: Name


class Driver(DomainModel):
    driver_id: str
    fleet_id: str
    name: Name
    phone: Phone
    channel: DriverChannel
    # Where POST /drivers/{id}/telegram-link/email sends the driver's registration link.
    email: Email | None = None
    vehicle: Vehicle | None = None
    rating: float | None = Field(default=None, ge=0, le=5)
    status: DriverStatus = "active"
    telegram_chat_id: str | None = None
    last_seen_at: datetime | None = None
    # Where the driver was last known to be (PATCH, a Telegram or WhatsApp location) and when it was seen:
    # `priority: "distance"` offers nearest first, `max_distance_km` leaves out the far (SPEC §4.1).
    location: GeoPoint | None = None
    location_at: datetime | None = None
    # WhatsApp lets a business send free text only within 24 h of the user's last message to it.
    last_whatsapp_inbound_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class Customer(DomainModel):
    name: Name
    phone: Phone


class Place(DomainModel):
    address: Text = Field(min_length=1)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)


MatchingPriority = Literal["recent_activity", "distance"]


class MatchingOptions(DomainModel):
    """How a ride picks and orders its drivers (SPEC §3 `matching`, §4.1)."""

    exclude_driver_ids: list[str] = Field(default_factory=list)
    max_distance_km: float | None = Field(default=None, gt=0, le=20_000)
    priority: MatchingPriority = "recent_activity"


class Ride(DomainModel):
    ride_id: str
    fleet_id: str
    code: str
    status: RideStatus = "searching"
    # Bumped on every status transition: the accept that wins is the one whose write saw the
    # version it read, so two accepts can never both succeed.
    version: int = 0
    customer: Customer
    pickup: Place
    dropoff: Place
    pickup_time: datetime | None = None
    price: float | None = Field(default=None, ge=0)
    notes: Text | None = None
    driver_id: str | None = None
    created_at: datetime
    deadline_at: datetime
    assigned_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    time_to_match_seconds: float | None = None
    wave: int = 0
    drivers_notified: int = 0
    drivers_responded: int = 0
    drivers_declined: int = 0
    escalated_at: datetime | None = None
    task_token: str | None = None
    # Set while the ride waits for its fleet's dispatch to resume (not broadcast yet, not swept); its
    # `task_token` is then the flow's AwaitResume, and its deadline is set anew on release.
    held_at: datetime | None = None
    created_by: str | None = None
    # SPEC §8: each time the ride goes back to matching (a give back, a reassign without a driver) a new
    # round starts, with an execution and a deadline of its own; the round's drivers are not re-offered
    # while it lasts. `matching_started_at` is when the current round started (time to match counts from it).
    matching_round: int = 1
    matching_started_at: datetime | None = None
    excluded_driver_ids: list[str] = Field(default_factory=list)
    # As the request asked; its exclusions are also in `excluded_driver_ids`, which every round honours.
    matching: MatchingOptions = Field(default_factory=MatchingOptions)
    reassignments: int = 0
    reallocations: int = 0


class Offer(DomainModel):
    ride_id: str
    driver_id: str
    fleet_id: str
    secret: str
    ride_code: str | None = None
    channel: DriverChannel
    status: OfferStatus = "sent"
    wave: int = 1
    # The ride's matching round it was made in: a later round offers the ride again on the same record.
    matching_round: int = 1
    # The driver's place in the ride's order when offered (1 = first: the most recently seen, or the nearest
    # for `priority: "distance"`); a wave's offers share `sent_at` and go out side by side, so this says it.
    rank: int = 0
    reminders: int = 0
    sent_at: datetime
    responded_at: datetime | None = None
    response_seconds: float | None = None
    provider_message_id: str | None = None
    provider_chat_id: str | None = None
    delivery_status: str | None = None
    error: str | None = None


class ApiKey(DomainModel):
    """A fleet's API key as stored: never the key itself, only who it is for."""

    key_id: str
    fleet_id: str
    role: Role
    label: str | None = None
    created_at: datetime
    revoked_at: datetime | None = None


class ApiPrincipal(DomainModel):
    """Who is calling: the platform root, or a key of one fleet with one role."""

    kind: Literal["root", "fleet"]
    fleet_id: str | None = None
    role: Role | None = None
    key_id: str | None = None
