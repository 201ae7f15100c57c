"""Drivers of the caller's fleet (admin keys)."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.event_handler.openapi.params import Query

from ridecast.api.callers import FLEET_ADMIN, caller_fleet
from ridecast.api.models.drivers import (
    CreateDriverRequest,
    DriverListOut,
    DriverOut,
    MessageDriversRequest,
    MessageQueuedOut,
    TelegramLinkEmailOut,
    TelegramLinkOut,
    UpdateDriverRequest,
)
from ridecast.api.qr import qr_png, qr_svg
from ridecast.api.routing import Routes
from ridecast.domain.drivers import messaging, roster, telegram_registration
from ridecast.domain.drivers.commands import DriverChanges, NewDriver
from ridecast.wiring import ports

routes = Routes(tag="drivers")


@routes.post("/drivers", callers=FLEET_ADMIN, status_code=201, errors=(409,))
def register_driver(body: CreateDriverRequest, request: Request) -> DriverOut:
    """Register a driver; the same phone twice in a fleet is 409."""
    return DriverOut.from_domain(roster.register_driver(ports(), caller_fleet(request), NewDriver(**body.model_dump())))


@routes.post("/drivers/message", callers=FLEET_ADMIN, status_code=202, errors=(404, 422))
def message_drivers(body: MessageDriversRequest, request: Request) -> MessageQueuedOut:
    """A message to every active driver (or the listed ones) on their channels; answered at once, sent in the
    background through the channel router."""
    queued = messaging.queue_driver_message(ports(), caller_fleet(request), body.text, body.driver_ids)
    return MessageQueuedOut(message_id=queued.message_id, recipients=queued.recipients)


@routes.get("/drivers", callers=FLEET_ADMIN, errors=(422,))
def list_drivers(
    request: Request,
    status: Annotated[Literal["active", "inactive", "blocked"] | None, Query()] = None,
) -> DriverListOut:
    """The fleet's drivers, optionally by status."""
    found = roster.list_drivers(ports(), caller_fleet(request), status)
    return DriverListOut(drivers=[DriverOut.from_domain(d) for d in found])


@routes.get("/drivers/<driver_id>", callers=FLEET_ADMIN, errors=(404,))
def get_driver(driver_id: str, request: Request) -> DriverOut:
    """One driver."""
    return DriverOut.from_domain(roster.get_driver(ports(), caller_fleet(request), driver_id))


@routes.patch("/drivers/<driver_id>", callers=FLEET_ADMIN, errors=(404, 409))
def update_driver(driver_id: str, body: UpdateDriverRequest, request: Request) -> DriverOut:
    """Change a driver's details or status."""
    return DriverOut.from_domain(
        roster.update_driver(
            ports(), caller_fleet(request), driver_id, DriverChanges(**body.model_dump(exclude_unset=True))
        )
    )


@routes.get("/drivers/<driver_id>/telegram-link", callers=FLEET_ADMIN, errors=(404, 409))
def telegram_link(driver_id: str, request: Request) -> TelegramLinkOut:
    """The driver's Telegram deep link and its QR code."""
    link = telegram_registration.telegram_link(ports(), caller_fleet(request), driver_id)
    return TelegramLinkOut(
        url=link.url, qr_svg=qr_svg(link.url, title="Ridecast Telegram registration"), expires_at=link.expires_at
    )


@routes.post("/drivers/<driver_id>/telegram-link/email", callers=FLEET_ADMIN, status_code=202, errors=(404, 409, 503))
def email_telegram_link(driver_id: str, request: Request) -> TelegramLinkEmailOut:
    """E-mail the driver their Telegram deep link with its QR code (a PNG shown in the message and attached);
    a driver without `email` is 409."""
    fleet_id = caller_fleet(request)
    link = telegram_registration.email_link(ports(), fleet_id, driver_id, qr_png)
    driver = roster.get_driver(ports(), fleet_id, driver_id)
    return TelegramLinkEmailOut(sent_to=str(driver.email), expires_at=link.expires_at)
