"""Drivers: request and response bodies (SPEC §3)."""

import re
from datetime import datetime
from typing import Annotated, Self

from pydantic import AfterValidator, Field

from ridecast.api.models.base import (
    ApiInput,
    ApiOutput,
    DriverId,
    GeoPointInput,
    PatchRequest,
    VehicleInput,
)
from ridecast.domain.entities import (
    Driver,
    GeoPoint,
    Vehicle,
)
from ridecast.domain.types import (
    DriverChannel,
    DriverStatus,
    Email,
    Name,
    Phone,
)


class CreateDriverRequest(ApiInput):
    name: Name
    phone: Phone
    channel: DriverChannel
    email: Email | None = None
    vehicle: VehicleInput | None = None
    rating: float | None = Field(default=None, ge=0, le=5)


class UpdateDriverRequest(PatchRequest):
    cannot_be_null = ("name", "phone", "channel", "status")
    at_least_one_field = True

    name: Name | None = None
    phone: Phone | None = None
    channel: DriverChannel | None = None
    email: Email | None = None
    vehicle: VehicleInput | None = None
    rating: float | None = Field(default=None, ge=0, le=5)
    status: DriverStatus | None = None
    location: GeoPointInput | None = Field(default=None, description="null forgets where the driver was")


# An operator's message may run over several lines ("Road closed:\n- A1\n- M25"); it is all theirs, framed
# as "Message from <fleet>:" so it cannot pass for an offer. Only LF breaks it: CR, tabs and every other
# control character (and the Unicode line separators, which render as breaks) are refused (SPEC §3).
_NOT_IN_A_MESSAGE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
MESSAGE_MAX_LENGTH = 1000  # with its frame, within one Twilio message (1,600) and a Telegram one (4,096)
MESSAGE_MAX_RECIPIENTS = 1000


def _message_text(text: str) -> str:
    if found := _NOT_IN_A_MESSAGE.search(text):
        raise ValueError(
            f"line breaks are \\n only; control character U+{ord(found.group()):04X} at position {found.start()}"
        )
    return text


def _distinct(ids: list[str]) -> list[str]:
    if repeated := sorted({i for i in ids if ids.count(i) > 1}):
        raise ValueError(f"each driver once: {', '.join(repeated)} repeated")
    return ids


MessageText = Annotated[str, Field(min_length=1, max_length=MESSAGE_MAX_LENGTH), AfterValidator(_message_text)]


class MessageDriversRequest(ApiInput):
    text: MessageText
    driver_ids: (
        Annotated[list[DriverId], Field(min_length=1, max_length=MESSAGE_MAX_RECIPIENTS), AfterValidator(_distinct)]
        | None
    ) = Field(default=None, description="Leave out to message every active driver of the fleet")


class MessageQueuedOut(ApiOutput):
    message_id: str
    recipients: int


class DriverOut(ApiOutput):
    driver_id: str
    name: str
    phone: str
    channel: DriverChannel
    email: str | None = None
    vehicle: Vehicle | None
    rating: float | None
    status: DriverStatus
    telegram_registered: bool
    last_seen_at: datetime | None
    location: GeoPoint | None = None
    location_at: datetime | None = Field(default=None, description="when the driver was seen there")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, driver: Driver) -> Self:
        return cls(
            driver_id=driver.driver_id,
            name=driver.name,
            phone=driver.phone,
            channel=driver.channel,
            email=driver.email,
            vehicle=driver.vehicle,
            rating=driver.rating,
            status=driver.status,
            telegram_registered=driver.telegram_chat_id is not None,
            last_seen_at=driver.last_seen_at,
            location=driver.location,
            location_at=driver.location_at,
            created_at=driver.created_at,
            updated_at=driver.updated_at,
        )


class DriverListOut(ApiOutput):
    drivers: list[DriverOut]


class TelegramLinkOut(ApiOutput):
    url: str
    qr_svg: str
    expires_at: datetime


class TelegramLinkEmailOut(ApiOutput):
    sent_to: str
    expires_at: datetime
