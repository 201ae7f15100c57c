"""Senders, registration tokens and webhook deliveries: the channel bookkeeping that must hold under races."""

from datetime import timedelta

from ridecast.domain.ports import Stores
from tests.unit.repositories.builders import NOW


def test_a_sender_belongs_to_the_first_fleet_that_claims_it(stores: Stores) -> None:
    # Given a sender claimed by one fleet
    assert stores.senders.claim("f1", ["+15005550006"]) == []
    # When another fleet claims it and a free one
    taken = stores.senders.claim("f2", ["+15005550006", "+15005550007"])
    # Then it is told which one is taken, and gets only the free one
    assert taken == ["+15005550006"]
    assert stores.senders.fleet_for("+15005550006") == "f1"
    assert stores.senders.fleet_for("+15005550007") == "f2"


def test_a_fleet_may_claim_its_own_sender_again(stores: Stores) -> None:
    stores.senders.claim("f1", ["+15005550006"])
    assert stores.senders.claim("f1", ["+15005550006"]) == []
    assert stores.senders.fleet_for("+15005550006") == "f1"


def test_an_unknown_sender_has_no_fleet(stores: Stores) -> None:
    assert stores.senders.fleet_for("+15005550009") is None


def test_a_registration_token_works_once(stores: Stores) -> None:
    # Given a live registration token
    stores.registrations.add("tok", "f1", "d1", NOW + timedelta(minutes=10))
    # When it is used twice, Then only the first use finds the driver
    assert stores.registrations.consume("tok", "f1", NOW) == "d1"
    assert stores.registrations.consume("tok", "f1", NOW) is None


def test_a_registration_token_of_another_fleet_or_expired_does_not_work_and_is_kept(stores: Stores) -> None:
    # Given a token that expires in ten minutes
    stores.registrations.add("tok", "f1", "d1", NOW + timedelta(minutes=10))
    # When another fleet's bot or a late user presents it, Then neither gets the driver
    assert stores.registrations.consume("tok", "f2", NOW) is None
    assert stores.registrations.consume("tok", "f1", NOW + timedelta(minutes=10)) is None
    # And the refusals did not use it up for its own fleet in time
    assert stores.registrations.consume("tok", "f1", NOW + timedelta(minutes=9)) == "d1"


def test_an_unknown_registration_token_does_not_work(stores: Stores) -> None:
    assert stores.registrations.consume("never-issued", "f1", NOW) is None


def test_a_delivery_is_claimed_once_until_released(stores: Stores) -> None:
    expires = NOW + timedelta(days=1)
    # Given a delivery processed once
    assert stores.deliveries.claim("telegram", "42", expires) is True
    # When the provider replays it, Then it is a replay; the same id from another source is not
    assert stores.deliveries.claim("telegram", "42", expires) is False
    assert stores.deliveries.claim("twilio", "42", expires) is True
    # And a delivery whose processing failed is released so the provider's retry is processed
    stores.deliveries.release("telegram", "42")
    assert stores.deliveries.claim("telegram", "42", expires) is True
