"""What a matched ride's ending writes beyond what it must (bench/cost.py prices every write unit): the
customer's, the winner's and the other drivers' messages are one batch for the channel router, so the router
and the send counters are written once for the whole of NotifyMatched; the news to the other drivers and a lapsed
window's timeouts are batches too."""

from collections.abc import Callable
from typing import Any

import pytest

from ridecast.domain.entities import Driver, Ride
from ridecast.domain.matching import answers
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.endings import notify_matched
from ridecast.domain.matching.waiting import expire_window
from ridecast.domain.ports import OfferChange, Ports
from ridecast.ids import offer_token
from tests.fakes import Fakes
from tests.unit.domain.conftest import a_fleet, a_ride, drivers_of
from tests.unit.domain.test_router_batch import telegram_drivers


def answered_by_the_first(
    fakes: Fakes, drivers: int, answer: Callable[[Ports, str], object], *, telegram: bool = False
) -> tuple[Ride, list[Driver]]:
    """A ride offered to `drivers` drivers of a new fleet (by SMS, or through its bot), the first of whom answers
    it with `answer` (answers.accept, answers.reject)."""
    fleet = a_fleet(fakes, telegram=telegram)
    everyone = telegram_drivers(fakes, fleet, drivers) if telegram else drivers_of(fakes, fleet, drivers)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    offer = fakes.offers.get(ride.ride_id, everyone[0].driver_id)
    assert offer is not None
    answer(fakes.ports, offer_token(ride.ride_id, everyone[0].driver_id, offer.secret))
    return ride, everyone


def accepted_by_the_first(fakes: Fakes, drivers: int, *, telegram: bool = False) -> tuple[Ride, list[Driver]]:
    return answered_by_the_first(fakes, drivers, answers.accept, telegram=telegram)


def watch_offer_writes(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[list[OfferChange]]]:
    """The offer store's single writes and update_many batches from now on (the fake writes a batch one offer at
    a time: those are the batch's, not single writes)."""
    single_writes: list[Any] = []
    batches: list[list[OfferChange]] = []
    update, update_many = fakes.offers.update, fakes.offers.update_many

    def counted(*args: Any, **fields: Any) -> Any:
        single_writes.append(args)
        return update(*args, **fields)

    def batch(changes: list[OfferChange]) -> None:
        batches.append(changes)
        monkeypatch.setattr(fakes.offers, "update", update)
        update_many(changes)
        monkeypatch.setattr(fakes.offers, "update", counted)

    monkeypatch.setattr(fakes.offers, "update", counted)
    monkeypatch.setattr(fakes.offers, "update_many", batch)
    return single_writes, batches


def watch_router_and_counters(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[dict[str, int]]]:
    """The channel router's writes and the send counters' writes from now on."""
    router_writes: list[Any] = []
    send_counts: list[dict[str, int]] = []
    record, count_sends = fakes.channel_health.record, fakes.stats.count_sends
    monkeypatch.setattr(fakes.channel_health, "record", lambda *a: router_writes.append(a) or record(*a))
    monkeypatch.setattr(fakes.stats, "count_sends", lambda f, h, c: send_counts.append(c) or count_sends(f, h, c))
    return router_writes, send_counts


