"""DynamoRegistrationStore: a Telegram registration token works once, for its fleet, until it expires."""

from datetime import timedelta

from ridecast.domain.ports import Stores
from tests.unit.repositories.builders import NOW


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
