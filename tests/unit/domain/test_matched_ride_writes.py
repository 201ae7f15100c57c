"""What a matched ride's ending writes beyond what it must (bench/cost.py prices every write unit): the
customer's, the winner's and the other drivers' messages are one batch for the channel router, so the router
and the send counters are written once for the whole of NotifyMatched."""

from typing import Any

import pytest

from ridecast.domain.entities import Driver, Ride
from ridecast.domain.matching import answers
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.endings import notify_matched
from ridecast.ids import offer_token
from tests.fakes import Fakes
from tests.unit.domain.conftest import a_fleet, a_ride, drivers_of


def accepted_by_the_first(fakes: Fakes, drivers: int) -> tuple[Ride, list[Driver]]:
    """A ride offered to `drivers` drivers of a new fleet, and accepted by the first of them."""
    fleet = a_fleet(fakes)
    everyone = drivers_of(fakes, fleet, drivers)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    offer = fakes.offers.get(ride.ride_id, everyone[0].driver_id)
    assert offer is not None
    answers.accept(fakes.ports, offer_token(ride.ride_id, everyone[0].driver_id, offer.secret))
    return ride, everyone


def test_notify_matched_writes_the_router_and_the_send_counters_once(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a ride offered to three drivers and accepted by the first
    ride, _ = accepted_by_the_first(fakes, 3)
    router_writes: list[Any] = []
    send_counts: list[dict[str, int]] = []
    record, count_sends = fakes.channel_health.record, fakes.stats.count_sends
    monkeypatch.setattr(fakes.channel_health, "record", lambda *a: router_writes.append(a) or record(*a))
    monkeypatch.setattr(fakes.stats, "count_sends", lambda f, h, c: send_counts.append(c) or count_sends(f, h, c))
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
    single_writes: list[Any] = []
    batches: list[int] = []
    update, update_many = fakes.offers.update, fakes.offers.update_many

    def batch(changes: list[Any]) -> None:
        batches.append(len(changes))
        monkeypatch.setattr(fakes.offers, "update", update)  # the fake writes a batch one offer at a time
        update_many(changes)
        monkeypatch.setattr(fakes.offers, "update", lambda *a, **k: single_writes.append(a) or update(*a, **k))

    monkeypatch.setattr(fakes.offers, "update", lambda *a, **k: single_writes.append(a) or update(*a, **k))
    monkeypatch.setattr(fakes.offers, "update_many", batch)
    # When NotifyMatched settles the 29 others
    assert notify_matched(fakes.ports, ride.ride_id)["drivers_told"] == 29
    # Then they are one batch (the repository writes it 25 statements a call), with no single writes
    assert batches == [29]
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
    router_writes: list[Any] = []
    send_counts: list[dict[str, int]] = []
    record, count_sends = fakes.channel_health.record, fakes.stats.count_sends
    monkeypatch.setattr(fakes.channel_health, "record", lambda *a: router_writes.append(a) or record(*a))
    monkeypatch.setattr(fakes.stats, "count_sends", lambda f, h, c: send_counts.append(c) or count_sends(f, h, c))
    # When its broadcast finds nobody, and tells the admins and the customer
    assert broadcast(fakes.ports, ride.ride_id)["ride_status"] == "timed_out"
    # Then both messages are one router write and one counters write
    assert len(router_writes) == 1
    assert len(send_counts) == 1