def test_notify_matched_writes_the_router_and_the_send_counters_once(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a ride offered to three drivers and accepted by the first
    ride, _ = accepted_by_the_first(fakes, 3)
    router_writes, send_counts = watch_router_and_counters(fakes, monkeypatch)
    # When NotifyMatched tells the customer, the winner and the two others
    assert notify_matched(fakes.ports, ride.ride_id)["drivers_told"] == 2
    # Then the four SMS are one router write and one counters write, which counts all four
    assert len(router_writes) == 1
    assert len(send_counts) == 1
    assert (send_counts[0]["ch_attempts#sms"], send_counts[0]["ch_successes#sms"]) == (4, 4)


def test_notify_matched_settles_the_open_offers_in_batches_not_one_write_each(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a ride offered to thirty drivers and accepted by the first
    ride, _ = accepted_by_the_first(fakes, 30)
    single_writes, batches = watch_offer_writes(fakes, monkeypatch)
    # When NotifyMatched settles the 29 others
    assert notify_matched(fakes.ports, ride.ride_id)["drivers_told"] == 29
    # Then they are one batch (the repository writes it 25 statements a call), with no single writes
    assert [len(b) for b in batches] == [29]
    assert single_writes == []
    assert sorted(o.status for o in fakes.offers.for_ride(ride.ride_id)) == ["accepted"] + ["taken"] * 29


def test_an_offer_whose_window_lapsed_while_the_batch_was_written_is_settled_all_the_same(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a matched ride of three drivers, one of whose offers times out between the read and the batch
    ride, (_, bob, _) = accepted_by_the_first(fakes, 3)
    update_many = fakes.offers.update_many

    def lapse_then_write(changes: list[Any]) -> None:
        fakes.offers.update(ride.ride_id, bob.driver_id, {"sent"}, status="timeout")
        update_many(changes)

    monkeypatch.setattr(fakes.offers, "update_many", lapse_then_write)
    # When NotifyMatched settles the open offers
    notify_matched(fakes.ports, ride.ride_id)
    # Then no offer is left open: the lapsed one is taken too, and its driver is told
    assert sorted(o.status for o in fakes.offers.for_ride(ride.ride_id)) == ["accepted", "taken", "taken"]


def test_a_ride_no_driver_can_take_writes_the_router_and_the_send_counters_once(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a fleet with no driver, and a ride of it
    fleet = a_fleet(fakes)
    ride = a_ride(fakes, fleet)
    router_writes, send_counts = watch_router_and_counters(fakes, monkeypatch)
    # When its broadcast finds nobody, and tells the admins and the customer
    assert broadcast(fakes.ports, ride.ride_id)["ride_status"] == "timed_out"
    # Then both messages are one router write and one counters write
    assert len(router_writes) == 1
    assert len(send_counts) == 1


def test_the_other_drivers_hear_the_ride_is_taken_in_one_batch(fakes: Fakes) -> None:
    # Given a ride offered to forty SMS drivers and accepted by the first
    ride, everyone = accepted_by_the_first(fakes, 40)
    fakes.channels.batches.clear()
    # When NotifyMatched tells the 39 others
    assert notify_matched(fakes.ports, ride.ride_id)["drivers_told"] == 39
    # Then their news went to Twilio as batches of the router (a few first, then the rest), not 39 sends
    news_batches = [size for provider, size in fakes.channels.batches if provider == "twilio" and size > 1]
    assert sum(news_batches) == 39
    assert len(news_batches) <= 2
    # And each of them read it once
    taken = f"Ride {ride.code} has been taken by another driver. Thank you!"
    assert all(fakes.channels.to(d.phone).count(taken) == 1 for d in everyone[1:])


def test_telegram_offers_are_edited_in_one_batch_and_a_failed_edit_is_sent_instead(fakes: Fakes) -> None:
    # Given a fleet with a bot, a ride offered to three Telegram drivers and accepted by the first
    ride, drivers = accepted_by_the_first(fakes, 3, telegram=True)
    # And Telegram refusing edits from now on (the router, seeing it down, falls back to the drivers' phones)
    fakes.channels.down.add("telegram")
    fakes.channels.batches.clear()
    # When NotifyMatched tells the other two
    assert notify_matched(fakes.ports, ride.ride_id)["drivers_told"] == 2
    # Then both edits were asked in one batch, and both drivers got the news all the same, by SMS
    assert ("telegram edits", 2) in fakes.channels.batches
    taken = f"Ride {ride.code} has been taken by another driver. Thank you!"
    assert all(fakes.channels.to(d.phone) == [taken] for d in drivers[1:])


def test_telegram_offers_are_edited_in_place_not_sent_again(fakes: Fakes) -> None:
    # Given a ride offered to two Telegram drivers and accepted by the first
    ride, (_, second) = accepted_by_the_first(fakes, 2, telegram=True)
    sent_before = len(fakes.channels.to(str(second.telegram_chat_id)))
    # When NotifyMatched tells the other
    notify_matched(fakes.ports, ride.ride_id)
    # Then the other's offer message was edited to the news, and nothing new was sent to them
    taken = f"Ride {ride.code} has been taken by another driver. Thank you!"
    assert [e.text for e in fakes.channels.edits if e.chat_id == str(second.telegram_chat_id)] == [taken]
    assert len(fakes.channels.to(str(second.telegram_chat_id))) == sent_before


def test_a_lapsed_window_times_the_unanswered_offers_out_in_one_batch_keeping_answers(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a ride offered to thirty drivers, one of whom rejected it
    ride, _ = answered_by_the_first(fakes, 30, answers.reject)
    single_writes, batches = watch_offer_writes(fakes, monkeypatch)
    # When the response window lapses
    expire_window(fakes.ports, ride.ride_id)
    # Then the 29 unanswered offers were one batch, each only while still `sent`, with no single writes
    assert [len(b) for b in batches] == [29]
    assert {change.only_from for change in batches[0]} == {"sent"}
    assert single_writes == []
    # And the rejection stands beside 29 timeouts
    assert sorted(o.status for o in fakes.offers.for_ride(ride.ride_id)) == ["rejected"] + ["timeout"] * 29
