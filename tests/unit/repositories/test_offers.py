"""DynamoOfferStore: offers move only from the statuses a caller names, and are found by ride and by driver."""

from datetime import timedelta

from ridecast.domain.ports import Stores
from tests.unit.repositories.builders import NOW, a_ride, an_offer


def test_update_offer_respects_from_statuses(stores: Stores) -> None:
    # Given an offer that was sent
    ride = a_ride("f1", 1)
    stores.offers.add_many([an_offer(ride, "d1")])
    # When the window lapses it moves sent -> timeout once
    timed_out = stores.offers.update(ride.ride_id, "d1", {"sent"}, status="timeout")
    assert timed_out is not None
    assert timed_out.status == "timeout"
    # Then a second "sent -> timeout" finds nothing to do
    assert stores.offers.update(ride.ride_id, "d1", {"sent"}, status="timeout") is None
    # And an answer from an allowed status still lands, with its other fields
    answered = stores.offers.update(
        ride.ride_id, "d1", {"sent", "timeout"}, status="rejected", responded_at=NOW, response_seconds=4.5
    )
    assert answered is not None
    assert (answered.status, answered.response_seconds) == ("rejected", 4.5)
    stored = stores.offers.get(ride.ride_id, "d1")
    assert stored is not None
    assert stored.status == "rejected"


def test_update_offer_without_from_statuses_updates_any_existing_offer(stores: Stores) -> None:
    ride = a_ride("f1", 1)
    stores.offers.add_many([an_offer(ride, "d1", status="accepted")])
    updated = stores.offers.update(ride.ride_id, "d1", None, provider_message_id="2741")
    assert updated is not None
    assert (updated.status, updated.provider_message_id) == ("accepted", "2741")


def test_update_offer_never_creates_an_offer(stores: Stores) -> None:
    assert stores.offers.update("r-none", "d-none", None, status="timeout") is None
    assert stores.offers.get("r-none", "d-none") is None


def test_offers_of_a_ride_are_listed_and_not_mixed_with_the_ride(stores: Stores) -> None:
    # Given a ride and more offers than one batch write takes (25)
    ride = a_ride("f1", 1)
    stores.rides.add(ride)
    stores.offers.add_many([an_offer(ride, f"d{n}") for n in range(30)])
    # When its offers are listed, Then every one is there and the ride item is not taken for one
    offers = stores.offers.for_ride(ride.ride_id)
    assert sorted(o.driver_id for o in offers) == sorted(f"d{n}" for n in range(30))


def test_recent_offers_of_a_driver_come_newest_first_across_rides(stores: Stores) -> None:
    # Given a driver offered three rides a minute apart, and another driver offered one of them
    rides = [a_ride("f1", n) for n in range(3)]
    stores.offers.add_many([an_offer(ride, "d1", sent_at=NOW + timedelta(minutes=n)) for n, ride in enumerate(rides)])
    stores.offers.add_many([an_offer(rides[0], "d2")])
    # When the driver's two most recent offers are asked for
    recent = stores.offers.recent_for_driver("d1", limit=2)
    # Then they are the last two, newest first, and only theirs
    assert [(o.ride_id, o.driver_id) for o in recent] == [(rides[2].ride_id, "d1"), (rides[1].ride_id, "d1")]
