"""Telegram registration: a single-use deep link that binds a driver's chat when they open it."""

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ridecast.domain.channels.catalogue import render
from ridecast.domain.channels.ports import Attachment, OutboundEmail
from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.clock import utcnow
from ridecast.domain.drivers.roster import get_driver
from ridecast.domain.entities import Driver
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.ports import Ports, RegistrationStore
from ridecast.errors import DriverHasNoEmail, EmailUnavailable, FleetChannelMissing
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


QR_FILENAME = "telegram-link.png"


def email_link(ports: Ports, fleet_id: str, driver_id: str, qr_png: Callable[[str], bytes]) -> RegistrationLink:
    """E-mail the driver a fresh deep link with its QR code, shown in the message and attached (SPEC §3
    POST /drivers/{id}/telegram-link/email). `qr_png` draws the code (a wire format, so the caller's)."""
    driver = get_driver(ports, fleet_id, driver_id)
    if driver.email is None:
        raise DriverHasNoEmail("this driver has no email: PATCH /drivers/{id} with one", field="email")
    router = ChannelRouter.for_fleet(get_fleet(ports, fleet_id), ports)
    if not router.platform.email_sender:
        raise FleetChannelMissing("the platform has no e-mail sender (email_sender in its channels secret)")
    link = issue_link(ports.stores.registrations, router, driver)
    fleet = router.fleet
    text = render(fleet, "telegram_link_email", driver_name=driver.name, fleet_name=fleet.name, register_link=link.url)
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line.strip())
    page = f'{paragraphs}<p><img src="cid:{QR_FILENAME}" alt="QR code" width="296" height="296"></p>'
    message = OutboundEmail(
        to=driver.email,
        subject=render(fleet, "telegram_link_email_subject", fleet_name=fleet.name),
        body=text,
        html=page,
        attachments=(Attachment(QR_FILENAME, "image/png", qr_png(link.url), inline=True),),
    )
    if not router.email(message):
        raise EmailUnavailable("the e-mail could not be sent; try again")
    return link
