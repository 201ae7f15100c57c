"""What the console's Now panel reads (GET /matchings): rides matching now with their offers, and those that
ended lately, from the fleet's recent rides only."""

from datetime import timedelta

import pytest

from ridecast.domain.entities import Fleet
from ridecast.domain.fleets.commands import TwilioAccount
from ridecast.domain.matching import answers
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.endings import notify_matched
from ridecast.domain.rides.read import live_matchings
from ridecast.domain.stats.report import fleet_stats
from tests.fakes import Fakes
from tests.unit.domain.conftest import ACCOUNT_SID, a_fleet, a_ride, drivers_of, token_for

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def test_a_matching_ride_comes_with_every_offer_and_a_matched_one_stays_a_while(fakes: Fakes) -> None:
    # Given two rides offered to two drivers, the first taken by Ann
    fleet = a_fleet(fakes)
    ann, bo = drivers_of(fakes, fleet, 2)
    taken, open_ride = a_ride(fakes, fleet), a_ride(fakes, fleet)
    for ride in (taken, open_ride):
        broadcast(fakes.ports, ride.ride_id)
    answers.accept(fakes.ports, token_for(fakes, taken.ride_id, ann.driver_id))
    notify_matched(fakes.ports, taken.ride_id)
    # When the live matchings are read, keeping rides ended within a minute
    found = {
        ride.ride_id: (ride, offers) for ride, offers in live_matchings(fakes.ports, fleet.fleet_id, timedelta(60))
    }
    # Then both are there: the open one with two offers sent, the taken one assigned with who won
    assert set(found) == {taken.ride_id, open_ride.ride_id}
    ride, offers = found[open_ride.ride_id]
    assert ride.status == "searching"
    assert sorted(o.driver_id for o in offers) == sorted([ann.driver_id, bo.driver_id])
    assert {o.status for o in offers} == {"sent"}
    ride, offers = found[taken.ride_id]
    assert (ride.status, ride.driver_id) == ("assigned", ann.driver_id)
    assert {o.driver_id: o.status for o in offers} == {ann.driver_id: "accepted", bo.driver_id: "taken"}


def _a_matched_ride(fakes: Fakes) -> Fleet:
    """A fleet with one driver who took its one ride at once."""
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    answers.accept(fakes.ports, token_for(fakes, ride.ride_id, ann.driver_id))
    notify_matched(fakes.ports, ride.ride_id)
    return fleet


def test_a_ride_that_ended_longer_ago_than_asked_is_left_out(fakes: Fakes) -> None:
    # Given a ride that was matched
    fleet = _a_matched_ride(fakes)
    # When the live matchings are read keeping no ended ride
    found = live_matchings(fakes.ports, fleet.fleet_id, timedelta(0))
    # Then it is not shown
    assert found == []


def test_another_fleets_rides_are_not_shown(fakes: Fakes) -> None:
    # Given a ride matching in one fleet
    their_twilio = TwilioAccount(
        account_sid=ACCOUNT_SID,
        auth_token="twilio-auth-token-0002",
        senders=[{"channel": "sms", "from": "+15005550099"}],
    )
    mine, theirs = a_fleet(fakes), a_fleet(fakes, name="Southside Cabs", twilio=their_twilio)
    drivers_of(fakes, theirs, 1)
    broadcast(fakes.ports, a_ride(fakes, theirs).ride_id)
    # When the other fleet reads its live matchings, Then it sees none
    assert live_matchings(fakes.ports, mine.fleet_id, timedelta(minutes=1)) == []


def test_the_time_to_match_histogram_counts_each_matched_ride_in_its_bucket(fakes: Fakes) -> None:
    # Given a ride matched at once
    fleet = _a_matched_ride(fakes)
    # When the stats are read
    histogram = fleet_stats(fakes.ports, fleet.fleet_id, None, None).time_to_match_histogram
    # Then one ride is counted, in the first bucket (under a second)
    assert sum(histogram) == 1
    assert histogram[0] == 1


def test_a_ride_held_by_a_long_pause_is_shown_however_old(fakes: Fakes) -> None:
    # Given a ride held by a pause since long before the fleet's matching timeout
    fleet = a_fleet(fakes)
    drivers_of(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    long_ago = ride.created_at - timedelta(hours=3)
    fakes.rides.rides[ride.ride_id] = ride.model_copy(update={"created_at": long_ago})
    assert fakes.rides.hold(fakes.rides.rides[ride.ride_id], "task-token", long_ago)
    # When the live matchings are read, Then it is there, still searching and offered to nobody
    ((held, offers),) = live_matchings(fakes.ports, fleet.fleet_id, timedelta(minutes=1))
    assert (held.ride_id, held.status, held.held_at, offers) == (ride.ride_id, "searching", long_ago, [])
