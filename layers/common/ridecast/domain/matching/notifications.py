"""What customers and admins are told at each turn of a ride."""

from ridecast.domain.channels.catalogue import driver_values, render, ride_values
from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Driver, Ride
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.matching.admin_actions import alert_buttons
from ridecast.domain.ports import Ports, RateLimitStore
from ridecast.domain.rides.limits import may_message_customer
from ridecast.observability import logger, metrics


def tell_customer(router: ChannelRouter, ride: Ride, kind: str, *, limits: RateLimitStore, **extra: str) -> None:
    """Within the fleet's hourly cap per customer phone (SPEC §11); past it the message is dropped and logged."""
    if may_message_customer(limits, router.fleet, ride.customer.phone):
        router.to_phone(ride.customer.phone, render(router.fleet, kind, **ride_values(ride, **extra)))


def customer_searching(router: ChannelRouter, ride: Ride, drivers_notified: int, limits: RateLimitStore) -> None:
    tell_customer(router, ride, "customer_searching", limits=limits, count=str(drivers_notified))


def customer_matched(router: ChannelRouter, ride: Ride, driver: Driver, limits: RateLimitStore) -> None:
    tell_customer(router, ride, "customer_matched", limits=limits, **driver_values(driver))


def alert_admins(router: ChannelRouter, ride: Ride, kind: str, **extra: str) -> None:
    body = render(router.fleet, kind, **ride_values(ride, **extra))
    subject = f"Ridecast {kind.removeprefix('admin_')} {ride.code}"
    buttons = alert_buttons(router.fleet, ride, kind)
    router.to_admins(subject, body, buttons, ride_id=ride.ride_id, kind=kind)
    metrics.add_metric(name="AdminAlerts", unit="Count", value=1)
    logger.info("admins alerted", extra={"ride_id": ride.ride_id, "kind": kind})


def escalate_if_everyone_declined(ports: Ports, ride: Ride) -> bool:
    """Early escalation, once per ride, when every driver offered so far has said no."""
    if ride.status != "searching" or ride.drivers_notified == 0 or ride.drivers_declined < ride.drivers_notified:
        return False
    return escalate(ports, ride, declined=ride.drivers_declined)


def escalate(ports: Ports, ride: Ride, declined: int) -> bool:
    if not ports.stores.rides.mark_escalated(ride.ride_id, utcnow()):
        return False
    router = ChannelRouter.for_fleet(get_fleet(ports, ride.fleet_id), ports)
    alert_admins(router, ride, "admin_escalation", count=str(declined))
    return True
