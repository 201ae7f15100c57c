"""What a caller asks of the rides domain, in domain terms (the API maps its request models onto these)."""

from datetime import datetime

from pydantic import Field

from ridecast.domain.entities import Customer, DomainModel, MatchingOptions, Place
from ridecast.domain.types import Text


class NewRide(DomainModel):
    customer: Customer
    pickup: Place
    dropoff: Place
    pickup_time: datetime | None = None
    price: float | None = Field(default=None, ge=0)
    notes: Text | None = None
    matching: MatchingOptions = Field(default_factory=MatchingOptions)
