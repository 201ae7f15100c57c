"""HTTP API boundary: request bodies in, response bodies out (SPEC §3). Secrets never leave.

Requests are strict (SPEC §3 "Strictness"): a number is a JSON number, a boolean a JSON boolean; `"30"` or
`true` where a number belongs is refused, not coerced. Powertools validates the parsed body in pydantic's
Python mode, where strict would also refuse ISO date strings, so date fields opt out of it one by one.
"""

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, Self
from zoneinfo import available_timezones

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from ridecast.domain.entities import (
    AdminContact,
    ApiKey,
    Customer,
    Driver,
    Fleet,
    FleetSettings,
    Offer,
    Place,
    Ride,
    TwilioSender,
    Vehicle,
)
from ridecast.domain.types import (
    DriverChannel,
    DriverStatus,
    Language,
    Name,
    Phone,
    RideStatus,
    Role,
    Text,
    TwilioChannel,
)

MASK = "********"


# defer_build: see ridecast.domain.entities.DomainModel.
STRICT_INPUT = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True, defer_build=True)


class ApiInput(BaseModel):
    model_config = STRICT_INPUT


# A date and time is an ISO 8601 string (a bare date is its midnight) or, from Python callers, a datetime;
# never a number of seconds. Strict mode would refuse the string too (Powertools validates parsed JSON).
ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?$")


def _iso_date_time(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and ISO_DATE_TIME.match(value)):
        return value
    raise ValueError("must be an ISO 8601 date and time, e.g. 2026-03-14T09:30:00Z")


IsoDateTime = Annotated[datetime, Field(strict=False), BeforeValidator(_iso_date_time)]


class DomainValueInput(BaseModel):
    """A domain value object as part of a request: the same fields and rules, strict like every request.
    The subclasses are subclasses of the domain's own, so the domain takes them where it takes its own."""

    @model_validator(mode="before")
    @classmethod
    def _domain_value_as_fields(cls, value: Any) -> Any:
        # Python callers (the local seed, tests) may hand over the domain's own, already valid, value.
        if isinstance(value, BaseModel) and not isinstance(value, cls):
            return value.model_dump(by_alias=True)
        return value


class CustomerInput(Customer, DomainValueInput):
    model_config = STRICT_INPUT


class PlaceInput(Place, DomainValueInput):
    model_config = STRICT_INPUT


class VehicleInput(Vehicle, DomainValueInput):
    model_config = STRICT_INPUT


class AdminContactInput(AdminContact, DomainValueInput):
    model_config = STRICT_INPUT


class FleetSettingsInput(FleetSettings, DomainValueInput):
    model_config = STRICT_INPUT


class TwilioSenderInput(TwilioSender, DomainValueInput):
    model_config = ConfigDict(**STRICT_INPUT, populate_by_name=True)


class ApiOutput(BaseModel):
    # Serialised by alias: a Twilio sender is `from` on the wire, never `from_`.
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True, defer_build=True)


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


