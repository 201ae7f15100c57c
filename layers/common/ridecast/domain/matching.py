"""The matching state machine's tasks (statemachines/matching.asl.json). Each is safe to retry."""

import json
import math
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

from ridecast.adapters import dynamodb, stepfunctions
from ridecast.adapters.channels.base import Button
from ridecast.domain import notifications, registration
from ridecast.domain.clock import utcnow
from ridecast.domain.delivery import Delivery, FleetChannels
from ridecast.domain.drivers import eligible_drivers
from ridecast.domain.entities import Driver, Fleet, Offer, Ride
from ridecast.domain.fleets import get_fleet
from ridecast.domain.messages import render, ride_values
from ridecast.domain.offers import record_winning_answer
from ridecast.domain.types import OPEN_OFFER_STATUSES
from ridecast.errors import ChannelError, RideNotFound
from ridecast.ids import new_offer_secret, offer_token
from ridecast.observability import logger, metrics
from ridecast.settings import get_settings

# BatchWriteItem calls in flight at once while a wave's offers are saved.
OFFER_WRITES_IN_FLIGHT = 8

T = TypeVar("T")
R = TypeVar("R")


def _load(ride_id: str) -> Ride:
    ride = dynamodb.get_ride(ride_id)
    if ride is None:
        raise RideNotFound(f"ride {ride_id} not found")
    return ride


def _parallel[T, R](work: Callable[[T], R], items: Iterable[T], at_most: int | None = None) -> list[R]:
    """Fan out provider calls and their bookkeeping; bounded so 1,000 drivers do not mean 1,000 sockets."""
    batch = list(items)
    if len(batch) <= 1:
        return [work(item) for item in batch]
    workers = min(at_most or get_settings().broadcast_concurrency, len(batch))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(work, batch))


def offer_link(offer: Offer) -> str:
    return f"{get_settings().base_url}/offers/{offer_token(offer.ride_id, offer.driver_id, offer.secret)}"


def _send_offer(channels: FleetChannels, ride: Ride, driver: Driver, offer: Offer, kind: str) -> Delivery:
    token = offer_token(offer.ride_id, offer.driver_id, offer.secret)
    values = ride_values(ride, link=offer_link(offer))
    fleet = channels.fleet
    body = render(fleet, kind, **values)
    if driver.channel == "telegram" and not driver.telegram_chat_id and fleet.telegram is not None:
        # Reached by SMS until they open their deep link; the offer itself invites them to.
        body += render(fleet, "register_hint", register_link=registration.issue_link(fleet, driver).url)
    delivery = channels.to_driver(
        driver,
        body,
        telegram_body=render(fleet, f"{kind}_telegram", **values),
        buttons=(
            Button(render(fleet, "button_accept"), f"a:{token}"),
            Button(render(fleet, "button_reject"), f"r:{token}"),
        ),
        status_callback=(
            f"{get_settings().base_url}/webhooks/twilio/status?ride_id={offer.ride_id}&driver_id={offer.driver_id}"
        ),
        # The fleet's approved WhatsApp offer template numbers its placeholders {{1}}..{{5}}.
        template_variables={
            "1": ride.code,
            "2": ride.pickup.address,
            "3": ride.dropoff.address,
            "4": str(values["when"]),
            "5": str(values["link"]),
        },
    )
    if not delivery.ok:
        dynamodb.update_offer(offer.ride_id, offer.driver_id, {"sent"}, status="failed", error=delivery.error)
    elif delivery.channel == "telegram" and delivery.receipt is not None:
        # Telegram offers are edited in place when the ride is taken, so keep where they went.
        dynamodb.update_offer(
            offer.ride_id,
            offer.driver_id,
            None,
            provider_message_id=delivery.receipt.provider_message_id,
            provider_chat_id=delivery.receipt.chat_id,
        )
    return delivery


