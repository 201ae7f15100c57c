"""Who may win a ride (SPEC §4 step 2, issue 10): only a driver who is active now, through every path; and a
reply without a code answers the driver's newest offer only."""

import pytest

from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.drivers.commands import DriverChanges
from ridecast.domain.drivers.roster import update_driver
from ridecast.domain.drivers.telegram_bot import ChatMessage, PressedButton, handle_bot_update
from ridecast.domain.drivers.telegram_registration import issue_link
from ridecast.domain.entities import Driver, Fleet, Ride
from ridecast.domain.matching import answers
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.driver_replies import answer_text_reply
from ridecast.errors import OfferClosed
from ridecast.ids import offer_token
from tests.fakes import Fakes
from tests.unit.domain.conftest import Verifier, a_fleet, a_ride, drivers_of
from tests.unit.domain.test_driver_replies import _sms


def _token(fakes: Fakes, ride: Ride, driver: Driver) -> str:
    offer = fakes.offers.get(ride.ride_id, driver.driver_id)
    assert offer is not None
    return offer_token(ride.ride_id, driver.driver_id, offer.secret)


def _offered(fakes: Fakes, fleet: Fleet) -> Ride:
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    return ride


def _status(fakes: Fakes, ride: Ride) -> str:
    stored = fakes.rides.get(ride.ride_id)
    assert stored is not None
    return stored.status


@pytest.mark.parametrize("status", ["blocked", "inactive"])
def test_a_driver_who_is_not_active_cannot_accept_by_the_offer_link(fakes: Fakes, status: str) -> None:
    # Given a ride offered to Ann, who is then blocked (or set inactive)
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    ride = _offered(fakes, fleet)
    token = _token(fakes, ride, ann)
    update_driver(fakes.ports, fleet.fleet_id, ann.driver_id, DriverChanges(status=status))
    # When she accepts through her link
    with pytest.raises(OfferClosed) as refused:
        answers.accept(fakes.ports, token)
    # Then she is told she is not active, the ride is still searching and her offer was withdrawn
    assert refused.value.result == "driver_not_active"
    assert _status(fakes, ride) == "searching"
    offer = fakes.offers.get(ride.ride_id, ann.driver_id)
    assert offer is not None
    assert offer.status == "cancelled"


def test_a_blocked_driver_cannot_accept_by_sms(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    ride = _offered(fakes, fleet)
    update_driver(fakes.ports, fleet.fleet_id, ann.driver_id, DriverChanges(status="blocked"))
    answer = answer_text_reply(fakes.ports, Verifier(), *_sms(ann.phone, f"yes {ride.code}"))
    assert answer is not None
    assert "not an active driver" in answer
    assert _status(fakes, ride) == "searching"


def test_a_blocked_driver_cannot_accept_by_telegram_button(fakes: Fakes) -> None:
    fleet = a_fleet(fakes, telegram=True)
    (ann,) = drivers_of(fakes, fleet, 1)
    link = issue_link(fakes.registrations, ChannelRouter.for_fleet(fleet, fakes.ports), ann).url.rsplit("=", 1)[1]
    handle_bot_update(fakes.ports, fleet, 1, ChatMessage(chat_id="42", text=f"/start {link}"))
    ride = _offered(fakes, fleet)
    data = f"a:{_token(fakes, ride, ann)}"
    update_driver(fakes.ports, fleet.fleet_id, ann.driver_id, DriverChanges(status="blocked"))
    handle_bot_update(fakes.ports, fleet, 2, PressedButton(callback_query_id="q1", user_id="42", data=data))
    assert "not an active driver" in fakes.channels.callback_answers[-1][1]
    assert _status(fakes, ride) == "searching"


def test_a_bare_yes_answers_only_the_newest_offer(fakes: Fakes) -> None:
    # Given Ann and Ben offered an older ride and then a newer one, and Ben took the newer one
    fleet = a_fleet(fakes)
    ann, ben = drivers_of(fakes, fleet, 2)
    older = _offered(fakes, fleet)
    newer = _offered(fakes, fleet)
    answers.accept(fakes.ports, _token(fakes, newer, ben))
    # When Ann replies a bare "yes"
    answer = answer_text_reply(fakes.ports, Verifier(), *_sms(ann.phone, "yes"))
    # Then she is told the newest ride is taken, and the older ride is not given to her
    assert answer is not None
    assert newer.code in answer
    assert "taken" in answer
    assert _status(fakes, older) == "searching"
    # And the older one is hers only when she names its code
    named = answer_text_reply(fakes.ports, Verifier(), *_sms(ann.phone, f"yes {older.code}", message_id="SM2"))
    assert named is not None
    assert f"Ride {older.code} is yours" in named


def test_a_chat_bound_to_one_driver_cannot_be_bound_to_another(fakes: Fakes) -> None:
    # Given Ann registered from chat 42, and a registration link for Ben
    fleet = a_fleet(fakes, telegram=True)
    ann, ben = drivers_of(fakes, fleet, 2)
    ann_link = issue_link(fakes.registrations, ChannelRouter.for_fleet(fleet, fakes.ports), ann).url.rsplit("=", 1)[1]
    ben_link = issue_link(fakes.registrations, ChannelRouter.for_fleet(fleet, fakes.ports), ben).url.rsplit("=", 1)[1]
    handle_bot_update(fakes.ports, fleet, 1, ChatMessage(chat_id="42", text=f"/start {ann_link}"))
    # When Ben's link is opened from the same chat
    handle_bot_update(fakes.ports, fleet, 2, ChatMessage(chat_id="42", text=f"/start {ben_link}"))
    # Then the chat stays Ann's, Ben is not bound, and the chat is told why
    found = fakes.drivers.find_by_chat(fleet.fleet_id, "42")
    assert found is not None
    assert found.driver_id == ann.driver_id
    stored_ben = fakes.drivers.get(fleet.fleet_id, ben.driver_id)
    assert stored_ben is not None
    assert stored_ben.telegram_chat_id is None
    assert "already linked" in fakes.channels.to("42")[-1]
