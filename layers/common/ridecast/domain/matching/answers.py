"""A driver answering an offer: the first accept wins the ride through one conditional write."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Fleet, Offer, Ride
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.matching.notifications import escalate_if_everyone_declined
from ridecast.domain.ports import Ports
from ridecast.domain.rides.transitions import move_ride
from ridecast.errors import OfferClosed, OfferNotFound
from ridecast.ids import parse_offer_token, same_secret
from ridecast.observability import logger, metrics

# Statuses from which an answer counts as the driver's first response.
UNANSWERED = frozenset({"sent", "timeout", "failed"})


@dataclass(frozen=True)
class OfferView:
    offer: Offer
    ride: Ride
    fleet: Fleet


def open_offer(ports: Ports, token: str) -> tuple[Offer, Ride]:
    parsed = parse_offer_token(token)
    if parsed is None:
        raise OfferNotFound("offer not found")
    ride_id, driver_id, secret = parsed
    offer = ports.stores.offers.get(ride_id, driver_id)
    if offer is None or not same_secret(offer.secret, secret):
        raise OfferNotFound("offer not found")
    ride = ports.stores.rides.get(ride_id)
    if ride is None:
        raise OfferNotFound("offer not found")
    return offer, ride


def view_offer(ports: Ports, token: str) -> OfferView:
    offer, ride = open_offer(ports, token)
    return OfferView(offer=offer, ride=ride, fleet=get_fleet(ports, ride.fleet_id))


def _closed_result(ride: Ride, driver_id: str) -> str | None:
    """Why this driver can no longer win the ride, or None while it is open."""
    if ride.status == "assigned":
        return None if ride.driver_id == driver_id else "already_taken"
    if ride.status == "cancelled":
        return "cancelled"
    if ride.status in ("timed_out", "failed") or utcnow() >= ride.deadline_at:
        return "expired"
    return None


def in_this_round(offer: Offer, ride: Ride) -> bool:
    """An offer of the ride's current matching round: a driver the ride went back to matching without, or one
    not offered it again yet, holds a link of an earlier round (SPEC §8)."""
    return offer.matching_round == ride.matching_round and offer.driver_id not in ride.excluded_driver_ids


def accept(ports: Ports, token: str) -> Ride:
    offer, ride = open_offer(ports, token)
    return accept_offer(ports, offer, ride)


def reject(ports: Ports, token: str) -> Ride:
    offer, ride = open_offer(ports, token)
    return reject_offer(ports, offer, ride)


def _assignment(driver_id: str) -> Callable[[Ride], dict[str, object]]:
    def changes(ride: Ride) -> dict[str, object]:
        now = utcnow()
        return {
            "driver_id": driver_id,
            "assigned_at": now,
            "ended_at": now,
            "end_reason": "accepted",
            # A ride back to matching (SPEC §8) counts from the start of its round.
            "time_to_match_seconds": round((now - (ride.matching_started_at or ride.created_at)).total_seconds(), 3),
        }

    return changes


def accept_offer(ports: Ports, offer: Offer, ride: Ride) -> Ride:
    """The first accept wins through one conditional write; every other accept learns why it lost.

    Only a driver who is active now may win (SPEC §4.2): their status is read at accept time, so a block
    that lands before the accept is read here refuses it; the winning write stays conditional on the ride."""
    driver = ports.stores.drivers.get(ride.fleet_id, offer.driver_id)
    if driver is None or driver.status != "active":
        raise OfferClosed("driver_not_active")
    if ride.status == "searching" and not in_this_round(offer, ride):
        raise OfferClosed("expired")
    won = move_ride(
        ports.stores.rides,
        ride,
        "assigned",
        _assignment(offer.driver_id),
        allowed=lambda r: r.status != "assigned" and _closed_result(r, offer.driver_id) is None,
    )
    if not won.moved:
        closed = _closed_result(won.ride, offer.driver_id)
        if closed:
            raise OfferClosed(closed)
        return won.ride  # the winner asking again gets the same answer, never a second assignment
    assigned = won.ride
    _record_response(ports, offer, "accepted")
    if assigned.task_token:
        ports.matching.complete_task(assigned.task_token, {"driver_id": offer.driver_id})
    metrics.add_metric(name="RidesMatched", unit="Count", value=1)
    if assigned.time_to_match_seconds is not None:
        metrics.add_metric(name="TimeToMatch", unit="Seconds", value=assigned.time_to_match_seconds)
    logger.info("ride assigned", extra={"ride_id": assigned.ride_id, "driver_id": offer.driver_id})
    return assigned


def reject_offer(ports: Ports, offer: Offer, ride: Ride) -> Ride:
    closed = _closed_result(ride, offer.driver_id)
    if ride.status == "assigned" and not closed:
        closed = "already_taken"  # the assigned driver gives the ride back instead (SPEC §8)
    if closed:
        raise OfferClosed(closed)
    if _record_response(ports, offer, "rejected"):
        declined = ports.stores.rides.update_searching(ride.ride_id, add={"drivers_declined": 1})
        if declined is not None:
            escalate_if_everyone_declined(ports, declined)
    return ride


def answer(ports: Ports, offer: Offer, ride: Ride, accepting: bool) -> tuple[str, Ride]:
    """A driver's answer from any channel: the SPEC §3 result (assigned, rejected, already_taken, cancelled,
    expired) and the ride as it now stands."""
    try:
        if accepting:
            return "assigned", accept_offer(ports, offer, ride)
        return "rejected", reject_offer(ports, offer, ride)
    except OfferClosed as closed:
        return closed.result, ride


def newest_open_offer(ports: Ports, driver_id: str, ride_code: str | None) -> tuple[Offer, Ride] | None:
    """The offer an SMS/WhatsApp reply answers: the named ride, else the driver's newest offer only.

    A bare "yes" means the offer the driver just got: when another driver won it, or it was cancelled, before
    its deadline, they are told so (SPEC §4) rather than handed an older ride they may no longer mean; an
    older open offer needs its code. A newest offer long over answers nothing ("no open offer").
    """
    for offer in ports.stores.offers.recent_for_driver(driver_id):
        if ride_code and offer.ride_code != ride_code:
            continue
        ride = ports.stores.rides.get(offer.ride_id)
        if ride is None:
            continue
        if ride_code or ride.status == "searching":
            return offer, ride
        # Taken by another driver or cancelled before its deadline: say so. The winner's own ride is not open.
        closed_early = utcnow() < ride.deadline_at and ride.driver_id != driver_id
        return (offer, ride) if closed_early else None
    return None


def record_winning_answer(ports: Ports, ride: Ride) -> None:
    """The winner's offer reads `accepted`, whoever gets there first: the accept that won, or the flow.

    The flow can learn of the assignment from the ride item (Broadcast, ExpireOffers, TimeOut, or a
    token AwaitAcceptance completes itself) while the winning accept is still between its two writes.
    """
    if ride.status != "assigned" or ride.driver_id is None:
        return
    offer = ports.stores.offers.get(ride.ride_id, ride.driver_id)
    if offer is not None and offer.status != "accepted":
        _record_response(ports, offer, "accepted", at=ride.assigned_at)


def _record_response(ports: Ports, offer: Offer, status: str, at: datetime | None = None) -> bool:
    """Mark the offer answered; True when this was the driver's first answer."""
    now = at or utcnow()
    response_seconds = round((now - offer.sent_at).total_seconds(), 3)
    first = ports.stores.offers.update(
        offer.ride_id,
        offer.driver_id,
        UNANSWERED,
        status=status,
        responded_at=now,
        response_seconds=response_seconds,
    )
    if first is not None:
        ports.stores.rides.add_counts(offer.ride_id, {"drivers_responded": 1})
        return True
    if status == "accepted":
        # A change of mind (rejected, then accepted) still records the final answer.
        ports.stores.offers.update(offer.ride_id, offer.driver_id, {"rejected"}, status=status)
    return False
