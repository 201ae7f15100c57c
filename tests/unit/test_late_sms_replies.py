"""A bare SMS/WhatsApp "1" or "2" that arrives just after the ride was won: SPEC §4 says every other accept
gets "already taken", whatever the channel the driver answers on."""

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from ridecast.adapters.channels.twilio_signatures import TwilioSignatures
from ridecast.api.twilio import text_reply, twiml
from ridecast.domain.channels.ports import SignedRequest
from ridecast.domain.clock import utcnow
from ridecast.domain.drivers.commands import NewDriver
from ridecast.domain.drivers.roster import register_driver
from ridecast.domain.entities import Customer, Offer, Place, Ride
from ridecast.domain.matching import answers, driver_replies
from ridecast.ids import new_offer_secret
from ridecast.wiring import ports
from tests.unit.conftest import AwsStack

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "example-twilio-auth-token-0001"
SENDER = "+15005550006"
WEBHOOK_URL = "https://ridecast.example.com/webhooks/twilio"  # PUBLIC_BASE_URL of the unit-test env


def _ride_offered_to_two(
    make_fleet: Callable[..., tuple[Any, str]], deadline_in: timedelta
) -> tuple[Ride, Offer, Offer]:
    fleet, _ = make_fleet(
        twilio={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "senders": [{"channel": "sms", "from": SENDER}]}
    )
    first, second = (
        register_driver(ports(), fleet.fleet_id, NewDriver(name=name, phone=phone, channel="sms"))
        for name, phone in (("Ann", "+447700900456"), ("Bo", "+447700900457"))
    )
    now = utcnow()
    ride = Ride(
        ride_id="r0late0reply0",
        fleet_id=fleet.fleet_id,
        code="R-7K3QX",
        customer=Customer(name="Dana Levi", phone="+447700900123"),
        pickup=Place(address="King's Cross"),
        dropoff=Place(address="Heathrow T5"),
        created_at=now - timedelta(seconds=20),
        deadline_at=now + deadline_in,
        wave=1,
        drivers_notified=2,
    )
    ports().stores.rides.add(ride)
    sent = [
        Offer(
            ride_id=ride.ride_id,
            driver_id=driver.driver_id,
            fleet_id=fleet.fleet_id,
            secret=new_offer_secret(),
            ride_code=ride.code,
            channel="sms",
            sent_at=now - timedelta(seconds=10),
        )
        for driver in (first, second)
    ]
    ports().stores.offers.add_many(sent)
    return ride, sent[0], sent[1]


def _text(phone: str, body: str) -> str:
    """The TwiML answer to a signed Twilio webhook carrying `body` from `phone`."""
    sid = "SM" + secrets.token_hex(16)
    params = {"MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": phone, "To": SENDER, "Body": body, "NumMedia": "0"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(WEBHOOK_URL, params)
    signed = SignedRequest(url=WEBHOOK_URL, params=params, signature=signature)
    return twiml(driver_replies.answer_text_reply(ports(), TwilioSignatures(), text_reply(params), signed))


def test_a_bare_accept_just_after_another_driver_won_is_told_the_ride_is_taken(aws: AwsStack, make_fleet) -> None:
    # Given a ride offered to Ann and Bo, which Ann has just won
    ride, ann, _ = _ride_offered_to_two(make_fleet, deadline_in=timedelta(minutes=5))
    answers.accept_offer(ports(), ann, ride)
    # When Bo replies "1" to the offer he just got
    answer = _text("+447700900457", "1")
    # Then he learns it is taken, as on Telegram or the offer page
    assert "Sorry, ride R-7K3QX was already taken by another driver." in answer


def test_a_bare_reject_from_the_winner_is_not_told_someone_else_took_it(aws: AwsStack, make_fleet) -> None:
    ride, ann, _ = _ride_offered_to_two(make_fleet, deadline_in=timedelta(minutes=5))
    answers.accept_offer(ports(), ann, ride)
    assert "You have no open ride offer right now." in _text("+447700900456", "2")


def test_a_bare_reply_after_the_ride_would_have_ended_finds_no_offer(
    aws: AwsStack, make_fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    ride, ann, _ = _ride_offered_to_two(make_fleet, deadline_in=timedelta(minutes=5))
    answers.accept_offer(ports(), ann, ride)
    # Ten minutes on, the ride is history: a stray "1" is not about it
    monkeypatch.setattr(answers, "utcnow", lambda: utcnow() + timedelta(minutes=10))
    assert "You have no open ride offer right now." in _text("+447700900457", "1")
