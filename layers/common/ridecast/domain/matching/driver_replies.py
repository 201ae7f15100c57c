"""Drivers answering offers by SMS or WhatsApp, and the delivery receipts of the offers they were sent.
Webhooks are verified first and processed once (SPEC §5). Telegram buttons: drivers/telegram_bot.py."""

import math
import re
from dataclasses import dataclass
from datetime import timedelta

from ridecast.domain.channels.catalogue import render, ride_values
from ridecast.domain.channels.platform import PlatformChannels
from ridecast.domain.channels.ports import SignedRequest, WebhookVerifier
from ridecast.domain.channels.replies import parse_reply
from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.channels.webhooks import process_once, verify_twilio
from ridecast.domain.clock import utcnow
from ridecast.domain.drivers.roster import locate_driver
from ridecast.domain.entities import Fleet, GeoPoint, Ride
from ridecast.domain.matching import answers
from ridecast.domain.matching.holder import held_ride
from ridecast.domain.matching.reallocation import give_back_reply
from ridecast.domain.ports import Ports
from ridecast.domain.types import MessageChannel
from ridecast.errors import InvalidInput, WebhookForbidden
from ridecast.observability import logger, mask_phone

# Twilio retries for up to a day; remembering deliveries for a week covers every retry.
TWILIO_DEDUPE_WINDOW = timedelta(days=7)
FAILED_DELIVERY_STATUSES = frozenset({"failed", "undelivered"})
# What the carrier or the phone said about an offer message, noted on the offer. The steps before (queued,
# sending, sent) only restate that the send succeeded, which the offer records already: two of the three
# callbacks a message gets would each cost a write and say nothing new.
NOTED_DELIVERY_STATUSES = frozenset({"delivered", "read"})
# Twilio's SIDs are 34 characters; a signed request can still carry anything, and ids become table keys.
PROVIDER_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def check_provider_id(field: str, value: str) -> None:
    """An id from a provider's request, before it is used as a key (SPEC §11): bad ones are 422."""
    if not PROVIDER_ID_PATTERN.match(value):
        raise InvalidInput(f"{field}: not an id (1 to 64 letters, digits, _ or -)", field=field)


@dataclass(frozen=True)
class TextReply:
    """A driver's SMS or WhatsApp message to one of the fleet's numbers."""

    message_id: str
    from_phone: str
    to_phone: str
    text: str
    via_whatsapp: bool
    latitude: str | None = None
    longitude: str | None = None


@dataclass(frozen=True)
class DeliveryReceipt:
    """A provider's word on an offer message it was given; the callback URL names the offer."""

    ride_id: str
    driver_id: str
    message_id: str
    status: str
    error_code: str | None
    channel: MessageChannel = "sms"


def answer_text_reply(ports: Ports, verifier: WebhookVerifier, reply: TextReply, request: SignedRequest) -> str | None:
    """What to answer the driver (None for a replayed delivery, which is answered with silence)."""
    fleet_id = ports.stores.senders.fleet_for(reply.to_phone) or _platform_fleet_for(ports, reply)
    fleet = verify_twilio(ports, verifier, fleet_id, request)
    if not reply.message_id:
        raise WebhookForbidden("no MessageSid")
    check_provider_id("MessageSid", reply.message_id)
    location = shared_location(reply)
    answered = process_once(
        ports.stores.deliveries,
        "twilio",
        reply.message_id,
        TWILIO_DEDUPE_WINDOW,
        lambda: _answer(ports, fleet, reply, location),
    )
    if answered is None:
        logger.info("replayed twilio delivery ignored", extra={"message_sid": reply.message_id})
    return answered


def _platform_fleet_for(ports: Ports, reply: TextReply) -> str | None:
    """A reply to one of the platform's own senders: the fleet of the driver on that phone which the platform
    reaches (verify_twilio then checks the platform's signature). A phone driving for several such fleets
    answers the fleet whose offer to it is newest."""
    platform = PlatformChannels.from_secret(ports.secrets.platform_secrets())
    if platform.twilio is None or reply.to_phone not in {s.from_ for s in platform.twilio.senders}:
        return None
    candidates = []
    for fleet_id, driver_id in ports.stores.driver_phones.drivers_for(reply.from_phone):
        fleet = ports.stores.fleets.get(fleet_id)
        if fleet is not None and fleet.twilio is None:
            newest = ports.stores.offers.recent_for_driver(driver_id, limit=1)
            candidates.append((newest[0].sent_at.isoformat() if newest else "", fleet_id))
    return max(candidates)[1] if candidates else None


def shared_location(reply: TextReply) -> GeoPoint | None:
    """The location a WhatsApp location message carries (Twilio's Latitude and Longitude), checked like any
    input once the request is known to be Twilio's: both or neither, decimal degrees within range → else 422."""
    if reply.latitude is None and reply.longitude is None:
        return None
    degrees = {}
    for field, text, limit in (("Latitude", reply.latitude, 90), ("Longitude", reply.longitude, 180)):
        try:
            value = float(text or "")
        except ValueError:
            raise InvalidInput(f"{field}: not a number of degrees", field=field) from None
        if not math.isfinite(value) or abs(value) > limit:
            raise InvalidInput(f"{field}: must be between -{limit} and {limit}", field=field)
        degrees[field] = value
    return GeoPoint(lat=degrees["Latitude"], lng=degrees["Longitude"])


