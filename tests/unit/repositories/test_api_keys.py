"""DynamoApiKeyStore: keys listed per fleet, looked up by hash, revoked once."""

from datetime import timedelta

from ridecast.domain.ports import Stores
from tests.unit.conftest import AwsStack
from tests.unit.repositories.builders import NOW, an_api_key


def test_keys_of_a_fleet_are_listed_without_their_hash(aws: AwsStack, stores: Stores) -> None:
    # Given two keys of a fleet and one of another
    stores.api_keys.add(an_api_key("f1", "k1"), "hash-1")
    stores.api_keys.add(an_api_key("f1", "k2", role="dispatcher"), "hash-2")
    stores.api_keys.add(an_api_key("f2", "k3"), "hash-3")
    # When the fleet's keys are listed, Then it sees its two and nothing of how they are looked up
    assert stores.api_keys.for_fleet("f1") == [an_api_key("f1", "k1"), an_api_key("f1", "k2", role="dispatcher")]
    stored_ref = aws.raw_item("FLEET#f1", "APIKEY#k1")
    assert stored_ref is not None
    assert stored_ref["key_hash"] == "hash-1"


def test_a_revoked_key_lets_nobody_in_and_keeps_its_first_revocation_time(stores: Stores) -> None:
    # Given a key in use (and another admin key, which the fleet keeps)
    stores.api_keys.add(an_api_key("f1", "k1"), "hash-1")
    stores.api_keys.add(an_api_key("f1", "k0"), "hash-0")
    assert stores.api_keys.principal_for("hash-1") is not None
    # When it is revoked twice
    first = stores.api_keys.revoke("f1", "k1", NOW)
    second = stores.api_keys.revoke("f1", "k1", NOW + timedelta(hours=1))
    # Then it no longer authenticates, and it says when it was first revoked
    assert stores.api_keys.principal_for("hash-1") is None
    assert first is not None
    assert second is not None
    assert first.revoked_at == second.revoked_at == NOW
    assert stores.api_keys.for_fleet("f1")[1].revoked_at == NOW


def test_revoking_a_key_the_fleet_does_not_have_is_none(stores: Stores) -> None:
    # Given a key of another fleet
    stores.api_keys.add(an_api_key("f2", "k1"), "hash-1")
    # When a fleet revokes a key id it does not own, Then nothing happens
    assert stores.api_keys.revoke("f1", "k1", NOW) is None
    assert stores.api_keys.principal_for("hash-1") is not None


def test_an_unknown_key_hash_is_nobody(stores: Stores) -> None:
    assert stores.api_keys.principal_for("hash-unknown") is None
