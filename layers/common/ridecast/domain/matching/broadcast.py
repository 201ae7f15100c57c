"""Broadcast (SPEC §4.1, §4.3): a wave of offers to every eligible driver not offered yet, and one reminder to
those who timed out. Each wave is safe to retry."""

import math
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from itertools import batched
from typing import Any

from ridecast.domain.channels.catalogue import render, ride_values
from ridecast.domain.channels.ports import Button
from ridecast.domain.channels.router import FIRST_SENDS, ChannelRouter, Delivery, DriverMessage
from ridecast.domain.clock import utcnow
from ridecast.domain.drivers.roster import eligible_drivers
from ridecast.domain.drivers.telegram_registration import issue_link
from ridecast.domain.entities import Driver, Offer, Ride
from ridecast.domain.fan_out import in_parallel
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.matching import holding, notifications
from ridecast.domain.matching.ranking import rank_drivers
from ridecast.domain.ports import OfferChange, Ports
from ridecast.domain.rides.transitions import SUPERSEDED, load_ride, superseded
from ridecast.domain.stats.recording import count_offer_sends, record_ride_ended
from ridecast.domain.types import MessageChannel
from ridecast.ids import new_offer_secret, offer_token
from ridecast.observability import logger, metrics
from ridecast.settings import get_settings

# A wave's offers are saved this many to a write, a few writes side by side: 1,000 drivers are 40 writes,
# 5 round trips instead of 40 in a row.
OFFERS_PER_WRITE = 25
OFFER_WRITES_IN_FLIGHT = 8
# A wave is saved and sent in parts, each sent while the next is saved: the first small, so that messages
# start leaving after a few writes; each next one twice the last, so that a big wave has few part boundaries
# (a part's last sends drain with the pool half idle); at most MAX_PART, so that what a part's sends teach
# (Telegram message ids, to edit the offers in place when the ride is taken) is written every few seconds.
FIRST_PART = 100
MAX_PART = 1600


def offer_link(offer: Offer) -> str:
    return f"{get_settings().base_url}/offers/{offer_token(offer.ride_id, offer.driver_id, offer.secret)}"


def broadcast(ports: Ports, ride_id: str, matching_round: int = 1) -> dict[str, Any]:
    """Offer the ride to every eligible driver not offered yet, and remind those who timed out once."""
    rides = ports.stores.rides
    ride = load_ride(rides, ride_id)
    if superseded(ride, matching_round):
        return {"ride_status": SUPERSEDED}
    if ride.status != "searching":
        return {"ride_status": ride.status}
    fleet = get_fleet(ports, ride.fleet_id)
    earlier = {o.driver_id: o for o in ports.stores.offers.for_ride(ride_id)}
    if not earlier:
        # Not offered to anyone yet: a paused fleet holds it (rides already matching carry on).
        unheld = holding.unless_paused(ports, ride, fleet)
        if unheld is None:
            return {"ride_status": "searching", "held": True}
        if unheld.status != "searching":
            return {"ride_status": unheld.status}
        ride = unheld
    now = utcnow()
    remaining = (ride.deadline_at - now).total_seconds()
    if remaining <= 0:
        return {"ride_status": "searching", "deadline_passed": True, "window_seconds": 1}

    # Offers of an earlier round are made again in this one, on the same record (SPEC §8).
    offers = {d: o for d, o in earlier.items() if o.matching_round == ride.matching_round}
    # Every wave ranks the same way, so later waves and reminders keep the ride's order.
    eligible = rank_drivers(ride, eligible_drivers(ports, ride.fleet_id))
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
    router = ChannelRouter.for_fleet(fleet, ports)

    if wave == 1 and not newcomers and not interrupted:
        return _no_eligible_drivers(ports, router, ride)
    threshold = fleet.settings.low_availability_threshold
    if wave == 1 and threshold and len(newcomers) < threshold:
        notifications.alert_admins(router, ride, "admin_low_availability", count=str(len(newcomers)))

    rank = {d.driver_id: place for place, d in enumerate(eligible, start=1)}
    new_offers = [new_offer(ride, d, router, wave, now, earlier.get(d.driver_id), rank[d.driver_id]) for d in newcomers]
    # The router writes what the wave taught it about each channel once, at the end of the wave.
    with router.batch():
        deliveries = _save_and_send_offers(
            ports,
            router,
            ride,
            list(zip(newcomers, new_offers, strict=True)),
            [(d, offers[d.driver_id]) for d in interrupted],
        )
        reminded = _remind(ports, router, ride, [(d, offers[d.driver_id]) for d in to_remind])

    delivered = sum(1 for d in deliveries if d.ok)
    updated = rides.update_searching(ride_id, {"wave": wave}, add={"drivers_notified": delivered})
    if updated is None:
        # An accept or a cancel won while the wave was going out; its drivers were notified all the same.
        rides.add_counts(ride_id, {"drivers_notified": delivered})
        return {"ride_status": load_ride(rides, ride_id).status}
    if wave == 1:
        notifications.customer_searching(router, ride, delivered, ports.stores.rate_limits)
    metrics.add_metric(name="OffersSent", unit="Count", value=delivered)
    metrics.add_metric(name="OffersFailed", unit="Count", value=len(deliveries) - delivered)
    logger.info(
        "wave sent",
        extra={
            "ride_id": ride_id,
            "wave": wave,
            "offers": len(new_offers),
            "delivered": delivered,
            "reminders": reminded,
        },
    )
    window = min(fleet.settings.driver_response_seconds, math.ceil(remaining))
    return {
        "ride_status": "searching",
        "deadline_passed": False,
        "window_seconds": max(1, window),
        "wave": wave,
        "offers_sent": delivered,
        "reminders_sent": reminded,
    }


