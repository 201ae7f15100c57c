"""No SMS relay (SPEC §11, issue 10.3): a fleet's rides per minute and messages to one customer per hour are
capped, past them 429 with Retry-After; messages over the cap are not sent, and the flow carries on."""

from datetime import UTC, datetime

import pytest

from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.rides import limits
from ridecast.domain.rides.commands import NewRide
from ridecast.domain.rides.create import create_ride
from ridecast.errors import RateLimited
from tests.fakes import Fakes
from tests.unit.domain.conftest import a_fleet, drivers_of

CUSTOMER = "+15550001234"


@pytest.fixture(autouse=True)
def _within_one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # The limits count per fixed minute and hour: a test straddling a boundary on the real clock would see
    # its counts reset halfway. Every check here happens at one instant, early in its minute and hour.
    moment = datetime(2026, 11, 29, 12, 0, 5, tzinfo=UTC)
    monkeypatch.setattr(limits, "utcnow", lambda: moment)


def _ride(customer_phone: str = CUSTOMER) -> NewRide:
    return NewRide.model_validate(
        {
            "customer": {"name": "Cleo Customer", "phone": customer_phone},
            "pickup": {"address": "12 Pickup Lane"},
            "dropoff": {"address": "34 Dropoff Road"},
        }
    )


def test_rides_past_the_fleets_limit_per_minute_are_refused_with_a_retry_after(fakes: Fakes) -> None:
    # Given a fleet allowing 3 rides a minute
    fleet = a_fleet(fakes, settings={"max_rides_per_minute": 3, "max_messages_per_customer_per_hour": 100})
    for n in range(3):
        create_ride(fakes.ports, fleet.fleet_id, _ride(f"+1555000100{n}"))
    # When a fourth comes within the minute
    with pytest.raises(RateLimited) as refused:
        create_ride(fakes.ports, fleet.fleet_id, _ride("+15550001009"))
    # Then it is refused with the seconds to wait, and no ride was made
    assert refused.value.status_code == 429
    assert 1 <= refused.value.retry_after_seconds <= 60
    assert len(fakes.rides.rides) == 3


def test_messages_to_one_customer_stop_at_the_hourly_cap_and_further_rides_for_them_are_429(fakes: Fakes) -> None:
    # Given a fleet capping messages to one customer at 2 an hour, and a driver
    fleet = a_fleet(fakes, settings={"max_messages_per_customer_per_hour": 2})
    drivers_of(fakes, fleet, 1)
    # When three rides for the same customer are broadcast
    rides = [create_ride(fakes.ports, fleet.fleet_id, _ride()) for _ in range(2)]
    for ride in rides:
        broadcast(fakes.ports, ride.ride_id)
    # Then the customer got two messages, the flow carried on (every ride searching and offered)
    assert len(fakes.channels.to(CUSTOMER)) == 2
    assert all(fakes.rides.rides[r.ride_id].drivers_notified == 1 for r in rides)
    # And a further ride for that customer is refused until the hour is over
    with pytest.raises(RateLimited) as refused:
        create_ride(fakes.ports, fleet.fleet_id, _ride())
    assert 1 <= refused.value.retry_after_seconds <= 3600
    # While another customer is served
    create_ride(fakes.ports, fleet.fleet_id, _ride("+15550009876"))


def test_the_default_limits() -> None:
    from ridecast.domain.entities import FleetSettings

    settings = FleetSettings()
    assert (settings.max_rides_per_minute, settings.max_messages_per_customer_per_hour) == (60, 10)
