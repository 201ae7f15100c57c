"""A fleet's drivers: registering, reading, editing, and who is eligible for an offer."""

from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.clock import utcnow
from ridecast.domain.drivers.commands import DriverChanges, NewDriver
from ridecast.domain.entities import Driver, GeoPoint
from ridecast.domain.ports import Ports
from ridecast.domain.types import DriverChannel
from ridecast.errors import DriverNotFound, FleetChannelMissing
from ridecast.ids import new_id
from ridecast.observability import logger, mask_phone


def register_driver(ports: Ports, fleet_id: str, request: NewDriver) -> Driver:
    require_reachable(ports, fleet_id, request.channel)
    now = utcnow()
    driver = Driver(
        driver_id=new_id("d"),
        fleet_id=fleet_id,
        name=request.name,
        phone=request.phone,
        channel=request.channel,
        email=request.email,
        vehicle=request.vehicle,
        rating=request.rating,
        status="active",
        created_at=now,
        updated_at=now,
        last_seen_at=now,
    )
    ports.stores.drivers.create(driver)
    ports.stores.driver_phones.add(driver.phone, fleet_id, driver.driver_id)
    logger.info("driver registered", extra={"driver_id": driver.driver_id, "phone": mask_phone(driver.phone)})
    return driver


def get_driver(ports: Ports, fleet_id: str, driver_id: str) -> Driver:
    driver = ports.stores.drivers.get(fleet_id, driver_id)
    if driver is None:
        raise DriverNotFound(f"driver {driver_id} not found")
    return driver


def require_reachable(ports: Ports, fleet_id: str, channel: DriverChannel) -> None:
    """SPEC §5: a driver on a channel that neither the fleet nor the platform can reach is refused (409)."""
    fleet = ports.stores.fleets.get(fleet_id)
    if fleet is not None and not ChannelRouter.for_fleet(fleet, ports).can_reach(channel):
        provider = "Telegram bot" if channel == "telegram" else f"Twilio {channel} sender"
        raise FleetChannelMissing(
            f"neither this fleet nor the platform has a {provider}: PATCH /fleets/{{id}} to add one", field="channel"
        )


def list_drivers(ports: Ports, fleet_id: str, status: str | None = None) -> list[Driver]:
    drivers = ports.stores.drivers.for_fleet(fleet_id)
    if status:
        drivers = [d for d in drivers if d.status == status]
    return sorted(drivers, key=lambda d: d.created_at)


def update_driver(ports: Ports, fleet_id: str, driver_id: str, request: DriverChanges) -> Driver:
    previous = get_driver(ports, fleet_id, driver_id)
    changes = request.model_dump(exclude_unset=True)
    if request.channel is not None and request.channel != previous.channel:
        require_reachable(ports, fleet_id, request.channel)
    if "vehicle" in changes:
        changes["vehicle"] = request.vehicle
    if "location" in changes:
        changes["location"] = request.location
        changes["location_at"] = utcnow() if request.location is not None else None
    now = utcnow()
    if changes.get("status") == "active" and previous.status != "active":
        # Re-activation counts as being seen: such drivers go to the front of the next wave.
        changes["last_seen_at"] = now
    updated = Driver.model_validate({**previous.model_dump(), **changes, "updated_at": now})
    ports.stores.drivers.replace(previous, updated)
    if previous.status == "active" and updated.status != "active":
        _withdraw_open_offers(ports, updated)
    if updated.phone != previous.phone:
        ports.stores.driver_phones.remove(previous.phone, fleet_id)
        ports.stores.driver_phones.add(updated.phone, fleet_id, driver_id)
    return updated


# Offers a driver may still answer: withdrawn when they stop being active, so their link answers 409.
OPEN_OFFER_STATUSES = frozenset({"sent", "timeout", "failed"})
# Matching lasts at most a day: a driver cannot hold more open offers than the rides of a busy day.
WITHDRAW_LOOKBACK = 500


def _withdraw_open_offers(ports: Ports, driver: Driver) -> None:
    """A blocked or inactive driver's unanswered offers become `cancelled` (each conditional on still being
    unanswered). Accepting is refused by the driver's status anyway (SPEC §4.2); this keeps the record true."""
    withdrawn = 0
    for offer in ports.stores.offers.recent_for_driver(driver.driver_id, limit=WITHDRAW_LOOKBACK):
        if offer.status in OPEN_OFFER_STATUSES:
            changed = ports.stores.offers.update(
                offer.ride_id, driver.driver_id, OPEN_OFFER_STATUSES, status="cancelled"
            )
            withdrawn += changed is not None
    if withdrawn:
        logger.info("open offers withdrawn", extra={"driver_id": driver.driver_id, "offers": withdrawn})


def locate_driver(ports: Ports, driver: Driver, lat: float, lng: float, *, via_whatsapp: bool = False) -> Driver:
    """Where the driver's phone says they are, now (a Telegram or WhatsApp location). Out of range → 422."""
    now = utcnow()
    location = GeoPoint(lat=lat, lng=lng)
    ports.stores.drivers.locate(driver.fleet_id, driver.driver_id, location, now)
    if via_whatsapp:
        # Writing to the fleet's WhatsApp number opens its 24-hour window like any message.
        ports.stores.drivers.touch(driver.fleet_id, driver.driver_id, now, via_whatsapp=True)
    logger.info("driver located", extra={"driver_id": driver.driver_id})
    return driver.model_copy(update={"location": location, "location_at": now, "last_seen_at": now})


def eligible_drivers(ports: Ports, fleet_id: str) -> list[Driver]:
    """Active drivers, most recently seen first (SPEC §4.1)."""
    active = [d for d in ports.stores.drivers.for_fleet(fleet_id) if d.status == "active"]
    return sorted(active, key=lambda d: d.last_seen_at or d.created_at, reverse=True)
