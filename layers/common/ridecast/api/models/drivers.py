"""Drivers: request and response bodies (SPEC §3)."""

from datetime import datetime
from typing import Self

from pydantic import Field

from ridecast.api.models.base import (
    ApiInput,
    ApiOutput,
    PatchRequest,
    VehicleInput,
)
from ridecast.domain.entities import (
    Driver,
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
