"""DynamoSenderStore: a Twilio sender belongs to one fleet, the first to claim it."""

from ridecast.domain.ports import Stores


def test_a_sender_belongs_to_the_first_fleet_that_claims_it(stores: Stores) -> None:
    # Given a sender claimed by one fleet
    assert stores.senders.claim("f1", ["+15005550006"]) == []
    # When another fleet claims it and a free one
    taken = stores.senders.claim("f2", ["+15005550006", "+15005550007"])
    # Then it is told which one is taken, and gets neither (claims are all or nothing)
    assert taken == ["+15005550006"]
    assert stores.senders.fleet_for("+15005550006") == "f1"
    assert stores.senders.fleet_for("+15005550007") is None


def test_a_fleet_may_claim_its_own_sender_again(stores: Stores) -> None:
    stores.senders.claim("f1", ["+15005550006"])
    assert stores.senders.claim("f1", ["+15005550006"]) == []
    assert stores.senders.fleet_for("+15005550006") == "f1"


def test_an_unknown_sender_has_no_fleet(stores: Stores) -> None:
    assert stores.senders.fleet_for("+15005550009") is None