def _describe_patch(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The document says what PatchRequest enforces: no null for these fields, at least one field."""
    for name in getattr(model, "cannot_be_null", ()):
        field = schema["properties"][name]
        field.pop("default", None)
        options = [option for option in field.pop("anyOf", [field.copy()]) if option != {"type": "null"}]
        if len(options) == 1:
            field.update(options[0])
        else:
            field["anyOf"] = options
    if getattr(model, "at_least_one_field", False):
        schema["minProperties"] = 1


class PatchRequest(ApiInput):
    """A PATCH body: a field left out stays as it is. Null would mean "clear it", which the fields in
    `cannot_be_null` cannot be: refused with a message (not a type error), and not nullable in the document."""

    model_config = ConfigDict(**STRICT_INPUT, json_schema_extra=_describe_patch)
    cannot_be_null: ClassVar[tuple[str, ...]] = ()
    at_least_one_field: ClassVar[bool] = False

    @model_validator(mode="after")
    def _what_a_patch_may_not_do(self) -> Self:
        if self.at_least_one_field and not self.model_fields_set:
            raise ValueError("nothing to update: send at least one field")
        for field in self.cannot_be_null:
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class FleetSettingsPatch(PatchRequest):
    cannot_be_null = ("driver_response_seconds", "matching_timeout_seconds", "low_availability_threshold")

    driver_response_seconds: int | None = Field(default=None, ge=1, le=3600)
    matching_timeout_seconds: int | None = Field(default=None, ge=1, le=86400)
    low_availability_threshold: int | None = Field(default=None, ge=0, le=100000)


class CreateFleetRequest(ApiInput):
    name: Name
    timezone: str = "UTC"
    language: Language = "en"
    admin_contacts: list[AdminContactInput] = Field(default_factory=list, max_length=20)
    settings: FleetSettingsInput = Field(default_factory=FleetSettingsInput)
    twilio: TwilioInput | None = None
    telegram: TelegramInput | None = None

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


class FleetOut(ApiOutput):
    fleet_id: str
    name: str
    timezone: str
    language: Language
    admin_contacts: list[AdminContact]
    settings: FleetSettings
    twilio: TwilioOut | None = None
    telegram: TelegramOut | None = None
    dispatch_paused: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, fleet: Fleet, **shown_once: str) -> Self:
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
            dispatch_paused=fleet.dispatch_paused,
            created_at=fleet.created_at,
            updated_at=fleet.updated_at,
        )


class CreatedFleetOut(FleetOut):
    api_key: str = Field(description="The fleet's admin key. Shown once; only its hash is stored.")


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


class CreateDriverRequest(ApiInput):
    name: Name
    phone: Phone
    channel: DriverChannel
    vehicle: VehicleInput | None = None
    rating: float | None = Field(default=None, ge=0, le=5)


class UpdateDriverRequest(PatchRequest):
    cannot_be_null = ("name", "phone", "channel", "status")
    at_least_one_field = True

    name: Name | None = None
    phone: Phone | None = None
    channel: DriverChannel | None = None
    vehicle: VehicleInput | None = None
    rating: float | None = Field(default=None, ge=0, le=5)
    status: DriverStatus | None = None


class DriverOut(ApiOutput):
    driver_id: str
    name: str
    phone: str
    channel: DriverChannel
    vehicle: Vehicle | None
    rating: float | None
    status: DriverStatus
    telegram_registered: bool
    last_seen_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, driver: Driver) -> Self:
        return cls(
            driver_id=driver.driver_id,
            name=driver.name,
            phone=driver.phone,
            channel=driver.channel,
            vehicle=driver.vehicle,
            rating=driver.rating,
            status=driver.status,
            telegram_registered=driver.telegram_chat_id is not None,
            last_seen_at=driver.last_seen_at,
            created_at=driver.created_at,
            updated_at=driver.updated_at,
        )


class DriverListOut(ApiOutput):
    drivers: list[DriverOut]


class TelegramLinkOut(ApiOutput):
    url: str
    qr_svg: str
    expires_at: datetime


class CreateRideRequest(ApiInput):
    customer: CustomerInput
    pickup: PlaceInput
    dropoff: PlaceInput
    pickup_time: IsoDateTime | None = None
    price: float | None = Field(default=None, ge=0, le=1_000_000)
    notes: Text | None = None


class CancelRideRequest(ApiInput):
    reason: Text | None = None


class OfferOut(ApiOutput):
    driver_id: str
    channel: DriverChannel
    status: str
    wave: int
    sent_at: datetime
    responded_at: datetime | None = None
    response_seconds: float | None = None
    error: str | None = None

    @classmethod
    def from_domain(cls, offer: Offer) -> Self:
        return cls(
            driver_id=offer.driver_id,
            channel=offer.channel,
            status=offer.status,
            wave=offer.wave,
            sent_at=offer.sent_at,
            responded_at=offer.responded_at,
            response_seconds=offer.response_seconds,
            error=offer.error,
        )


class RideOut(ApiOutput):
    ride_id: str
    code: str
    status: RideStatus
    customer: Customer
    pickup: Place
    dropoff: Place
    pickup_time: datetime | None
    price: float | None
    notes: str | None
    driver_id: str | None
    created_at: datetime
    deadline_at: datetime
    assigned_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    time_to_match_seconds: float | None
    drivers_notified: int
    drivers_responded: int
    offers: list[OfferOut] | None = None

    @classmethod
    def from_domain(cls, ride: Ride, offers: list[Offer] | None = None) -> Self:
        return cls(
            ride_id=ride.ride_id,
            code=ride.code,
            status=ride.status,
            customer=ride.customer,
            pickup=ride.pickup,
            dropoff=ride.dropoff,
            pickup_time=ride.pickup_time,
            price=ride.price,
            notes=ride.notes,
            driver_id=ride.driver_id,
            created_at=ride.created_at,
            deadline_at=ride.deadline_at,
            assigned_at=ride.assigned_at,
            ended_at=ride.ended_at,
            end_reason=ride.end_reason,
            time_to_match_seconds=ride.time_to_match_seconds,
            drivers_notified=ride.drivers_notified,
            drivers_responded=ride.drivers_responded,
            offers=[OfferOut.from_domain(o) for o in offers] if offers is not None else None,
        )


class RideListOut(ApiOutput):
    rides: list[RideOut]
    next: str | None = None


class CancelledOut(ApiOutput):
    status: Literal["cancelled"] = "cancelled"
    ride_id: str


class OfferAnswerOut(ApiOutput):
    result: Literal["assigned", "rejected"]
    ride_code: str | None = None
