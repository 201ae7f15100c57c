"""Messages from the fleet's operators to its drivers (`POST /drivers/message`, SPEC §8).

The API call only checks who gets the message and hands it to `BackgroundJobs`, answering 202 with the count
at once; `deliver_driver_message` then sends it in another invocation (an asynchronous Lambda invoke in AWS),
through the channel router: each driver on their own channel, falling back as in an offer, in the router's
mode, paced by the provider adapters (a bot's 30 msg/s, a sender's own rate)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ridecast.domain.channels.catalogue import render
from ridecast.domain.channels.router import ChannelRouter, DriverMessage
from ridecast.domain.entities import Driver
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.ports import Ports
from ridecast.errors import DriverNotFound, InvalidInput
from ridecast.ids import new_id
from ridecast.observability import logger, metrics


@dataclass(frozen=True)
class QueuedMessage:
    message_id: str
    recipients: int


@dataclass(frozen=True)
class MessageSent:
    message_id: str
    recipients: int
    delivered: int


def queue_driver_message(ports: Ports, fleet_id: str, text: str, driver_ids: Sequence[str] | None) -> QueuedMessage:
    """Check the recipients now (unknown ids → 404 naming them, blocked drivers → 422), send later."""
    get_fleet(ports, fleet_id)
    recipients = _recipients(ports, fleet_id, driver_ids, strict=True)
    message_id = new_id("m")
    if recipients:
        ports.jobs.message_drivers(
            {
                "fleet_id": fleet_id,
                "message_id": message_id,
                "text": text,
                # None: every driver active when it is sent (a fleet's whole roster would not fit an event).
                "driver_ids": list(driver_ids) if driver_ids is not None else None,
            }
        )
    logger.info("driver message queued", extra={"message_id": message_id, "recipients": len(recipients)})
    return QueuedMessage(message_id=message_id, recipients=len(recipients))


def deliver_driver_message(ports: Ports, job: dict[str, Any]) -> MessageSent:
    """The queued message to each recipient; a driver blocked (or, for "everyone", gone inactive) since the
    API call is left out. One router write per channel for the whole round, as for a wave of offers."""
    fleet = get_fleet(ports, str(job["fleet_id"]))
    listed = job.get("driver_ids")
    drivers = _recipients(ports, fleet.fleet_id, [str(d) for d in listed] if listed is not None else None)
    router = ChannelRouter.for_fleet(fleet, ports)
    body = render(fleet, "driver_message", fleet_name=fleet.name, text=str(job["text"]))
    with router.batch():
        # One batch per provider, as for a wave of offers.
        deliveries = router.to_drivers([DriverMessage(driver, body) for driver in drivers])
    delivered = sum(1 for d in deliveries if d.ok)
    metrics.add_metric(name="DriverMessagesSent", unit="Count", value=delivered)
    metrics.add_metric(name="DriverMessagesFailed", unit="Count", value=len(deliveries) - delivered)
    logger.info(
        "driver message sent",
        extra={"message_id": job.get("message_id"), "recipients": len(drivers), "delivered": delivered},
    )
    return MessageSent(message_id=str(job.get("message_id")), recipients=len(drivers), delivered=delivered)


def _recipients(ports: Ports, fleet_id: str, driver_ids: Sequence[str] | None, strict: bool = False) -> list[Driver]:
    """Every active driver, or the listed ones whatever their status but blocked (an operator may well ask
    an offline driver to come online; a blocked driver hears nothing from the fleet)."""
    roster = ports.stores.drivers.for_fleet(fleet_id)
    if driver_ids is None:
        return [d for d in roster if d.status == "active"]
    by_id = {d.driver_id: d for d in roster}
    if strict:
        # Another fleet's driver is as unknown here as one that never existed (SPEC §3: 404).
        if unknown := [d for d in driver_ids if d not in by_id]:
            raise DriverNotFound(f"no such drivers in this fleet: {', '.join(unknown)}", driver_ids=unknown)
        if blocked := [d for d in driver_ids if by_id[d].status == "blocked"]:
            raise InvalidInput(
                f"driver_ids: blocked drivers get no messages: {', '.join(blocked)}",
                field="driver_ids",
                driver_ids=blocked,
            )
    return [by_id[d] for d in driver_ids if d in by_id and by_id[d].status != "blocked"]
