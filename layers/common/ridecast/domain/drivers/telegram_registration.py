"""Telegram registration: a single-use deep link that binds a driver's chat when they open it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.clock import utcnow
from ridecast.domain.drivers.roster import get_driver
from ridecast.domain.entities import Driver
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.ports import Ports, RegistrationStore
from ridecast.errors import FleetChannelMissing
from ridecast.ids import new_registration_token

REGISTRATION_LINK_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class RegistrationLink:
    url: str
    expires_at: datetime


def issue_link(registrations: RegistrationStore, router: ChannelRouter, driver: Driver) -> RegistrationLink:
    """A deep link to the fleet's bot, or to the platform's when the fleet has none (SPEC §5)."""
    username = router.telegram_username()
    if username is None:
        raise FleetChannelMissing(
            "neither this fleet nor the platform has a Telegram bot: PATCH /fleets/{id} with a telegram block"
        )
    token = new_registration_token()
    expires_at = utcnow() + REGISTRATION_LINK_LIFETIME
    registrations.add(token, router.fleet.fleet_id, driver.driver_id, expires_at)
    return RegistrationLink(url=f"https://t.me/{username}?start={token}", expires_at=expires_at)


def telegram_link(ports: Ports, fleet_id: str, driver_id: str) -> RegistrationLink:
    """A fresh deep link for the admin to hand the driver (SPEC §3 GET /drivers/{id}/telegram-link)."""
    router = ChannelRouter.for_fleet(get_fleet(ports, fleet_id), ports)
    return issue_link(ports.stores.registrations, router, get_driver(ports, fleet_id, driver_id))