def broadcast(ride_id: str) -> dict[str, Any]:
    """Offer the ride to every eligible driver not offered yet, and remind those who timed out once."""
    ride = _load(ride_id)
    if ride.status != "searching":
        return {"ride_status": ride.status}
    fleet = get_fleet(ride.fleet_id)
    now = utcnow()
    remaining = (ride.deadline_at - now).total_seconds()
    if remaining <= 0:
        return {"ride_status": "searching", "deadline_passed": True, "window_seconds": 1}

    offers = {o.driver_id: o for o in dynamodb.list_offers(ride_id)}
    eligible = eligible_drivers(ride.fleet_id)
    newcomers = [d for d in eligible if d.driver_id not in offers]
    to_remind = [
        d
        for d in eligible
        if d.driver_id in offers and offers[d.driver_id].status == "timeout" and offers[d.driver_id].reminders == 0
    ]
    wave = ride.wave + 1
    # Offers saved by an attempt of this very wave that failed before finishing (Step Functions
    # retries the task): send them again, since a duplicate offer beats a driver never asked.
    interrupted = [
        d
        for d in eligible
        if d.driver_id in offers and offers[d.driver_id].wave == wave and offers[d.driver_id].status == "sent"
    ]
    channels = FleetChannels(fleet)

    if wave == 1 and not newcomers and not interrupted:
        return _no_eligible_drivers(channels, ride)
    threshold = fleet.settings.low_availability_threshold
    if wave == 1 and threshold and len(newcomers) < threshold:
        notifications.alert_admins(channels, ride, "admin_low_availability", count=str(len(newcomers)))

    new_offers = [
        Offer(
            ride_id=ride_id,
            driver_id=d.driver_id,
            fleet_id=ride.fleet_id,
            secret=new_offer_secret(),
            ride_code=ride.code,
            channel=channels.driver_channel(d)[0],
            wave=wave,
            sent_at=now,
        )
        for d in newcomers
    ]
    deliveries = _save_and_send_offers(
        channels, ride, list(zip(newcomers, new_offers, strict=True)), [(d, offers[d.driver_id]) for d in interrupted]
    )
    reminded = _parallel(lambda d: _remind(channels, ride, d, offers[d.driver_id]), to_remind)

    delivered = sum(1 for d in deliveries if d.ok)
    updated = dynamodb.update_searching_ride(ride_id, {"wave": wave}, add={"drivers_notified": delivered})
    if updated is None:
        # An accept or a cancel won while the wave was going out; its drivers were notified all the same.
        dynamodb.add_to_ride(ride_id, {"drivers_notified": delivered})
        return {"ride_status": _load(ride_id).status}
    if wave == 1:
        notifications.customer_searching(channels, ride, delivered)
    metrics.add_metric(name="OffersSent", unit="Count", value=delivered)
    metrics.add_metric(name="OffersFailed", unit="Count", value=len(deliveries) - delivered)
    logger.info(
        "wave sent",
        extra={
            "ride_id": ride_id,
            "wave": wave,
            "offers": len(new_offers),
            "delivered": delivered,
            "reminders": sum(reminded),
        },
    )
    window = min(fleet.settings.driver_response_seconds, math.ceil(remaining))
    return {
        "ride_status": "searching",
        "deadline_passed": False,
        "window_seconds": max(1, window),
        "wave": wave,
        "offers_sent": delivered,
        "reminders_sent": sum(reminded),
    }


def _save_and_send_offers(
    channels: FleetChannels, ride: Ride, new: list[tuple[Driver, Offer]], saved: list[tuple[Driver, Offer]]
) -> list[Delivery]:
    """Write the new offers, then send every offer of the wave.

    Offers exist before any message leaves, so even an instant answer finds its offer. The batch writes go
    out a few at a time: 1,000 drivers are 40 BatchWriteItem calls, 5 round trips instead of 40 in a row.
    """
    limit = dynamodb.BATCH_WRITE_LIMIT
    batches = [[offer for _, offer in new[i : i + limit]] for i in range(0, len(new), limit)]
    _parallel(dynamodb.put_offers, batches, at_most=OFFER_WRITES_IN_FLIGHT)
    return _parallel(lambda pair: _send_offer(channels, ride, pair[0], pair[1], "offer"), saved + new)


def _remind(channels: FleetChannels, ride: Ride, driver: Driver, offer: Offer) -> int:
    reopened = dynamodb.update_offer(ride.ride_id, driver.driver_id, {"timeout"}, status="sent", reminders=1)
    if reopened is None:
        return 0
    return 1 if _send_offer(channels, ride, driver, reopened, "reminder").ok else 0