def new_offer(
    ride: Ride,
    driver: Driver,
    router: ChannelRouter,
    wave: int,
    now: datetime,
    earlier: Offer | None = None,
    rank: int = 0,
) -> Offer:
    """A fresh offer; a driver offered in an earlier round keeps their secret, so the link they have works."""
    return Offer(
        ride_id=ride.ride_id,
        driver_id=driver.driver_id,
        fleet_id=ride.fleet_id,
        secret=earlier.secret if earlier else new_offer_secret(),
        ride_code=ride.code,
        channel=router.driver_channel(driver)[0],
        wave=wave,
        matching_round=ride.matching_round,
        rank=rank,
        sent_at=now,
    )


def _save_and_send_offers(
    ports: Ports,
    router: ChannelRouter,
    ride: Ride,
    new: list[tuple[Driver, Offer]],
    saved: list[tuple[Driver, Offer]],
) -> list[Delivery]:
    """Offers exist before their messages leave, so even an instant answer finds its offer: the wave is saved
    a part at a time, in order, on a thread of its own, and each part is sent once it is saved while the next
    is being written (a wave's writes cost its sending no time but the first part's), and while the part before
    it still drains. What the sends taught (Telegram message ids, failures, channel moves) is written after
    each part."""
    parts = _parts(new)

    failed = threading.Event()

    def save(part: list[tuple[Driver, Offer]]) -> None:
        if failed.is_set():  # a part failed to save: the parts after it are neither saved nor sent
            return
        batches = [list(batch) for batch in batched((offer for _, offer in part), OFFERS_PER_WRITE, strict=False)]
        try:
            in_parallel(ports.stores.offers.add_many, batches, at_most=OFFER_WRITES_IN_FLIGHT)
        except BaseException:
            failed.set()
            raise

    deliveries = send_wave(ports, router, ride, saved, "offer") if saved else []
    writer = ThreadPoolExecutor(max_workers=1)
    # A part's sends start once it is saved, while the part before drains, so that the pool stays full at part
    # boundaries (a boundary cost a 1,000-driver wave ~25 ms of idle connections each).
    senders = ThreadPoolExecutor(max_workers=2)
    sends: list[Future[list[Delivery]]] = []
    try:
        writes = [writer.submit(save, part) for part in parts]
        for part, write in zip(parts, writes, strict=True):
            write.result()
            if deliveries or sends:
                sends.append(senders.submit(send_wave, ports, router, ride, part, "offer", 0))
            else:
                # The wave's first part goes on its own, its first messages a few drivers ahead
                # (router.to_drivers): by the next part the router knows which channels answer.
                deliveries += send_wave(ports, router, ride, part, "offer", first=FIRST_SENDS)
    finally:
        writer.shutdown(cancel_futures=True)  # the retried wave (Step Functions) resends what was saved
        senders.shutdown()  # what was saved is sent, even when a later part failed to save
    for send in sends:
        deliveries += send.result()
    count_offer_sends([(d.channel, d.ok) for d in deliveries])
    return deliveries


def _parts[T](wave: list[T]) -> list[list[T]]:
    parts, start, size = [], 0, FIRST_PART
    while start < len(wave):
        parts.append(wave[start : start + size])
        start, size = start + size, min(2 * size, MAX_PART)
    return parts


