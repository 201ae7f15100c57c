"""How a ride's matching ends (SPEC §4.4-§4.7): matched, cancelled, timed out or failed, and who is told."""

import json
from functools import partial
from operator import call
from typing import Any

from ridecast.domain.channels.catalogue import render, ride_values
from ridecast.domain.channels.ports import MessageEdit
from ridecast.domain.channels.router import ChannelRouter, DriverMessage
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Fleet, Offer, Ride
from ridecast.domain.fan_out import in_parallel
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.matching import notifications
from ridecast.domain.matching.answers import record_winning_answer
from ridecast.domain.matching.holder import tell_holder
from ridecast.domain.ports import OfferChange, Ports
from ridecast.domain.rides.transitions import load_ride, move_ride
from ridecast.domain.stats.recording import record_ride_ended
from ridecast.domain.types import OPEN_OFFER_STATUSES
from ridecast.observability import logger, metrics


def settle_open_offers(ports: Ports, ride_id: str, status: str, winner: str | None = None) -> list[Offer]:
    """After a ride ends no offer is left `sent`; returns every offer of the ride as it now stands.
    The winner's offer is never settled as something else: it is the accept's answer to record.
    The open offers are settled in batches (a hundred drivers: 4 writes, not 100), each only from the status
    it was read in; one that moved meanwhile (its window lapsing) is settled again on its own."""
    offers = ports.stores.offers.for_ride(ride_id)

    def still_open(found: list[Offer]) -> list[Offer]:
        return [o for o in found if o.status in OPEN_OFFER_STATUSES and o.driver_id != winner]

    if not (open_offers := still_open(offers)):
        return offers
    changes = [OfferChange(ride_id, o.driver_id, {"status": status}, only_from=o.status) for o in open_offers]
    ports.stores.offers.update_many(changes)
    offers = ports.stores.offers.for_ride(ride_id)
    settled = in_parallel(
        lambda o: ports.stores.offers.update(ride_id, o.driver_id, OPEN_OFFER_STATUSES, status=status),
        still_open(offers),
    )
    latest = {o.driver_id: o for o in offers} | {o.driver_id: o for o in settled if o is not None}
    return list(latest.values())


def time_out(ports: Ports, ride_id: str, reason: str = "no_driver_accepted") -> dict[str, Any]:
    """The deadline passed: searching → timed_out, unless an accept wins this race."""
    ending = move_ride(
        ports.stores.rides,
        load_ride(ports.stores.rides, ride_id),
        "timed_out",
        lambda _: {"ended_at": utcnow(), "end_reason": reason},
    )
    if not ending.moved:
        if ending.ride.status == "timed_out":
            record_ride_ended(ports, ending.ride)  # a retry of this step: counted once all the same
        return {"ride_status": ending.ride.status}
    record_ride_ended(ports, ending.ride, settle_open_offers(ports, ride_id, "timeout"))
    router = ChannelRouter.for_fleet(get_fleet(ports, ending.ride.fleet_id), ports)
    with router.batch():  # one router write and one counters write for both messages
        notifications.alert_admins(router, ending.ride, "admin_timed_out", count=str(ending.ride.drivers_notified))
        notifications.tell_customer(router, ending.ride, "customer_timed_out", limits=ports.stores.rate_limits)
    metrics.add_metric(name="RidesTimedOut", unit="Count", value=1)
    return {"ride_status": "timed_out"}


def notify_matched(ports: Ports, ride_id: str) -> dict[str, Any]:
    """Tell the customer who is coming first, then the winner, then everyone else that it is taken."""
    ride = load_ride(ports.stores.rides, ride_id)
    if ride.status != "assigned" or ride.driver_id is None:
        return {"ride_status": ride.status}
    fleet = get_fleet(ports, ride.fleet_id)
    router = ChannelRouter.for_fleet(fleet, ports)
    # The customer's, the winner's and the others' messages: one router write and one stats transaction per
    # ride at the end, not one after each of the three.
    with router.batch():
        winner = ports.stores.drivers.get(ride.fleet_id, ride.driver_id)
        if winner is not None:
            notifications.customer_matched(router, ride, winner, ports.stores.rate_limits)
            tell_holder(router, ride, winner, ports.stores.offers.get(ride_id, ride.driver_id), "assigned_driver")
        # The accept that won may not have recorded its answer yet; the winner must never read "taken".
        record_winning_answer(ports, ride)
        settled = settle_open_offers(ports, ride_id, "taken", winner=ride.driver_id)
        record_ride_ended(ports, ride, settled)
        others = [
            o
            for o in settled
            if o.status in ("taken", "rejected")
            and o.driver_id != ride.driver_id
            and o.matching_round == ride.matching_round
        ]
        _tell_drivers(ports, router, fleet, ride, others, "taken")
    return {"ride_status": "assigned", "drivers_told": len(others)}


