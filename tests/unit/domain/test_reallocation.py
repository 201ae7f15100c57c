"""Reassign and give back on fakes (SPEC §8): who gets the ride, who is told, the new round that matches, the
cap, the races, and the stats that keep counting each ride once."""

import pytest

from ridecast.api.offer_page import render_offer
from ridecast.domain.channels.ports import SignedRequest
from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.drivers.commands import DriverChanges, NewDriver
from ridecast.domain.drivers.roster import register_driver, update_driver
from ridecast.domain.drivers.telegram_bot import ChatMessage, PressedButton, handle_bot_update
from ridecast.domain.drivers.telegram_registration import issue_link
from ridecast.domain.entities import Fleet, Ride
from ridecast.domain.matching import answers, reallocation
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.driver_replies import TextReply, answer_text_reply
from ridecast.domain.matching.endings import notify_cancelled, notify_matched
from ridecast.domain.matching.waiting import await_acceptance, expire_window
from ridecast.domain.rides.cancel import cancel_ride
from ridecast.domain.stats.report import fleet_stats
from ridecast.errors import DriverNotFound, OfferClosed, RideChanged, RideNotReassignable
from tests.fakes import Fakes
from tests.unit.domain.conftest import (
    ACCOUNT_SID,
    ADMIN_PHONE,
    SENDER,
    Verifier,
    a_fleet,
    a_ride,
    drivers_of,
    token_for,
)


def _assigned_to_first(fakes: Fakes, fleet: Fleet, drivers: int = 3) -> tuple[Ride, list[str]]:
    """A ride offered to `drivers` drivers and won by the first; returns it and the drivers' ids."""
    ids = [d.driver_id for d in drivers_of(fakes, fleet, drivers)]
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    await_acceptance(fakes.ports, ride.ride_id, "token-1")
    answers.accept(fakes.ports, token_for(fakes, ride.ride_id, ids[0]))
    notify_matched(fakes.ports, ride.ride_id)
    return _stored(fakes, ride.ride_id), ids


def _stored(fakes: Fakes, ride_id: str) -> Ride:
    ride = fakes.rides.get(ride_id)
    assert ride is not None
    return ride


def _phone(fakes: Fakes, fleet: Fleet, driver_id: str) -> str:
    driver = fakes.drivers.get(fleet.fleet_id, driver_id)
    assert driver is not None
    return driver.phone


def _offer_statuses(fakes: Fakes, ride_id: str) -> dict[str, str]:
    return {o.driver_id: o.status for o in fakes.offers.for_ride(ride_id)}


def test_a_reassign_to_a_named_driver_moves_the_ride_and_tells_everyone(fakes: Fakes) -> None:
    # Given a ride Ann won
    fleet = a_fleet(fakes)
    ride, (ann, bo, _) = _assigned_to_first(fakes, fleet)
    # When the admin reassigns it to Bo
    moved = reallocation.reassign_ride(fakes.ports, fleet.fleet_id, ride.ride_id, bo, "flat tyre")
    # Then Bo has it, counted as one reassignment, and no new matching started
    assert (moved.status, moved.driver_id, moved.reassignments, moved.reallocations) == ("assigned", bo, 1, 0)
    assert list(fakes.matching.started) == [ride.ride_id]
    assert _offer_statuses(fakes, ride.ride_id)[ann] == "cancelled"
    assert _offer_statuses(fakes, ride.ride_id)[bo] == "accepted"
    # And Ann, the customer and Bo (with the ride's details and his link) are told
    assert "reassigned to another driver" in fakes.channels.to(_phone(fakes, fleet, ann))[-1]
    assert "has changed: Driver 2" in fakes.channels.to(ride.customer.phone)[-1]
    told_bo = fakes.channels.to(_phone(fakes, fleet, bo))[-1]
    assert f"Ride {ride.code} is now yours" in told_bo
    assert ride.dropoff.address in told_bo
    assert token_for(fakes, ride.ride_id, bo) in told_bo
    # And the stats count one assigned ride with one reassignment
    stats = fleet_stats(fakes.ports, fleet.fleet_id, None, None)
    assert (stats.rides_by_status["assigned"], stats.reassignments, stats.active_matchings) == (1, 1, 0)