def send_wave(
    ports: Ports,
    router: ChannelRouter,
    ride: Ride,
    wave: list[tuple[Driver, Offer]],
    kind: str,
    first: int = FIRST_SENDS,
) -> list[Delivery]:
    messages = [offer_message(ports, router, ride, driver, offer, kind) for driver, offer in wave]
    deliveries = router.to_drivers(messages, first=first)
    changes = [
        change
        for (_, offer), delivery in zip(wave, deliveries, strict=True)
        if (change := offer_change(offer, delivery)) is not None
    ]
    writes = [list(batch) for batch in batched(changes, OFFERS_PER_WRITE, strict=False)]
    in_parallel(ports.stores.offers.update_many, writes, at_most=OFFER_WRITES_IN_FLIGHT)
    return deliveries


def offer_message(
    ports: Ports,
    router: ChannelRouter,
    ride: Ride,
    driver: Driver,
    offer: Offer,
    kind: str,
    exclude: frozenset[MessageChannel] = frozenset(),
) -> DriverMessage:
    """The offer for the driver's channel and its fallbacks; `exclude` leaves out the channels that already
    failed it (a resend after a failed receipt)."""
    token = offer_token(offer.ride_id, offer.driver_id, offer.secret)
    values = ride_values(ride, link=offer_link(offer))
    fleet = router.fleet
    body = render(fleet, kind, **values)
    if driver.channel == "telegram" and not driver.telegram_chat_id and router.telegram_username():
        # Reached by SMS until they open their deep link; the offer itself invites them to.
        link = issue_link(ports.stores.registrations, router, driver)
        body += render(fleet, "register_hint", register_link=link.url)
    return DriverMessage(
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
        exclude=exclude,
    )


def offer_change(offer: Offer, delivery: Delivery) -> OfferChange | None:
    """What the offer records of its send: where it went when not its own channel, a failure (only while it
    is still `sent`: an answer wins), and where a Telegram offer is, to edit it in place when the ride is taken."""
    moved = {"channel": delivery.channel} if delivery.channel != offer.channel else {}
    if not delivery.ok:
        failed = {"status": "failed", "error": delivery.error or "not delivered", **moved}
        return OfferChange(offer.ride_id, offer.driver_id, failed, only_from="sent")
    if delivery.channel == "telegram" and delivery.receipt is not None:
        where = {"provider_message_id": delivery.receipt.provider_message_id, **moved}
        if delivery.receipt.chat_id is not None:
            where["provider_chat_id"] = delivery.receipt.chat_id
        return OfferChange(offer.ride_id, offer.driver_id, where)
    return OfferChange(offer.ride_id, offer.driver_id, moved) if moved else None


def send_offer(
    ports: Ports,
    router: ChannelRouter,
    ride: Ride,
    driver: Driver,
    offer: Offer,
    kind: str,
    exclude: frozenset[MessageChannel] = frozenset(),
) -> Delivery:
    """One offer (a reminder, a resend, a reallocation) on the driver's channel, or the router's fallback; the
    offer records where it went."""
    delivery = router.to_drivers([offer_message(ports, router, ride, driver, offer, kind, exclude)])[0]
    if (change := offer_change(offer, delivery)) is not None:
        only_from = None if change.only_from is None else {change.only_from}
        ports.stores.offers.update(offer.ride_id, offer.driver_id, only_from, **change.fields)
    return delivery


def _remind(ports: Ports, router: ChannelRouter, ride: Ride, due: list[tuple[Driver, Offer]]) -> int:
    """The timed-out offers sent once more, in one batch; each reopened first, unless answered meanwhile."""

    def reopen(pair: tuple[Driver, Offer]) -> Offer | None:
        return ports.stores.offers.update(ride.ride_id, pair[0].driver_id, {"timeout"}, status="sent", reminders=1)

    reopened = in_parallel(reopen, due, at_most=OFFER_WRITES_IN_FLIGHT)
    wave = [(driver, offer) for (driver, _), offer in zip(due, reopened, strict=True) if offer is not None]
    return sum(1 for delivery in send_wave(ports, router, ride, wave, "reminder") if delivery.ok)


def _no_eligible_drivers(ports: Ports, router: ChannelRouter, ride: Ride) -> dict[str, Any]:
    settled = ports.stores.rides.transition(ride, "timed_out", ended_at=utcnow(), end_reason="no_eligible_drivers")
    if settled is None:
        return {"ride_status": load_ride(ports.stores.rides, ride.ride_id).status}
    record_ride_ended(ports, settled, offers=[])
    with router.batch():  # the admins' and the customer's messages: one router write and one counters write
        notifications.alert_admins(router, settled, "admin_no_drivers")
        notifications.tell_customer(router, settled, "customer_no_drivers_now", limits=ports.stores.rate_limits)
    metrics.add_metric(name="RidesTimedOut", unit="Count", value=1)
    return {"ride_status": "timed_out"}
