"""Drivers answering from their phones, on fakes: SMS replies and Telegram updates are checked, processed once,
and answer the same way the offer page does (SPEC §5)."""

import pytest

from ridecast.domain.channels.ports import SignedRequest
from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.channels.webhooks import verify_telegram
from ridecast.domain.drivers.telegram_bot import ChatMessage, PressedButton, handle_bot_update
from ridecast.domain.drivers.telegram_registration import issue_link
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.driver_replies import TextReply, answer_text_reply
from ridecast.errors import InvalidInput, WebhookForbidden
from ridecast.ids import offer_token
from tests.fakes import Fakes
from tests.unit.domain.conftest import ACCOUNT_SID, SENDER, Verifier, a_fleet, a_ride, drivers_of

WEBHOOK = "https://ridecast.example.com/webhooks/twilio"


def _sms(from_phone: str, text: str, message_id: str = "SM1") -> tuple[TextReply, SignedRequest]:
    params = {"MessageSid": message_id, "AccountSid": ACCOUNT_SID, "From": from_phone, "To": SENDER, "Body": text}
    reply = TextReply(message_id=message_id, from_phone=from_phone, to_phone=SENDER, text=text, via_whatsapp=False)
    return reply, SignedRequest(url=WEBHOOK, params=params, signature="signed")


def test_a_reply_accepts_the_newest_offer_and_its_replay_changes_nothing(fakes: Fakes) -> None:
    # Given a ride offered to Ann
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    # When she replies "yes", and Twilio delivers the same message again
    first = answer_text_reply(fakes.ports, Verifier(), *_sms(ann.phone, "yes"))
    replay = answer_text_reply(fakes.ports, Verifier(), *_sms(ann.phone, "yes"))
    # Then the ride is hers, she is told so once, and the replay is answered with silence
    assert first == f"Ride {ride.code} is yours. Pickup: {ride.pickup.address}."
    assert replay is None
    stored = fakes.rides.get(ride.ride_id)
    assert stored is not None
    assert (stored.status, stored.driver_id, stored.drivers_responded) == ("assigned", ann.driver_id, 1)


def test_an_unsigned_reply_is_refused_and_changes_nothing(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    with pytest.raises(WebhookForbidden):
        answer_text_reply(fakes.ports, Verifier(valid=False), *_sms(ann.phone, "1"))
    stored = fakes.rides.get(ride.ride_id)
    assert stored is not None
    assert stored.status == "searching"
    assert fakes.deliveries.seen == {}


def test_a_reply_from_an_unknown_number_is_told_so(fakes: Fakes) -> None:
    a_fleet(fakes)
    answer = answer_text_reply(fakes.ports, Verifier(), *_sms("+447700900999", "1"))
    assert answer is not None
    assert "Northside Cabs" in answer


def test_the_telegram_secret_token_must_be_the_bots(fakes: Fakes) -> None:
    fleet = a_fleet(fakes, telegram=True)
    assert verify_telegram(fakes.ports, fleet.fleet_id, "webhook-secret-0001") == fleet
    for wrong in (None, "", "webhook-secret-0002"):
        with pytest.raises(WebhookForbidden):
            verify_telegram(fakes.ports, fleet.fleet_id, wrong)


def test_a_driver_registers_goes_offline_and_a_forwarded_button_answers_nothing(fakes: Fakes) -> None:
    # Given a Telegram driver with a registration link
    fleet = a_fleet(fakes, telegram=True)
    (ann,) = drivers_of(fakes, fleet, 1)
    token = issue_link(fakes.registrations, ChannelRouter.for_fleet(fleet, fakes.ports), ann).url.rsplit("=", 1)[1]
    # When she opens it from chat 42, then sends /offline
    handle_bot_update(fakes.ports, fleet, 1, ChatMessage(chat_id="42", text=f"/start {token}"))
    handle_bot_update(fakes.ports, fleet, 2, ChatMessage(chat_id="42", text="/offline"))
    # Then her chat is bound and she is offline, and the bot said so in her chat
    stored = fakes.drivers.get(fleet.fleet_id, ann.driver_id)
    assert stored is not None
    assert (stored.telegram_chat_id, stored.status) == ("42", "inactive")
    assert fakes.channels.to("42")[-1].startswith("You are offline")
    # And a button of her offer pressed by someone else (a forwarded message) answers nothing
    handle_bot_update(fakes.ports, fleet, 3, ChatMessage(chat_id="42", text="/online"))
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    offer = fakes.offers.get(ride.ride_id, ann.driver_id)
    assert offer is not None
    data = f"a:{offer_token(ride.ride_id, ann.driver_id, offer.secret)}"
    handle_bot_update(fakes.ports, fleet, 4, PressedButton(callback_query_id="q1", user_id="99", data=data))
    assert fakes.channels.callback_answers == [("q1", "You have no open ride offer right now.")]
    stored_ride = fakes.rides.get(ride.ride_id)
    assert stored_ride is not None
    assert stored_ride.status == "searching"


def test_a_signed_reply_with_an_overlong_message_sid_is_refused_as_input(fakes: Fakes) -> None:
    # Given a driver with an offer, and a correctly signed webhook whose MessageSid is 3,000 characters
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    broadcast(fakes.ports, a_ride(fakes, fleet).ride_id)
    # When it arrives, Then it is refused as input (4xx) before it reaches the delivery log as a key
    with pytest.raises(InvalidInput):
        answer_text_reply(fakes.ports, Verifier(), *_sms(ann.phone, "yes", message_id="SM" + "a" * 2998))
    assert fakes.deliveries.seen == {}
