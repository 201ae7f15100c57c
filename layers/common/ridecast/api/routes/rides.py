"""Rides of the caller's fleet (admin and dispatcher keys)."""

from datetime import timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from pydantic import ValidationError

from ridecast.api.bodies import not_an_object
from ridecast.api.callers import FLEET_ADMIN, FLEET_STAFF, caller_fleet, caller_key_id
from ridecast.api.errors import invalid_input_body
from ridecast.api.models.base import IsoDateTime
from ridecast.api.models.rides import (
    BatchResultOut,
    BatchRidesOut,
    BatchRidesRequest,
    CancelledOut,
    CancelRideRequest,
    CreateRideRequest,
    MatchingListOut,
    ReassignRideRequest,
    RideListOut,
    RideOut,
)
from ridecast.api.routing import Routes, lambda_context
from ridecast.domain.clock import utcnow
from ridecast.domain.rides import batch, cancel, create, read
from ridecast.domain.rides.commands import NewRide
from ridecast.wiring import ports

routes = Routes(tag="rides")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="idempotency-key",
        pattern=r"^[\x21-\x7e]{1,255}$",
        description="1 to 255 visible ASCII characters; a retry with the same key gets the same answer",
    ),
]

RideStatusFilter = Literal["scheduled", "searching", "assigned", "timed_out", "cancelled", "failed"]


@routes.post("/rides", callers=FLEET_STAFF, status_code=201, errors=(404, 409, 429))
def create_ride(
    body: CreateRideRequest,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> RideOut:
    """Request a ride: matching starts at once (or at the pre-booked time)."""
    ride = create.create_ride_once(
        ports(),
        caller_fleet(request),
        _new_ride(body),
        idempotency_key=idempotency_key,
        created_by=caller_key_id(request),
        lambda_context=lambda_context(request),
    )
    return RideOut.from_domain(ride, offers=[])


@routes.post("/rides/batch", callers=FLEET_STAFF, errors=(404, 409))
def create_ride_batch(
    body: BatchRidesRequest, request: Request, idempotency_key: IdempotencyKey = None
) -> BatchRidesOut:
    """Request 1 to 100 rides at once: each valid one is created and started as POST /rides would, each
    refused one answered at its index with the status and body POST /rides would have given."""
    outcome = batch.create_batch_once(
        ports(),
        caller_fleet(request),
        [_ride_or_refusal(item) for item in body.rides],
        body.model_dump(mode="json"),
        idempotency_key=idempotency_key,
        created_by=caller_key_id(request),
        lambda_context=lambda_context(request),
    )
    return BatchRidesOut(results=[BatchResultOut.from_domain(entry) for entry in outcome.results])


def _new_ride(body: CreateRideRequest) -> NewRide:
    # Fields left out take the domain's defaults (a ride with no `matching` gets the default options).
    return NewRide(**body.model_dump(exclude_none=True))


def _ride_or_refusal(item: Any) -> NewRide | batch.RefusedRide:
    """One ride of a batch, checked exactly as POST /rides checks its body."""
    if not isinstance(item, dict):
        refused = not_an_object(item)
        return batch.RefusedRide(status=refused.status_code, error=refused.body())
    try:
        return _new_ride(CreateRideRequest.model_validate(item))
    except ValidationError as error:
        return batch.RefusedRide(status=422, error=invalid_input_body([dict(e) for e in error.errors()]))


@routes.get("/rides", callers=FLEET_STAFF, errors=(422,))
def list_rides(
    request: Request,
    status: Annotated[RideStatusFilter | None, Query()] = None,
    since: Annotated[IsoDateTime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> RideListOut:
    """The fleet's rides, newest first; follow `next` for the following page."""
    found, cursor = read.list_rides(ports(), caller_fleet(request), status, since, limit, next)
    return RideListOut(rides=[RideOut.from_domain(r) for r in found], next=cursor)


@routes.get("/rides/<ride_id>", callers=FLEET_STAFF, errors=(404,))
def get_ride(ride_id: str, request: Request) -> RideOut:
    """A ride with every offer made for it."""
    ride, offers = read.get_ride_with_offers(ports(), caller_fleet(request), ride_id)
    return RideOut.from_domain(ride, offers)


@routes.get("/matchings", callers=FLEET_STAFF, errors=(422,))
def live_matchings(
    request: Request,
    ended_within_seconds: Annotated[
        int, Query(ge=0, le=3600, description="also the rides that ended this many seconds ago or less")
    ] = 60,
) -> MatchingListOut:
    """Rides matching now with every offer's status (what the console's Now panel shows)."""
    found = read.live_matchings(ports(), caller_fleet(request), timedelta(seconds=ended_within_seconds))
    return MatchingListOut(matchings=[RideOut.from_domain(ride, offers) for ride, offers in found], as_of=utcnow())


@routes.post("/rides/<ride_id>/cancel", callers=FLEET_STAFF, errors=(404, 409))
def cancel_ride(ride_id: str, request: Request, body: CancelRideRequest | None = None) -> CancelledOut:
    """Cancel a ride that has not ended; drivers who got the offer are told."""
    ride = cancel.cancel_ride(ports(), caller_fleet(request), ride_id, body.reason if body else None)
    return CancelledOut(ride_id=ride.ride_id)


@routes.post("/rides/<ride_id>/reassign", callers=FLEET_ADMIN, errors=(404, 409))
def reassign_ride(ride_id: str, request: Request, body: ReassignRideRequest | None = None) -> RideOut:
    """Reassign an assigned ride: to the named active driver, or (no `driver_id`) back to matching without the
    driver who has it, as a new round; the drivers concerned and the customer are told (SPEC §8)."""
    # An operator's rare action, and what it reaches (the broadcast, the drivers' channels, the holder's
    # notices) is ~15 ms of the rides function's cold start that creating and reading rides never use (SPEC §7).
    from ridecast.domain.matching import reallocation

    fleet_id = caller_fleet(request)
    body = body or ReassignRideRequest()
    reallocation.reassign_ride(ports(), fleet_id, ride_id, body.driver_id, body.reason)
    ride, offers = read.get_ride_with_offers(ports(), fleet_id, ride_id)
    return RideOut.from_domain(ride, offers)
