"""GET /health: is the table reachable and is matching wired."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ridecast.adapters import health
from ridecast.api.callers import ANYONE
from ridecast.api.routing import Routes
from ridecast.wiring import ports

routes = Routes(tag="health")


class HealthOut(BaseModel):
    model_config = ConfigDict(defer_build=True)  # see ridecast.domain.entities.DomainModel

    status: Literal["ok", "degraded"]
    checks: dict[str, dict[str, Any]]


@routes.get("/health", callers=ANYONE)
def get_health() -> HealthOut:
    """Whether the service can reach what it depends on."""
    return HealthOut.model_validate(health.check(ports()))