def _no_eligible_drivers(channels: FleetChannels, ride: Ride) -> dict[str, Any]:
    settled = dynamodb.transition_ride(ride, "timed_out", ended_at=utcnow(), end_reason="no_eligible_drivers")
    if settled is None:
        return {"ride_status": _load(ride.ride_id).status}
    notifications.alert_admins(channels, settled, "admin_no_drivers")
    notifications.tell_customer(channels, settled, "customer_no_drivers_now")
    metrics.add_metric(name="RidesTimedOut", unit="Count", value=1)
    return {"ride_status": "timed_out"}


def await_acceptance(ride_id: str, task_token: str) -> dict[str, Any]:
    """Park the task token on the ride. An answer that landed first completes the token right here."""
    if dynamodb.update_searching_ride(ride_id, {"task_token": task_token}) is not None:
        return {"waiting": True}
    ride = _load(ride_id)
    if ride.status == "assigned":
        stepfunctions.complete_task(task_token, {"driver_id": ride.driver_id})
    elif ride.status == "cancelled":
        stepfunctions.fail_task(task_token, "RideCancelled", f"ride {ride_id} cancelled")
    else:
        stepfunctions.fail_task(task_token, "RideEnded", f"ride {ride_id} is {ride.status}")
    return {"waiting": False, "ride_status": ride.status}


def expire_window(ride_id: str) -> dict[str, Any]:
    """A response window lapsed: unanswered offers become `timeout`; say whether time is up."""
    ride = _load(ride_id)
    if ride.status != "searching":
        return {"ride_status": ride.status}
    offers = dynamodb.list_offers(ride_id)
    expired = _parallel(
        lambda o: dynamodb.update_offer(ride_id, o.driver_id, {"sent"}, status="timeout"),
        [o for o in offers if o.status == "sent"],
    )
    statuses = {o.driver_id: o.status for o in offers} | {o.driver_id: o.status for o in expired if o}
    declined = sum(1 for s in statuses.values() if s in ("rejected", "timeout", "failed"))
    if statuses and declined == len(statuses):
        notifications.escalate(ride, None, declined=declined)
    # Half a second of slack: a window that ends just short of the deadline would only buy a 1 s wave.
    deadline_passed = utcnow() + timedelta(seconds=0.5) >= ride.deadline_at
    return {"ride_status": "searching", "deadline_passed": deadline_passed}


def _settle_open_offers(ride_id: str, status: str, winner: str | None = None) -> list[Offer]:
    """After a ride ends no offer is left `sent`; returns every offer of the ride as it now stands.
    The winner's offer is never settled as something else: it is the accept's answer to record."""
    offers = dynamodb.list_offers(ride_id)
    settled = _parallel(
        lambda o: dynamodb.update_offer(ride_id, o.driver_id, OPEN_OFFER_STATUSES, status=status),
        [o for o in offers if o.status in OPEN_OFFER_STATUSES and o.driver_id != winner],
    )
    latest = {o.driver_id: o for o in offers} | {o.driver_id: o for o in settled if o is not None}
    return list(latest.values())


def time_out(ride_id: str, reason: str = "no_driver_accepted") -> dict[str, Any]:
    """The deadline passed: searching → timed_out, unless an accept wins this race."""
    ride = _load(ride_id)
    for _ in range(5):
        if ride.status != "searching":
            return {"ride_status": ride.status}
        settled = dynamodb.transition_ride(ride, "timed_out", ended_at=utcnow(), end_reason=reason)
        if settled is not None:
            _settle_open_offers(ride_id, "timeout")
            channels = FleetChannels(get_fleet(ride.fleet_id))
            notifications.alert_admins(channels, settled, "admin_timed_out", count=str(settled.drivers_notified))
            notifications.tell_customer(channels, settled, "customer_timed_out")
            metrics.add_metric(name="RidesTimedOut", unit="Count", value=1)
            return {"ride_status": "timed_out"}
        ride = _load(ride_id)
    return {"ride_status": ride.status}


