"""Broadcast (SPEC §4.1, §4.3): a wave of offers to every eligible driver not offered yet, and one reminder to
those who timed out. Each wave is safe to retry."""

import math
import time
from datetime import datetime
from typing import Any

from ridecast.domain.channels.catalogue import render, ride_values
from ridecast.domain.channels.ports import Button
from ridecast.domain.channels.router import ChannelRouter, Delivery
from ridecast.domain.clock import utcnow
from ridecast.domain.drivers.roster import eligible_drivers
from ridecast.domain.drivers.telegram_registration import issue_link
from ridecast.domain.entities import Driver, Offer, Ride
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.matching import holding, notifications
from ridecast.domain.matching.fan_out import in_parallel
from ridecast.domain.matching.ranking import rank_drivers
from ridecast.domain.ports import Ports
from ridecast.domain.rides.transitions import SUPERSEDED, load_ride, superseded
from ridecast.domain.stats.counters import SendTally
from ridecast.domain.stats.recording import count_offer_sends, record_ride_ended
from ridecast.domain.types import MessageChannel
from ridecast.ids import new_offer_secret, offer_token
from ridecast.observability import logger, metrics
from ridecast.settings import get_settings

# A wave's offers are saved this many to a write, a few writes side by side: 1,000 drivers are 40 writes,
# 5 round trips instead of 40 in a row.
OFFERS_PER_WRITE = 25
OFFER_WRITES_IN_FLIGHT = 8


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
        reminded = in_parallel(lambda d: _remind(ports, router, ride, d, offers[d.driver_id]), to_remind)

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
    """Write the new offers, then send every offer of the wave: offers exist before any message leaves, so
    even an instant answer finds its offer."""
    batches = [[offer for _, offer in new[i : i + OFFERS_PER_WRITE]] for i in range(0, len(new), OFFERS_PER_WRITE)]
    in_parallel(ports.stores.offers.add_many, batches, at_most=OFFER_WRITES_IN_FLIGHT)

    def send_timed(pair: tuple[Driver, Offer]) -> tuple[Delivery, int]:
        started = time.perf_counter()
        delivery = send_offer(ports, router, ride, pair[0], pair[1], "offer")
        return delivery, round((time.perf_counter() - started) * 1000)

    timed = in_parallel(send_timed, saved + new)
    count_offer_sends([SendTally(d.channel, d.ok, ms) for d, ms in timed])
    return [delivery for delivery, _ in timed]


def send_offer(
    ports: Ports,
    router: ChannelRouter,
    ride: Ride,
    driver: Driver,
    offer: Offer,
    kind: str,
    exclude: frozenset[MessageChannel] = frozenset(),
) -> Delivery:
    """The offer on the driver's channel, or the router's fallback (the offer records where it went);
    `exclude` leaves out the channels that already failed it (a resend after a failed receipt)."""
    token = offer_token(offer.ride_id, offer.driver_id, offer.secret)
    values = ride_values(ride, link=offer_link(offer))
    fleet = router.fleet
    body = render(fleet, kind, **values)
    if driver.channel == "telegram" and not driver.telegram_chat_id and router.telegram_username():
        # Reached by SMS until they open their deep link; the offer itself invites them to.
        link = issue_link(ports.stores.registrations, router, driver)
        body += render(fleet, "register_hint", register_link=link.url)
    delivery = router.to_driver(
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
    offers = ports.stores.offers
    moved = {"channel": delivery.channel} if delivery.channel != offer.channel else {}
    if not delivery.ok:
        offers.update(offer.ride_id, offer.driver_id, {"sent"}, status="failed", error=delivery.error, **moved)
    elif delivery.channel == "telegram" and delivery.receipt is not None:
        # Telegram offers are edited in place when the ride is taken, so keep where they went.
        offers.update(
            offer.ride_id,
            offer.driver_id,
            None,
            provider_message_id=delivery.receipt.provider_message_id,
            provider_chat_id=delivery.receipt.chat_id,
            **moved,
        )
    elif moved:
        offers.update(offer.ride_id, offer.driver_id, None, **moved)
    return delivery


def _remind(ports: Ports, router: ChannelRouter, ride: Ride, driver: Driver, offer: Offer) -> int:
    reopened = ports.stores.offers.update(ride.ride_id, driver.driver_id, {"timeout"}, status="sent", reminders=1)
    if reopened is None:
        return 0
    return 1 if send_offer(ports, router, ride, driver, reopened, "reminder").ok else 0


def _no_eligible_drivers(ports: Ports, router: ChannelRouter, ride: Ride) -> dict[str, Any]:
    settled = ports.stores.rides.transition(ride, "timed_out", ended_at=utcnow(), end_reason="no_eligible_drivers")
    if settled is None:
        return {"ride_status": load_ride(ports.stores.rides, ride.ride_id).status}
    record_ride_ended(ports, settled, offers=[])
    notifications.alert_admins(router, settled, "admin_no_drivers")
    notifications.tell_customer(router, settled, "customer_no_drivers_now", limits=ports.stores.rate_limits)
    metrics.add_metric(name="RidesTimedOut", unit="Count", value=1)
    return {"ride_status": "timed_out"}
