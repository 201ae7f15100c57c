"""What a matched ride's ending writes beyond what it must (bench/cost.py prices every write unit): the
customer's, the winner's and the other drivers' messages are one batch for the channel router, so the router
and the send counters are written once for the whole of NotifyMatched."""

from typing import Any

import pytest

from ridecast.domain.matching import answers
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.endings import notify_matched
from ridecast.ids import offer_token
from tests.fakes import Fakes
from tests.unit.domain.conftest import a_fleet, a_ride, drivers_of


def test_notify_matched_writes_the_router_and_the_send_counters_once(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a ride offered to three drivers and accepted by the first
    fleet = a_fleet(fakes)
    ann, *_ = drivers_of(fakes, fleet, 3)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    offer = fakes.offers.get(ride.ride_id, ann.driver_id)
    assert offer is not None
    answers.accept(fakes.ports, offer_token(ride.ride_id, ann.driver_id, offer.secret))
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
