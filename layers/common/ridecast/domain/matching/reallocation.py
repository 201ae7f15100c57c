"""Reassign and give back (SPEC §8): an assigned ride goes to another driver the operator names, or back to
matching without its driver as a new round (a fresh execution with a deadline of its own).

Every move is one conditional write on the ride's status and version, so of two reassigns, or a reassign
and a give back, that race, exactly one wins and the other is told the ride changed.
"""

from datetime import datetime, timedelta
from typing import Any

from ridecast.domain.channels.catalogue import driver_values, render, ride_values
from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Driver, Fleet, Offer, Ride
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.matching import notifications
from ridecast.domain.matching.answers import open_offer
from ridecast.domain.matching.broadcast import new_offer
from ridecast.domain.matching.holder import tell_holder
from ridecast.domain.ports import Ports
from ridecast.domain.rides.create import matching_payload
from ridecast.domain.rides.read import get_ride
from ridecast.domain.stats.recording import record_ride_ended, record_ride_reopened
from ridecast.errors import DriverNotFound, MatchingUnavailable, OfferClosed, RideChanged, RideNotReassignable
from ridecast.observability import logger, metrics

NOT_YOURS = "not_assigned_to_you"


def reassign_ride(ports: Ports, fleet_id: str, ride_id: str, driver_id: str | None, reason: str | None) -> Ride:
    """POST /rides/{id}/reassign: to the named active driver of the fleet, or back to matching without the
    driver who has it."""
    ride = get_ride(ports, fleet_id, ride_id)
    if ride.status != "assigned":
        raise RideNotReassignable(
            f"ride {ride.code} is {ride.status}: only an assigned ride can be reassigned", status=ride.status
        )
    fleet = get_fleet(ports, fleet_id)
    if driver_id is None:
        return _back_to_matching(ports, fleet, ride, given_back=False, reason=reason)
    driver = ports.stores.drivers.get(fleet_id, driver_id)
    if driver is None or driver.status != "active":
        raise DriverNotFound(f"driver {driver_id}: no active driver of this fleet has this id")
    if driver_id == ride.driver_id:
        raise RideNotReassignable(f"ride {ride.code} is already assigned to driver {driver_id}", status=ride.status)
    return _to_driver(ports, fleet, ride, driver, reason)


def give_back(ports: Ports, token: str) -> Ride:
    """POST /offers/{token}/release: the driver who holds the ride gives it back."""
    offer, ride = open_offer(ports, token)
    return give_back_offer(ports, offer, ride)


def give_back_offer(ports: Ports, offer: Offer, ride: Ride) -> Ride:
    """From any channel: OfferClosed(`not_assigned_to_you`) unless the ride is assigned to the offer's driver."""
    if ride.status != "assigned" or ride.driver_id != offer.driver_id:
        raise OfferClosed(NOT_YOURS)
    try:
        return _back_to_matching(ports, get_fleet(ports, ride.fleet_id), ride, given_back=True, reason=None)
    except RideChanged:
        # A reassign (or the driver's own earlier give back) won: the ride is no longer theirs to give.
        raise OfferClosed(NOT_YOURS) from None


def give_back_reply(ports: Ports, fleet: Fleet, offer: Offer, ride: Ride) -> str:
    """A give back from a message (an SMS/WhatsApp `cancel`, a Telegram button): what the driver is answered."""
    try:
        ride = give_back_offer(ports, offer, ride)
    except OfferClosed as closed:
        return render(fleet, f"result_{closed.result}", **ride_values(ride))
    return render(fleet, "result_released", **ride_values(ride))


def _reason(kind: str, reason: str | None) -> str:
    return f"{kind}: {reason}" if reason else kind


def _to_driver(ports: Ports, fleet: Fleet, ride: Ride, driver: Driver, reason: str | None) -> Ride:
    now = utcnow()
    moved = ports.stores.rides.transition(
        ride,
        "assigned",
        driver_id=driver.driver_id,
        assigned_at=now,
        reassignments=ride.reassignments + 1,
        end_reason=_reason("reassigned", reason),
    )
    if moved is None:
        raise RideChanged(f"ride {ride.code} changed while it was being reassigned: read it again")
    router = ChannelRouter.for_fleet(fleet, ports)
    offer = _hand_over(ports, router, moved, driver, now)
    _take_from(ports, router, ride, "cancelled")
    record_ride_ended(ports, moved)  # the same ending, one reassignment more
    notifications.tell_customer(
        router, moved, "customer_reassigned", limits=ports.stores.rate_limits, **driver_values(driver)
    )
    tell_holder(router, moved, driver, offer, "reassigned_driver")
    metrics.add_metric(name="RidesReassigned", unit="Count", value=1)
    logger.info("ride reassigned", extra={"ride_id": ride.ride_id, "driver_id": driver.driver_id})
    return moved


