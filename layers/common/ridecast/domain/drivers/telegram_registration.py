"""Telegram registration: a single-use deep link that binds a driver's chat when they open it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from ridecast.domain.clock import utcnow
from ridecast.domain.drivers.roster import get_driver
from ridecast.domain.entities import Driver, Fleet
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.ports import Ports, RegistrationStore
from ridecast.errors import FleetChannelMissing
from ridecast.ids import new_registration_token

REGISTRATION_LINK_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class RegistrationLink:
    url: str
    expires_at: datetime


def issue_link(registrations: RegistrationStore, fleet: Fleet, driver: Driver) -> RegistrationLink:
    if fleet.telegram is None:
        raise FleetChannelMissing("this fleet has no Telegram bot configured: PATCH /fleets/{id} with a telegram block")
    token = new_registration_token()
    expires_at = utcnow() + REGISTRATION_LINK_LIFETIME
    registrations.add(token, fleet.fleet_id, driver.driver_id, expires_at)
    return RegistrationLink(url=f"https://t.me/{fleet.telegram.bot_username}?start={token}", expires_at=expires_at)


def telegram_link(ports: Ports, fleet_id: str, driver_id: str) -> RegistrationLink:
    """A fresh deep link for the admin to hand the driver (SPEC §3 GET /drivers/{id}/telegram-link)."""
    return issue_link(ports.stores.registrations, get_fleet(ports, fleet_id), get_driver(ports, fleet_id, driver_id))