def notify_matched(ride_id: str) -> dict[str, Any]:
    """Tell the customer who is coming first, then the winner, then everyone else that it is taken."""
    ride = _load(ride_id)
    if ride.status != "assigned" or ride.driver_id is None:
        return {"ride_status": ride.status}
    fleet = get_fleet(ride.fleet_id)
    channels = FleetChannels(fleet)
    winner = dynamodb.get_driver(ride.fleet_id, ride.driver_id)
    if winner is not None:
        notifications.customer_matched(channels, ride, winner)
        channels.to_driver(winner, render(fleet, "assigned_driver", **ride_values(ride)))
    # The accept that won may not have recorded its answer yet; the winner must never read "taken".
    record_winning_answer(ride)
    others = [
        o
        for o in _settle_open_offers(ride_id, "taken", winner=ride.driver_id)
        if o.status in ("taken", "rejected") and o.driver_id != ride.driver_id
    ]
    _tell_drivers(channels, fleet, ride, others, "taken")
    return {"ride_status": "assigned", "drivers_told": len(others)}


def notify_cancelled(ride_id: str) -> dict[str, Any]:
    ride = _load(ride_id)
    if ride.status != "cancelled":
        return {"ride_status": ride.status}
    fleet = get_fleet(ride.fleet_id)
    told = [o for o in _settle_open_offers(ride_id, "cancelled") if o.status in ("cancelled", "rejected")]
    _tell_drivers(FleetChannels(fleet), fleet, ride, told, "cancelled_driver")
    return {"ride_status": "cancelled", "drivers_told": len(told)}


def _tell_drivers(channels: FleetChannels, fleet: Fleet, ride: Ride, offers: list[Offer], kind: str) -> None:
    body = render(fleet, kind, **ride_values(ride))
    drivers = {d.driver_id: d for d in dynamodb.list_drivers(fleet.fleet_id)}
    bot = channels.telegram_bot()

    def tell(offer: Offer) -> None:
        if bot is not None and offer.provider_chat_id and offer.provider_message_id:
            # Telegram offers change in place: the Accept/Reject buttons disappear with the news.
            try:
                bot.edit(offer.provider_chat_id, offer.provider_message_id, body)
                return
            except ChannelError as error:
                logger.info("telegram edit failed; sending instead", extra={"error": error.message})
        driver = drivers.get(offer.driver_id)
        if driver is not None:
            channels.to_driver(driver, body)

    _parallel(tell, [o for o in offers if o.driver_id in drivers and o.status != "failed"])


def mark_failed(ride_id: str, error: dict[str, Any] | None) -> dict[str, Any]:
    """The flow hit an error it could not retry away: fail the ride loudly rather than leave it searching."""
    described = _describe_error(error)
    ride = _load(ride_id)
    for _ in range(5):
        if ride.status != "searching":
            return {"ride_status": ride.status}
        failed = dynamodb.transition_ride(ride, "failed", ended_at=utcnow(), end_reason=described[:500])
        if failed is not None:
            _settle_open_offers(ride_id, "cancelled")
            channels = FleetChannels(get_fleet(ride.fleet_id))
            notifications.alert_admins(channels, failed, "admin_failed", error=described[:300])
            notifications.tell_customer(channels, failed, "customer_failed")
            metrics.add_metric(name="RidesFailed", unit="Count", value=1)
            logger.error("ride failed", extra={"ride_id": ride_id, "error": described, "cause": error})
            return {"ride_status": "failed"}
        ride = _load(ride_id)
    return {"ride_status": ride.status}


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


def sweep() -> dict[str, Any]:
    """Settle rides still searching well past their deadline (a lost or stuck execution)."""
    cutoff = utcnow() - timedelta(seconds=get_settings().sweeper_grace_seconds)
    settled = 0
    for ride_id in dynamodb.rides_searching_past(cutoff):
        if time_out(ride_id, reason="swept: matching did not finish")["ride_status"] == "timed_out":
            settled += 1
            logger.warning("stuck ride settled by the sweeper", extra={"ride_id": ride_id})
    if settled:
        metrics.add_metric(name="RidesSwept", unit="Count", value=settled)
    return {"settled": settled}


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "broadcast": broadcast,
    "await_acceptance": await_acceptance,
    "expire_window": expire_window,
    "time_out": time_out,
    "notify_matched": notify_matched,
    "notify_cancelled": notify_cancelled,
    "mark_failed": mark_failed,
}
