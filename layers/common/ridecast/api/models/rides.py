"""Rides, their offers and the drivers' answers: request and response bodies (SPEC §3)."""

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from ridecast.api.models.base import (
    ApiInput,
    ApiOutput,
    CustomerInput,
    DriverId,
    IsoDateTime,
    MatchingOptionsInput,
    PlaceInput,
)
from ridecast.domain.entities import (
    Customer,
    MatchingOptions,
    Offer,
    Place,
    Ride,
)
from ridecast.domain.rides.batch import MAX_BATCH, BatchEntry
from ridecast.domain.types import (
    DriverChannel,
    RideStatus,
    Text,
)


def _with_offset(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("must give its UTC offset, e.g. 2026-03-14T09:30:00+01:00 or ...Z")
    return moment


# A pickup time without an offset could be any of 26 hours: it must say whose clock it is on.
PickupTime = Annotated[IsoDateTime, AfterValidator(_with_offset)]


class CreateRideRequest(ApiInput):
    customer: CustomerInput
    pickup: PlaceInput
    dropoff: PlaceInput
    pickup_time: PickupTime | None = Field(
        default=None,
        description="ISO 8601 with offset; more than the fleet's prebook_lead_minutes ahead books the ride `scheduled`",
    )
    price: float | None = Field(default=None, ge=0, le=1_000_000)
    notes: Text | None = None
    matching: MatchingOptionsInput | None = None

    @field_validator("matching")
    @classmethod
    def _distance_needs_a_pickup_point(
        cls, matching: MatchingOptionsInput | None, info: ValidationInfo
    ) -> MatchingOptionsInput | None:
        """Distances are from the pickup: without its coordinates there is nothing to measure (SPEC §4.1)."""
        pickup = info.data.get("pickup")
        located = pickup is not None and pickup.lat is not None and pickup.lng is not None
        if matching is None or located:
            return matching
        if matching.priority == "distance":
            raise ValueError('priority "distance" needs pickup.lat and pickup.lng')
        if matching.max_distance_km is not None:
            raise ValueError("max_distance_km needs pickup.lat and pickup.lng")
        return matching


class MatchingOptionsOut(MatchingOptions):
    """The ride's matching options as asked (exclusions also count in `excluded_driver_ids`)."""


class CancelRideRequest(ApiInput):
    reason: Text | None = None


class ReassignRideRequest(ApiInput):
    """SPEC §8: to the named active driver of the fleet, or (no `driver_id`) back to matching without the
    driver who has the ride."""

    driver_id: DriverId | None = None
    reason: Text | None = None


class OfferOut(ApiOutput):
    driver_id: str
    channel: DriverChannel
    status: str
    wave: int
    matching_round: int = Field(description="the ride's matching round the offer was (last) made in")
    rank: int = Field(description="the driver's place in the ride's order (1 = offered first: nearest or latest seen)")
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
            matching_round=offer.matching_round,
            rank=offer.rank,
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
    # True while the fleet's dispatch is paused and the ride waits, not broadcast, for the resume.
    held: bool
    held_at: datetime | None
    matching_round: int = Field(description="1, then one more each time the ride went back to matching (SPEC §8)")
    reassignments: int = Field(description="times an operator reassigned the ride")
    reallocations: int = Field(description="times the ride went back to matching: give backs, driver-less reassigns")
    excluded_driver_ids: list[str] = Field(
        description="drivers never offered the ride: the request's exclusions, those it went back to matching without"
    )
    matching: MatchingOptionsOut
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
            held=ride.held_at is not None,
            held_at=ride.held_at,
            matching_round=ride.matching_round,
            reassignments=ride.reassignments,
            reallocations=ride.reallocations,
            excluded_driver_ids=ride.excluded_driver_ids,
            matching=MatchingOptionsOut.model_validate(ride.matching.model_dump()),
            offers=[OfferOut.from_domain(o) for o in offers] if offers is not None else None,
        )


class RideListOut(ApiOutput):
    rides: list[RideOut]
    next: str | None = None


class BatchRidesRequest(ApiInput):
    # Each ride is checked on its own (an invalid one is reported at its index, the others still created),
    # so the list holds any JSON here and the route validates every item as POST /rides would.
    rides: list[Any] = Field(min_length=1, max_length=MAX_BATCH, description=f"1 to {MAX_BATCH} bodies of POST /rides")


class BatchResultOut(ApiOutput):
    index: int = Field(description="the ride's position in `rides`, from 0")
    status: int = Field(description="201 when the ride was created, else what POST /rides would have answered")
    ride: RideOut | None = None
    error: dict[str, Any] | None = Field(default=None, description="the body POST /rides would have answered")

    @classmethod
    def from_domain(cls, entry: BatchEntry) -> Self:
        ride = RideOut.from_domain(entry.ride, offers=[]) if entry.ride is not None else None
        return cls(index=entry.index, status=entry.status, ride=ride, error=entry.error)


class BatchRidesOut(ApiOutput):
    results: list[BatchResultOut]


class MatchingListOut(ApiOutput):
    matchings: list[RideOut] = Field(description="rides matching now, then those ended lately; newest first")
    as_of: datetime = Field(description="the server's time: count the deadlines' countdown from it")


class CancelledOut(ApiOutput):
    status: Literal["cancelled"] = "cancelled"
    ride_id: str


class OfferAnswerOut(ApiOutput):
    result: Literal["assigned", "rejected", "released"]
    ride_code: str | None = None
