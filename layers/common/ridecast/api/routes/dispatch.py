"""Dispatch control of the caller's fleet (admin keys): the channel router's status, mode and health, and the
emergency pause."""

from aws_lambda_powertools.event_handler import Request

from ridecast.api.callers import FLEET_ADMIN, caller_fleet
from ridecast.api.models.dispatch import DispatchStatusOut, SetModeRequest
from ridecast.api.routing import Routes
from ridecast.domain.channels import control
from ridecast.wiring import ports

routes = Routes(tag="dispatch")


@routes.get("/dispatch/status", callers=FLEET_ADMIN)
def dispatch_status(request: Request) -> DispatchStatusOut:
    """The router's mode, whether dispatch is paused, and each channel's health and counters."""
    return DispatchStatusOut.from_domain(control.dispatch_status(ports(), caller_fleet(request)))


@routes.post("/dispatch/mode", callers=FLEET_ADMIN)
def set_mode(body: SetModeRequest, request: Request) -> DispatchStatusOut:
    """Send every driver message through both channels (`auto`) or only one."""
    return DispatchStatusOut.from_domain(control.set_mode(ports(), caller_fleet(request), body.mode))


@routes.post("/dispatch/health-check", callers=FLEET_ADMIN)
def health_check(request: Request) -> DispatchStatusOut:
    """Probe the fleet's channels now (Telegram getMe, Twilio account fetch)."""
    return DispatchStatusOut.from_domain(control.health_check(ports(), caller_fleet(request)))


@routes.post("/dispatch/stats/reset", callers=FLEET_ADMIN)
def reset_stats(request: Request) -> DispatchStatusOut:
    """Zero the router's counters (status and mode stay)."""
    return DispatchStatusOut.from_domain(control.reset_stats(ports(), caller_fleet(request)))


@routes.post("/dispatch/pause", callers=FLEET_ADMIN)
def pause(request: Request) -> DispatchStatusOut:
    """Hold new rides (accepted as `searching`, not offered to drivers) until resume; rides already matching
    carry on. Pausing a paused fleet changes nothing."""
    return DispatchStatusOut.from_domain(control.pause(ports(), caller_fleet(request)))


@routes.post("/dispatch/resume", callers=FLEET_ADMIN)
def resume(request: Request) -> DispatchStatusOut:
    """Offer the held rides in the order they came, each deadline counted from now; resuming a fleet that is
    not paused changes nothing."""
    return DispatchStatusOut.from_domain(control.resume(ports(), caller_fleet(request)))
