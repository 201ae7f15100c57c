"""Twilio's delivery status callbacks for offer messages (SPEC §5): a failure goes again on the next channel
or fails the offer, once per delivery; `delivered` and `read` are noted on the offer; the steps before them
(which only restate that the send succeeded) write nothing at all."""

from ridecast.domain.channels.ports import SignedRequest
from ridecast.domain.entities import Fleet
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.driver_replies import DeliveryReceipt, record_delivery_receipt
from tests.fakes import Fakes
from tests.unit.domain.conftest import Verifier, a_fleet, a_ride, drivers_of


def _signed(fleet: Fleet) -> SignedRequest:
    assert fleet.twilio is not None
    return SignedRequest(url="https://x", params={"AccountSid": fleet.twilio.account_sid}, signature="sig")


def _offered(fakes: Fakes) -> tuple[Fleet, str, str]:
    fleet = a_fleet(fakes)
    (driver,) = drivers_of(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    return fleet, ride.ride_id, driver.driver_id


def test_sent_and_queued_callbacks_write_nothing(fakes: Fakes) -> None:
    # Given an SMS offer just sent
    fleet, ride_id, driver_id = _offered(fakes)
    before = fakes.offers.get(ride_id, driver_id)
    # When Twilio calls back with the steps before delivery
    for status in ("queued", "sending", "sent"):
        receipt = DeliveryReceipt(ride_id, driver_id, "SM1", status, None, channel="sms")
        record_delivery_receipt(fakes.ports, Verifier(), receipt, _signed(fleet))
    # Then neither the offer nor the delivery log has changed
    assert fakes.offers.get(ride_id, driver_id) == before
    assert fakes.deliveries.seen == {}


def test_delivered_is_noted_on_the_offer_without_a_dedupe_write(fakes: Fakes) -> None:
    # Given an SMS offer just sent
    fleet, ride_id, driver_id = _offered(fakes)
    # When Twilio says it was delivered, twice (a retried callback)
    receipt = DeliveryReceipt(ride_id, driver_id, "SM1", "delivered", None, channel="sms")
    for _ in range(2):
        record_delivery_receipt(fakes.ports, Verifier(), receipt, _signed(fleet))
    # Then the offer says so and is still open, and no dedupe record was written for a note
    offer = fakes.offers.get(ride_id, driver_id)
    assert offer is not None
    assert (offer.status, offer.delivery_status) == ("sent", "delivered")
    assert fakes.deliveries.seen == {}


def test_a_failure_is_processed_once_per_delivery(fakes: Fakes) -> None:
    # Given an SMS offer whose driver has no other channel
    fleet, ride_id, driver_id = _offered(fakes)
    # When Twilio says it failed, twice (a retried callback)
    receipt = DeliveryReceipt(ride_id, driver_id, "SM1", "failed", "30003", channel="sms")
    for _ in range(2):
        record_delivery_receipt(fakes.ports, Verifier(), receipt, _signed(fleet))
    # Then the offer failed with Twilio's error, and the delivery was claimed once
    offer = fakes.offers.get(ride_id, driver_id)
    assert offer is not None
    assert (offer.status, offer.delivery_status) == ("failed", "failed")
    assert offer.error is not None
    assert "30003" in offer.error
    assert list(fakes.deliveries.seen) == [("twilio-status", "SM1:failed")]
