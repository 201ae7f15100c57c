"""What a caller asks of the drivers domain, in domain terms (the API maps its request models onto these)."""

from pydantic import Field

from ridecast.domain.entities import DomainModel, GeoPoint, Vehicle
from ridecast.domain.types import DriverChannel, DriverStatus, Email, Name, Phone


class NewDriver(DomainModel):
    name: Name
    phone: Phone
    channel: DriverChannel
    email: Email | None = None
    vehicle: Vehicle | None = None
    rating: float | None = Field(default=None, ge=0, le=5)


class DriverChanges(DomainModel):
    """Only the fields a caller set change (build it with `exclude_unset`)."""

    name: Name | None = None
    phone: Phone | None = None
    channel: DriverChannel | None = None
    email: Email | None = None
    vehicle: Vehicle | None = None
    rating: float | None = Field(default=None, ge=0, le=5)
    status: DriverStatus | None = None
    location: GeoPoint | None = None