def _answer(ports: Ports, fleet: Fleet, reply: TextReply, location: GeoPoint | None = None) -> str:
    driver = ports.stores.drivers.find_by_phone(fleet.fleet_id, reply.from_phone)
    if driver is None:
        logger.info("reply from unknown number", extra={"phone": mask_phone(reply.from_phone)})
        return render(fleet, "unknown_driver", fleet_name=fleet.name)
    if location is not None:
        # SPEC §5: a WhatsApp location sets the driver's location; it answers no offer, so it gets no answer.
        locate_driver(ports, driver, location.lat, location.lng, via_whatsapp=reply.via_whatsapp)
        return ""
    ports.stores.drivers.touch(fleet.fleet_id, driver.driver_id, utcnow(), via_whatsapp=reply.via_whatsapp)
    parsed = parse_reply(reply.text)
    if parsed.action is None:
        return render(fleet, "reply_help")
    if parsed.action == "release":
        return _give_back(ports, fleet, driver.driver_id, parsed.ride_code)
    found = answers.newest_open_offer(ports, driver.driver_id, parsed.ride_code)
    if found is None:
        return render(fleet, "result_no_open_offer")
    result, ride = answers.answer(ports, *found, accepting=parsed.action == "accept")
    return render(fleet, f"result_{result}", **ride_values(ride))


def _give_back(ports: Ports, fleet: Fleet, driver_id: str, ride_code: str | None) -> str:
    """`cancel` (or the fleet's language's word), optionally with the ride code: give back the ride held."""
    held = held_ride(ports, driver_id, ride_code)
    if held is None:
        return render(fleet, "result_nothing_to_give_back")
    return give_back_reply(ports, fleet, *held)


def record_delivery_receipt(
    ports: Ports, verifier: WebhookVerifier, receipt: DeliveryReceipt, request: SignedRequest
) -> None:
    """A failed or undelivered offer message fails its offer (or goes again on the next channel, once per
    delivery); `delivered` and `read` are noted on it, and the steps before those change nothing."""
    # An id that cannot be ours finds no ride (and so no fleet to verify with): 403 like any unknown ride.
    known = PROVIDER_ID_PATTERN.match(receipt.ride_id)
    ride = ports.stores.rides.get(receipt.ride_id) if known else None
    verify_twilio(ports, verifier, ride.fleet_id if ride else None, request)
    assert ride is not None  # verify_twilio refused an unknown ride
    check_provider_id("MessageSid", receipt.message_id)
    check_provider_id("driver_id", receipt.driver_id)

    if receipt.status in NOTED_DELIVERY_STATUSES:
        # The same note written twice is the note written once: no dedupe write (it would cost as much).
        ports.stores.offers.update(ride.ride_id, receipt.driver_id, None, delivery_status=receipt.status)
        return
    if receipt.status not in FAILED_DELIVERY_STATUSES:
        return

    def record_failure() -> None:
        # A resend is not idempotent: this runs once per delivery.
        error = f"twilio {receipt.status} (error {receipt.error_code or 'unknown'})"
        if _resend_on_next_channel(ports, ride, receipt):
            return
        ports.stores.offers.update(
            ride.ride_id, receipt.driver_id, {"sent"}, status="failed", delivery_status=receipt.status, error=error
        )

    process_once(
        ports.stores.deliveries,
        "twilio-status",
        f"{receipt.message_id}:{receipt.status}",
        TWILIO_DEDUPE_WINDOW,
        record_failure,
    )


def _resend_on_next_channel(ports: Ports, ride: Ride, receipt: DeliveryReceipt) -> bool:
    """SPEC §5: a failed or undelivered offer message goes again, the same offer (same link, same record), on
    the driver's next channel (WhatsApp → SMS, SMS → Telegram) while the ride is searching; True when it did."""
    # Imported here: broadcast imports this package's answers, and the resend path is rare.
    from ridecast.domain.matching.broadcast import send_offer

    offer = ports.stores.offers.get(ride.ride_id, receipt.driver_id)
    driver = ports.stores.drivers.get(ride.fleet_id, receipt.driver_id)
    fleet = ports.stores.fleets.get(ride.fleet_id)
    # Only the message the offer currently rides on: a late receipt of an earlier channel changes nothing.
    if offer is None or driver is None or fleet is None or offer.status != "sent" or offer.channel != receipt.channel:
        return False
    router = ChannelRouter.for_fleet(fleet, ports)
    # The carrier's word on one message (a bad number, a phone off) says nothing about Twilio being down.
    router.ledger.record("twilio", False, 0.0, utcnow(), provider_failure=False)
    if ride.status != "searching" or not router.driver_routes(driver, frozenset({receipt.channel})):
        return False
    delivery = send_offer(ports, router, ride, driver, offer, "offer", exclude=frozenset({receipt.channel}))
    logger.info(
        "offer resent after a failed receipt",
        extra={"ride_id": ride.ride_id, "driver_id": driver.driver_id, "channel": delivery.channel, "ok": delivery.ok},
    )
    return True
