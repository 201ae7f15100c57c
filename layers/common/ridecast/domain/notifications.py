"""What customers and admins are told at each turn of a ride."""

from ridecast.adapters import dynamodb
from ridecast.domain.clock import utcnow
from ridecast.domain.delivery import FleetChannels
from ridecast.domain.entities import Driver, Fleet, Ride
from ridecast.domain.fleets import get_fleet
from ridecast.domain.messages import driver_values, render, ride_values
from ridecast.observability import logger, metrics


def tell_customer(channels: FleetChannels, ride: Ride, kind: str, **extra: str) -> None:
    channels.to_phone(ride.customer.phone, render(channels.fleet, kind, **ride_values(ride, **extra)))


def customer_searching(channels: FleetChannels, ride: Ride, drivers_notified: int) -> None:
    tell_customer(channels, ride, "customer_searching", count=str(drivers_notified))


def customer_matched(channels: FleetChannels, ride: Ride, driver: Driver) -> None:
    tell_customer(channels, ride, "customer_matched", **driver_values(driver))


def alert_admins(channels: FleetChannels, ride: Ride, kind: str, **extra: str) -> None:
    body = render(channels.fleet, kind, **ride_values(ride, **extra))
    channels.to_admins(f"Ridecast {kind.removeprefix('admin_')} {ride.code}", body, ride_id=ride.ride_id, kind=kind)
    metrics.add_metric(name="AdminAlerts", unit="Count", value=1)
    logger.info("admins alerted", extra={"ride_id": ride.ride_id, "kind": kind})


def escalate_if_everyone_declined(ride: Ride, fleet: Fleet | None = None) -> bool:
    """Early escalation, once per ride, when every driver offered so far has said no."""
    if ride.status != "searching" or ride.drivers_notified == 0 or ride.drivers_declined < ride.drivers_notified:
        return False
    return escalate(ride, fleet, declined=ride.drivers_declined)


def escalate(ride: Ride, fleet: Fleet | None, declined: int) -> bool:
    if not dynamodb.mark_escalated(ride.ride_id, utcnow()):
        return False
    channels = FleetChannels(fleet or get_fleet(ride.fleet_id))
    alert_admins(channels, ride, "admin_escalation", count=str(declined))
    return True
