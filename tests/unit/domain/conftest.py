"""Domain unit tests: the domain's own rules on in-memory fakes of its ports (tests/fakes.py), no AWS at all.
The same stories on the real repositories run in tests/integration/ against the real ASL."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ridecast.domain.channels.ports import SignedRequest
from ridecast.domain.drivers.commands import NewDriver
from ridecast.domain.drivers.roster import register_driver
from ridecast.domain.entities import Driver, Fleet, Ride
from ridecast.domain.fleets.accounts import create_fleet
from ridecast.domain.fleets.commands import NewFleet, TelegramBotAccount, TwilioAccount
from ridecast.domain.rides.commands import NewRide
from ridecast.domain.rides.create import create_ride
from ridecast.domain.types import DriverChannel
from ridecast.ids import offer_token
from ridecast.settings import get_settings
from tests.fakes import Fakes

ACCOUNT_SID = "AC" + "0" * 32
SENDER = "+15005550006"
ADMIN_PHONE = "+15550009999"


@pytest.fixture(autouse=True)
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What template.yaml gives every function, without a table behind it."""
    monkeypatch.setenv("TABLE_NAME", "not-used-by-fakes")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://ridecast.example.com")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


def a_fleet(fakes: Fakes, *, telegram: bool = False, **fields: object) -> Fleet:
    """A fleet created through the domain, with a Twilio SMS sender (and a bot), its admin on SMS."""
    fleet, _, _ = create_fleet(
        fakes.ports,
        NewFleet.model_validate(
            {
                "name": "Northside Cabs",
                "admin_contacts": [{"name": "Olu Admin", "phone": ADMIN_PHONE}],
                "twilio": TwilioAccount(
                    account_sid=ACCOUNT_SID,
                    auth_token="twilio-auth-token-0001",
                    senders=[{"channel": "sms", "from": SENDER}],
                ),
                "telegram": TelegramBotAccount(
                    bot_token="100:bot-token", bot_username="northside_bot", webhook_secret="webhook-secret-0001"
                )
                if telegram
                else None,
                **fields,
            }
        ),
    )
    return fleet


def drivers_of(fakes: Fakes, fleet: Fleet, count: int, channel: DriverChannel = "sms") -> list[Driver]:
    return [
        register_driver(
            fakes.ports, fleet.fleet_id, NewDriver(name=f"Driver {n}", phone=f"+4477009000{n:02d}", channel=channel)
        )
        for n in range(1, count + 1)
    ]


def a_ride(fakes: Fakes, fleet: Fleet) -> Ride:
    new = NewRide.model_validate(
        {
            "customer": {"name": "Cleo Customer", "phone": "+15550001234"},
            "pickup": {"address": "12 Pickup Lane"},
            "dropoff": {"address": "34 Dropoff Road"},
        }
    )
    return create_ride(fakes.ports, fleet.fleet_id, new)


def token_for(fakes: Fakes, ride_id: str, driver_id: str) -> str:
    """The offer link's token a driver received for the ride."""
    offer = fakes.offers.get(ride_id, driver_id)
    assert offer is not None
    return offer_token(ride_id, driver_id, offer.secret)


@dataclass
class Verifier:
    """Twilio's signature check, decided by the test."""

    valid: bool = True

    def verify(self, auth_token: str, request: SignedRequest) -> bool:
        return self.valid