def notify_cancelled(ports: Ports, ride_id: str) -> dict[str, Any]:
    ride = load_ride(ports.stores.rides, ride_id)
    if ride.status != "cancelled":
        return {"ride_status": ride.status}
    fleet = get_fleet(ports, ride.fleet_id)
    settled = settle_open_offers(ports, ride_id, "cancelled")
    record_ride_ended(ports, ride, settled)
    # A ride cancelled in a later round (SPEC §8): the drivers of this round are the ones expecting news.
    told = [o for o in settled if o.status in ("cancelled", "rejected") and o.matching_round == ride.matching_round]
    _tell_drivers(ports, ChannelRouter.for_fleet(fleet, ports), fleet, ride, told, "cancelled_driver")
    return {"ride_status": "cancelled", "drivers_told": len(told)}


def _tell_drivers(
    ports: Ports, router: ChannelRouter, fleet: Fleet, ride: Ride, offers: list[Offer], kind: str
) -> None:
    """The news to every driver in a batch, as a wave goes out (a thousand drivers: no thousand threads)."""
    body = render(fleet, kind, **ride_values(ride))
    drivers = {d.driver_id: d for d in ports.stores.drivers.for_fleet(fleet.fleet_id)}
    told = [o for o in offers if o.driver_id in drivers and o.status != "failed"]
    bot = router.telegram_bot()
    in_place = [o for o in told if bot is not None and o.provider_chat_id and o.provider_message_id]
    edited = {o.driver_id for o in in_place}

    def send(news_for: list[Offer]) -> None:
        if news_for:
            router.to_drivers([DriverMessage(drivers[o.driver_id], body) for o in news_for])

    def edit_in_place(news_for: list[Offer]) -> None:
        # Telegram offers change in place: the Accept/Reject buttons disappear with the news.
        if bot is None or not news_for:
            return
        edits = [MessageEdit(str(o.provider_chat_id), str(o.provider_message_id), body) for o in news_for]
        outcomes = bot.edit_many(edits)
        for outcome in outcomes:
            if outcome is not None:
                logger.info("telegram edit failed; sending instead", extra={"error": outcome.message})
        send([o for o, outcome in zip(news_for, outcomes, strict=True) if outcome is not None])

    # Edits (paced per bot) and sends go side by side; one router write per channel for the whole round.
    with router.batch():
        in_parallel(
            call, [partial(edit_in_place, in_place), partial(send, [o for o in told if o.driver_id not in edited])]
        )


def mark_failed(ports: Ports, ride_id: str, error: dict[str, Any] | None) -> dict[str, Any]:
    """The flow hit an error it could not retry away: fail the ride loudly rather than leave it searching."""
    described = _describe_error(error)
    ending = move_ride(
        ports.stores.rides,
        load_ride(ports.stores.rides, ride_id),
        "failed",
        lambda _: {"ended_at": utcnow(), "end_reason": described[:500]},
    )
    if not ending.moved:
        if ending.ride.status == "failed":
            record_ride_ended(ports, ending.ride)
        return {"ride_status": ending.ride.status}
    record_ride_ended(ports, ending.ride, settle_open_offers(ports, ride_id, "cancelled"))
    router = ChannelRouter.for_fleet(get_fleet(ports, ending.ride.fleet_id), ports)
    with router.batch():  # one router write and one counters write for both messages
        notifications.alert_admins(router, ending.ride, "admin_failed", error=described[:300])
        notifications.tell_customer(router, ending.ride, "customer_failed", limits=ports.stores.rate_limits)
    metrics.add_metric(name="RidesFailed", unit="Count", value=1)
    logger.error("ride failed", extra={"ride_id": ride_id, "error": described, "cause": error})
    return {"ride_status": "failed"}


def _describe_error(error: dict[str, Any] | None) -> str:
    if not error:
        return "unknown error"
    name = str(error.get("Error", "Error"))
    cause = str(error.get("Cause", ""))
    # A Lambda task's Cause is its whole error payload as JSON, stack trace and file paths included: that
    # belongs in the logs, not on the admins' phones or in the ride's end_reason the API returns.
    try:
        payload = json.loads(cause)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and "errorMessage" in payload:
        cause = str(payload["errorMessage"])
    return f"{name}: {cause}" if cause else name
