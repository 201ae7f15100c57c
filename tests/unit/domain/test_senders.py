"""Twilio senders belong to one fleet at a time and are released when it stops using them (SPEC §3)."""

import pytest

from ridecast.domain.fleets.accounts import update_fleet
from ridecast.domain.fleets.commands import FleetChanges
from ridecast.errors import SenderInUse
from tests.fakes import Fakes
from tests.unit.domain.conftest import ACCOUNT_SID, SENDER, a_fleet


def _twilio(*numbers: str) -> FleetChanges:
    return FleetChanges.model_validate(
        {
            "twilio": {
                "account_sid": ACCOUNT_SID,
                "auth_token": "twilio-auth-token-0001",
                "senders": [{"channel": "sms", "from": n} for n in numbers],
            }
        }
    )


def test_a_patch_that_is_refused_claims_nothing(fakes: Fakes) -> None:
    # Given a fleet owning SENDER, and another fleet
    a_fleet(fakes)
    other = a_fleet(fakes, twilio=None)
    # When the other fleet asks for a free number and SENDER at once
    with pytest.raises(SenderInUse):
        update_fleet(fakes.ports, other.fleet_id, _twilio("+15005550099", SENDER))
    # Then the free number was not claimed either
    assert fakes.senders.fleet_for("+15005550099") is None


def test_a_number_the_fleet_stops_using_is_released(fakes: Fakes) -> None:
    # Given a fleet sending from SENDER
    fleet = a_fleet(fakes)
    # When it moves to another number
    update_fleet(fakes.ports, fleet.fleet_id, _twilio("+15005550098"))
    # Then SENDER no longer routes inbound messages to it, and the new number does
    assert fakes.senders.fleet_for(SENDER) is None
    assert fakes.senders.fleet_for("+15005550098") == fleet.fleet_id
