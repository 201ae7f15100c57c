"""Rides of the caller's fleet (admin and dispatcher keys)."""

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ridecast.domain.fleets import auth
from ridecast.domain.rides import cancel, create, read
from ridecast.domain.rides.commands import NewRide
from ridecast.http import current_principal, install_error_handlers, json_response
from ridecast.models.api import CancelledOut, CancelRideRequest, CreateRideRequest, RideListOut, RideOut
from ridecast.observability import logger, metrics, tracer
from ridecast.wiring import ports

app = APIGatewayHttpResolver(enable_validation=True)
install_error_handlers(app, guard=lambda: _caller_fleet())

RideStatusFilter = Literal["searching", "assigned", "timed_out", "cancelled", "failed"]


def _caller_fleet() -> str:
    return auth.require_fleet_role(current_principal(app), "admin", "dispatcher")


@app.post("/rides")
def create_ride(body: CreateRideRequest) -> Response[Any]:
    principal = current_principal(app)
    ride = create.create_ride_once(
        ports(),
        _caller_fleet(),
        NewRide(**body.model_dump()),
        idempotency_key=app.current_event.headers.get("idempotency-key"),
        created_by=principal.key_id if principal else None,
        lambda_context=app.lambda_context,
    )
    return json_response(201, RideOut.from_domain(ride, offers=[]).model_dump(mode="json"))


@app.get("/rides")
def list_rides(
    status: Annotated[RideStatusFilter | None, Query()] = None,
    since: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response[Any]:
    found, cursor = read.list_rides(ports(), _caller_fleet(), status, since, limit, next)
    out = RideListOut(rides=[RideOut.from_domain(r) for r in found], next=cursor)
    return json_response(200, out.model_dump(mode="json", exclude_none=True))


@app.get("/rides/<ride_id>")
def get_ride(ride_id: str) -> Response[Any]:
    ride, offers = read.get_ride_with_offers(ports(), _caller_fleet(), ride_id)
    return json_response(200, RideOut.from_domain(ride, offers).model_dump(mode="json"))


@app.post("/rides/<ride_id>/cancel")
def cancel_ride(ride_id: str, body: CancelRideRequest | None = None) -> Response[Any]:
    ride = cancel.cancel_ride(ports(), _caller_fleet(), ride_id, body.reason if body else None)
    return json_response(200, CancelledOut(ride_id=ride.ride_id).model_dump(mode="json"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