@pytest.mark.parametrize("who", ["unknown", "other fleet", "inactive"])
def test_a_reassign_to_a_driver_who_is_not_an_active_driver_of_the_fleet_is_not_found(fakes: Fakes, who: str) -> None:
    fleet = a_fleet(fakes)
    ride, (_, bo, _) = _assigned_to_first(fakes, fleet)
    if who == "other fleet":
        other = fakes.drivers.get(fleet.fleet_id, bo)
        assert other is not None
        fakes.drivers.create(other.model_copy(update={"fleet_id": "fother", "driver_id": "dother"}))
        target = "dother"
    elif who == "inactive":
        update_driver(fakes.ports, fleet.fleet_id, bo, DriverChanges(status="inactive"))
        target = bo
    else:
        target = "dnosuchdriver"
    with pytest.raises(DriverNotFound):
        reallocation.reassign_ride(fakes.ports, fleet.fleet_id, ride.ride_id, target, None)
    assert _stored(fakes, ride.ride_id) == ride


def test_only_an_assigned_ride_can_be_reassigned(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    drivers_of(fakes, fleet, 1)
    searching = a_ride(fakes, fleet)
    with pytest.raises(RideNotReassignable) as refused:
        reallocation.reassign_ride(fakes.ports, fleet.fleet_id, searching.ride_id, None, None)
    assert refused.value.details == {"status": "searching"}
    cancel_ride(fakes.ports, fleet.fleet_id, searching.ride_id, None)
    with pytest.raises(RideNotReassignable):
        reallocation.reassign_ride(fakes.ports, fleet.fleet_id, searching.ride_id, None, None)


def test_a_reassign_without_a_driver_starts_a_new_round_that_another_driver_wins(fakes: Fakes) -> None:
    # Given a ride Ann won from three drivers
    fleet = a_fleet(fakes)
    ride, (ann, bo, cy) = _assigned_to_first(fakes, fleet)
    # When the admin sends it back to matching
    reopened = reallocation.reassign_ride(fakes.ports, fleet.fleet_id, ride.ride_id, None, None)
    # Then it searches again in round 2 without Ann, with a deadline and an execution of its own
    assert (reopened.status, reopened.matching_round, reopened.excluded_driver_ids) == ("searching", 2, [ann])
    assert (reopened.driver_id, reopened.reassignments, reopened.reallocations) == (None, 1, 1)
    assert reopened.deadline_at > ride.deadline_at
    assert fakes.matching.started[f"{ride.ride_id}-m2"] == {
        "ride_id": ride.ride_id,
        "fleet_id": fleet.fleet_id,
        "matching_round": 2,
    }
    assert "cannot make it" in fakes.channels.to(ride.customer.phone)[-1]
    assert "reassigned to another driver" in fakes.channels.to(_phone(fakes, fleet, ann))[-1]
    # And the stats count it as searching, not assigned
    stats = fleet_stats(fakes.ports, fleet.fleet_id, None, None)
    assert (stats.rides_by_status["searching"], stats.rides_by_status["assigned"], stats.active_matchings) == (1, 0, 1)
    # When the new round's wave goes out, Bo and Cy are offered it again (their links still work), Ann is not
    assert broadcast(fakes.ports, ride.ride_id, matching_round=2)["offers_sent"] == 2
    assert _offer_statuses(fakes, ride.ride_id) == {ann: "cancelled", bo: "sent", cy: "sent"}
    with pytest.raises(OfferClosed) as refused:
        answers.accept(fakes.ports, token_for(fakes, ride.ride_id, ann))
    assert refused.value.result == "expired"
    # And Cy wins; the stats count one assigned ride again
    assert await_acceptance(fakes.ports, ride.ride_id, "token-2", matching_round=2) == {"waiting": True}
    won = answers.accept(fakes.ports, token_for(fakes, ride.ride_id, cy))
    assert fakes.matching.completed["token-2"] == {"driver_id": cy}
    notify_matched(fakes.ports, ride.ride_id)
    assert (won.status, won.driver_id) == ("assigned", cy)
    assert won.time_to_match_seconds is not None
    assert won.time_to_match_seconds < 5
    stats = fleet_stats(fakes.ports, fleet.fleet_id, None, None)
    assert stats.rides_total == 1
    assert (stats.rides_by_status["assigned"], stats.rides_by_status["searching"], stats.active_matchings) == (1, 0, 0)
    assert (stats.reassignments, stats.reallocations) == (1, 1)


def test_tasks_of_the_earlier_rounds_execution_leave_the_new_round_alone(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    ride, _ = _assigned_to_first(fakes, fleet)
    reallocation.reassign_ride(fakes.ports, fleet.fleet_id, ride.ride_id, None, None)
    assert broadcast(fakes.ports, ride.ride_id, matching_round=1) == {"ride_status": "superseded"}
    assert expire_window(fakes.ports, ride.ride_id, matching_round=1) == {"ride_status": "superseded"}
    assert await_acceptance(fakes.ports, ride.ride_id, "stale", matching_round=1)["waiting"] is False
    assert fakes.matching.failed["stale"].error_name == "RideEnded"
    assert _stored(fakes, ride.ride_id).task_token is None


def test_the_winner_gives_the_ride_back_and_it_goes_back_to_matching_without_them(fakes: Fakes) -> None:
    # Given a ride Ann won
    fleet = a_fleet(fakes)
    ride, (ann, bo, _) = _assigned_to_first(fakes, fleet)
    # When Bo (who lost it) tries to give it back, then Ann does, twice
    with pytest.raises(OfferClosed) as not_bos:
        reallocation.give_back(fakes.ports, token_for(fakes, ride.ride_id, bo))
    released = reallocation.give_back(fakes.ports, token_for(fakes, ride.ride_id, ann))
    with pytest.raises(OfferClosed) as again:
        reallocation.give_back(fakes.ports, token_for(fakes, ride.ride_id, ann))
    # Then only Ann's first give back counts: the ride matches again without her, her offer reads released
    assert not_bos.value.result == again.value.result == "not_assigned_to_you"
    assert (released.status, released.matching_round, released.excluded_driver_ids) == ("searching", 2, [ann])
    assert (released.reassignments, released.reallocations) == (0, 1)
    assert _offer_statuses(fakes, ride.ride_id)[ann] == "released"
    assert f"{ride.ride_id}-m2" in fakes.matching.started
    # And the customer and the admins are told
    assert "cannot make it" in fakes.channels.to(ride.customer.phone)[-1]
    assert "Driver 1 gave it back" in fakes.channels.to(ADMIN_PHONE)[-1]
    assert [a.subject for a in fakes.alerts.published][-1] == f"Ridecast released {ride.code}"


def test_past_max_reallocations_a_give_back_times_the_ride_out_with_an_admin_alert(fakes: Fakes) -> None:
    # Given a fleet that lets a ride go back to matching once, and a ride Ann won
    fleet = a_fleet(fakes, settings={"max_reallocations": 1})
    ride, (ann, bo, _) = _assigned_to_first(fakes, fleet)
    # When Ann gives it back, Bo wins the new round, and Bo gives it back too
    reallocation.give_back(fakes.ports, token_for(fakes, ride.ride_id, ann))
    broadcast(fakes.ports, ride.ride_id, matching_round=2)
    answers.accept(fakes.ports, token_for(fakes, ride.ride_id, bo))
    notify_matched(fakes.ports, ride.ride_id)
    ended = reallocation.give_back(fakes.ports, token_for(fakes, ride.ride_id, bo))
    # Then the ride times out with no driver, no third round starts, and the admins are alerted
    assert (ended.status, ended.driver_id, ended.reallocations) == ("timed_out", None, 1)
    assert ended.end_reason == "max_reallocations reached"
    assert sorted(fakes.matching.started) == [ride.ride_id, f"{ride.ride_id}-m2"]
    assert "went back to matching 1 times" in fakes.channels.to(ADMIN_PHONE)[-1]
    assert "no driver accepted" in fakes.channels.to(ride.customer.phone)[-1]
    assert _offer_statuses(fakes, ride.ride_id)[bo] == "released"
    # And the stats count one timed-out ride, once
    stats = fleet_stats(fakes.ports, fleet.fleet_id, None, None)
    assert stats.rides_by_status["timed_out"] == 1
    assert (stats.rides_by_status["assigned"], stats.rides_by_status["searching"], stats.active_matchings) == (0, 0, 0)
    assert stats.time_to_match_mean is None


def test_two_reassigns_of_one_ride_cannot_both_win(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two admins who read the ride Ann holds at the same version
    fleet = a_fleet(fakes)
    ride, (_, bo, cy) = _assigned_to_first(fakes, fleet)
    read_by_both = fakes.rides.get(ride.ride_id)
    first = reallocation.reassign_ride(fakes.ports, fleet.fleet_id, ride.ride_id, bo, None)
    # When the second reassign lands on what it read before the first one's write
    monkeypatch.setattr(fakes.rides, "get", lambda _: read_by_both)
    with pytest.raises(RideChanged):
        reallocation.reassign_ride(fakes.ports, fleet.fleet_id, ride.ride_id, cy, None)
    monkeypatch.undo()
    # Then only the first won
    assert _stored(fakes, ride.ride_id) == first
    assert first.driver_id == bo


def test_a_give_back_racing_a_reassign_loses_and_is_told_the_ride_is_not_theirs(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    ride, (ann, bo, _) = _assigned_to_first(fakes, fleet)
    offer = fakes.offers.get(ride.ride_id, ann)
    assert offer is not None
    reassigned = reallocation.reassign_ride(fakes.ports, fleet.fleet_id, ride.ride_id, bo, None)
    # Ann's give back read the ride (hers, version before the reassign) before the reassign wrote
    with pytest.raises(OfferClosed) as lost:
        reallocation.give_back_offer(fakes.ports, offer, ride)
    assert lost.value.result == "not_assigned_to_you"
    assert _stored(fakes, ride.ride_id) == reassigned


def _sms(from_phone: str, text: str, message_id: str) -> tuple[TextReply, SignedRequest]:
    reply = TextReply(message_id=message_id, from_phone=from_phone, to_phone=SENDER, text=text, via_whatsapp=False)
    params = {"MessageSid": message_id, "AccountSid": ACCOUNT_SID, "From": from_phone, "To": SENDER, "Body": text}
    return reply, SignedRequest(url="https://ridecast.example.com/webhooks/twilio", params=params, signature="s")


@pytest.mark.parametrize("text", ["cancel", "CANCEL {code}", "annuler", "ביטול", "إلغاء"])
def test_the_winner_gives_the_ride_back_by_replying_cancel(fakes: Fakes, text: str) -> None:
    fleet = a_fleet(fakes)
    ride, (ann, bo, _) = _assigned_to_first(fakes, fleet)
    # A driver with nothing to give back is told so
    assert answer_text_reply(fakes.ports, Verifier(), *_sms(_phone(fakes, fleet, bo), "cancel", "SM1")) == (
        "You have no ride to give back right now."
    )
    answer = answer_text_reply(
        fakes.ports, Verifier(), *_sms(_phone(fakes, fleet, ann), text.format(code=ride.code), "SM2")
    )
    assert answer == f"OK, you gave ride {ride.code} back. Thank you for telling us."
    assert _stored(fakes, ride.ride_id).status == "searching"
    # The "ride is yours" message told her how
    assert "Reply CANCEL to give the ride back" in "".join(fakes.channels.to(_phone(fakes, fleet, ann)))


def test_the_winner_gives_the_ride_back_with_the_telegram_button(fakes: Fakes) -> None:
    # Given Ann on Telegram, who won a ride
    fleet = a_fleet(fakes, telegram=True)
    ann = register_driver(fakes.ports, fleet.fleet_id, NewDriver(name="Ann", phone="+447700900001", channel="telegram"))
    link = issue_link(fakes.registrations, ChannelRouter.for_fleet(fleet, fakes.ports), ann).url.rsplit("=", 1)[1]
    handle_bot_update(fakes.ports, fleet, 1, ChatMessage(chat_id="42", text=f"/start {link}"))
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    answers.accept(fakes.ports, token_for(fakes, ride.ride_id, ann.driver_id))
    notify_matched(fakes.ports, ride.ride_id)
    # Then the "ride is yours" message carries a Give back button
    yours = [m for m in fakes.channels.sent if m.to == "42" and "is yours" in m.body][-1]
    (button,) = yours.buttons
    assert (button.text, button.callback_data) == ("Give back", f"g:{token_for(fakes, ride.ride_id, ann.driver_id)}")
    # When someone else presses it, nothing happens; when Ann does, the ride is given back
    handle_bot_update(
        fakes.ports, fleet, 2, PressedButton(callback_query_id="q1", user_id="99", data=button.callback_data)
    )
    assert _stored(fakes, ride.ride_id).status == "assigned"
    handle_bot_update(
        fakes.ports, fleet, 3, PressedButton(callback_query_id="q2", user_id="42", data=button.callback_data)
    )
    assert fakes.channels.callback_answers[-1] == (
        "q2",
        f"OK, you gave ride {ride.code} back. Thank you for telling us.",
    )
    # No other driver is left: the new round times out at once with an alert
    assert _stored(fakes, ride.ride_id).status == "searching"
    assert broadcast(fakes.ports, ride.ride_id, matching_round=2) == {"ride_status": "timed_out"}


def test_the_offer_page_shows_give_back_to_the_driver_who_holds_the_ride_only(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    ride, (ann, bo, _) = _assigned_to_first(fakes, fleet)
    holder = render_offer(answers.view_offer(fakes.ports, token_for(fakes, ride.ride_id, ann)))
    other = render_offer(answers.view_offer(fakes.ports, token_for(fakes, ride.ride_id, bo)))
    assert '<div id="give-back">' in holder
    assert '<div id="give-back" hidden>' in other
    # And the winner reads that the ride is theirs, the others that it is taken
    assert '<strong id="status">yours</strong>' in holder
    assert '<strong id="status">taken</strong>' in other
    reallocation.give_back(fakes.ports, token_for(fakes, ride.ride_id, ann))
    after = render_offer(answers.view_offer(fakes.ports, token_for(fakes, ride.ride_id, ann)))
    # Back to matching without her: neither Give back nor Accept for Ann
    assert '<div id="give-back" hidden>' in after
    assert '<div id="actions" hidden>' in after


def test_a_new_round_escalates_and_cancels_among_its_own_drivers_only(fakes: Fakes) -> None:
    # Given a ride Ann gave back, offered again to Bo and Cy
    fleet = a_fleet(fakes)
    ride, (ann, bo, cy) = _assigned_to_first(fakes, fleet)
    reallocation.give_back(fakes.ports, token_for(fakes, ride.ride_id, ann))
    broadcast(fakes.ports, ride.ride_id, matching_round=2)
    alerts_before = len(fakes.alerts.published)
    # When both say no and the window closes
    for driver_id in (bo, cy):
        answers.reject(fakes.ports, token_for(fakes, ride.ride_id, driver_id))
    expire_window(fakes.ports, ride.ride_id, matching_round=2)
    # Then the admins get the early escalation: Ann's released offer does not count as a pending answer
    assert [a.subject for a in fakes.alerts.published[alerts_before:]] == [f"Ridecast escalation {ride.code}"]
    # And a cancel now tells Bo and Cy, not Ann again
    told_ann = len(fakes.channels.to(_phone(fakes, fleet, ann)))
    cancel_ride(fakes.ports, fleet.fleet_id, ride.ride_id, None)
    assert notify_cancelled(fakes.ports, ride.ride_id)["drivers_told"] == 2
    assert len(fakes.channels.to(_phone(fakes, fleet, ann))) == told_ann