def _hand_over(ports: Ports, router: ChannelRouter, ride: Ride, driver: Driver, now: datetime) -> Offer:
    """The new driver's offer, accepted on their behalf: their link and Give back work like a winner's. A
    driver offered the ride before keeps their secret, so the link they have works too."""
    earlier = ports.stores.offers.get(ride.ride_id, driver.driver_id)
    offer = new_offer(ride, driver, router, ride.wave, now, earlier).model_copy(
        update={"status": "accepted", "responded_at": now, "response_seconds": 0}
    )
    ports.stores.offers.add_many([offer])
    return offer


def _take_from(ports: Ports, router: ChannelRouter, ride: Ride, offer_status: str) -> None:
    """The driver who had the ride: their offer says why it is no longer theirs; an operator's reassign tells them
    (a driver who gave it back hears the answer to their own request)."""
    if ride.driver_id is None:
        return
    ports.stores.offers.update(ride.ride_id, ride.driver_id, {"accepted"}, status=offer_status)
    if offer_status == "released":
        return
    previous = ports.stores.drivers.get(ride.fleet_id, ride.driver_id)
    if previous is not None:
        router.to_driver(previous, render(router.fleet, "reassigned_away", **ride_values(ride)))


def _back_to_matching(ports: Ports, fleet: Fleet, ride: Ride, *, given_back: bool, reason: str | None) -> Ride:
    """A new round without the driver who had the ride; past the fleet's `max_reallocations` the ride times out
    and the admins take over."""
    if ride.reallocations >= fleet.settings.max_reallocations:
        return _time_out_over_cap(ports, fleet, ride, given_back=given_back, reason=reason)
    now = utcnow()
    changes: dict[str, Any] = {
        "driver_id": None,
        "assigned_at": None,
        "ended_at": None,
        "end_reason": None,
        "time_to_match_seconds": None,
        "task_token": None,
        "escalated_at": None,
        "wave": 0,
        "drivers_notified": 0,
        "drivers_responded": 0,
        "drivers_declined": 0,
        "deadline_at": now + timedelta(seconds=fleet.settings.matching_timeout_seconds),
        "matching_round": ride.matching_round + 1,
        "matching_started_at": now,
        "excluded_driver_ids": sorted({*ride.excluded_driver_ids, *([ride.driver_id] if ride.driver_id else [])}),
        "reallocations": ride.reallocations + 1,
        "reassignments": ride.reassignments + (0 if given_back else 1),
    }
    reopened = ports.stores.rides.transition(ride, "searching", **changes)
    if reopened is None:
        raise RideChanged(f"ride {ride.code} changed while it was being sent back to matching: read it again")
    router = ChannelRouter.for_fleet(fleet, ports)
    _take_from(ports, router, ride, "released" if given_back else "cancelled")
    record_ride_reopened(ports, reopened)
    try:
        ports.matching.start(ride.ride_id, matching_payload(reopened), matching_round=reopened.matching_round)
    except MatchingUnavailable:
        logger.exception("could not start matching again", extra={"ride_id": ride.ride_id})
        failed = ports.stores.rides.transition(
            reopened, "failed", ended_at=utcnow(), end_reason="matching could not start again"
        )
        if failed is not None:
            record_ride_ended(ports, failed)
            notifications.alert_admins(router, failed, "admin_failed", error="matching could not start again")
        return failed or reopened
    notifications.tell_customer(router, reopened, "customer_rematching", limits=ports.stores.rate_limits)
    if given_back:
        holder = ports.stores.drivers.get(ride.fleet_id, ride.driver_id or "")
        notifications.alert_admins(
            router, reopened, "admin_released", **(driver_values(holder) if holder else {"driver_name": "?"})
        )
    metrics.add_metric(name="RidesBackToMatching", unit="Count", value=1)
    logger.info(
        "ride back to matching",
        extra={"ride_id": ride.ride_id, "round": reopened.matching_round, "given_back": given_back},
    )
    return reopened


def _time_out_over_cap(ports: Ports, fleet: Fleet, ride: Ride, *, given_back: bool, reason: str | None) -> Ride:
    ended = ports.stores.rides.transition(
        ride,
        "timed_out",
        driver_id=None,
        assigned_at=None,
        time_to_match_seconds=None,
        ended_at=utcnow(),
        end_reason=_reason("max_reallocations reached", reason),
        reassignments=ride.reassignments + (0 if given_back else 1),
    )
    if ended is None:
        raise RideChanged(f"ride {ride.code} changed while it was being reassigned: read it again")
    router = ChannelRouter.for_fleet(fleet, ports)
    _take_from(ports, router, ride, "released" if given_back else "cancelled")
    record_ride_ended(ports, ended)
    notifications.alert_admins(router, ended, "admin_reallocations_exhausted", count=str(ride.reallocations))
    notifications.tell_customer(router, ended, "customer_timed_out", limits=ports.stores.rate_limits)
    metrics.add_metric(name="RidesTimedOut", unit="Count", value=1)
    logger.info("ride timed out past max_reallocations", extra={"ride_id": ride.ride_id})
    return ended
