"""GET /stats: the caller's fleet's dispatch figures (admin keys), from its counters."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.event_handler.openapi.params import Query

from ridecast.api.callers import FLEET_ADMIN, caller_fleet
from ridecast.api.models.base import IsoDateTime
from ridecast.api.models.stats import StatsOut
from ridecast.api.routing import Routes
from ridecast.domain.stats import report
from ridecast.wiring import ports

routes = Routes(tag="stats")


@routes.get("/stats", callers=FLEET_ADMIN, errors=(422,))
def get_stats(
    request: Request,
    since: Annotated[IsoDateTime | None, Query(description="default: 24 h before `until`")] = None,
    until: Annotated[IsoDateTime | None, Query(description="default: now; at most 92 days after `since`")] = None,
) -> StatsOut:
    """Rides, rates, time to match, channels and drivers for rides created in the period (whole UTC hours)."""
    return StatsOut.from_domain(report.fleet_stats(ports(), caller_fleet(request), since, until))
