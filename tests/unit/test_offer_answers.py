"""The sample events drive the real flow: with the ride, drivers and offer they name in the table,
accept / reject / sweep behave as SPEC §3 and §4 say."""

from datetime import timedelta
from typing import Any

import pytest

from ridecast.domain.clock import utcnow
from ridecast.domain.entities import ApiKey, Customer, Driver, Fleet, Offer, Place, Ride
from ridecast.ids import parse_offer_token
from ridecast.wiring import ports
from tests.fixtures import invoke, json_body, load_event, with_path
from tests.unit.conftest import AwsStack

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TOKEN = load_event("offers/accept_offer.json")["pathParameters"]["token"]
RIDE_ID, DRIVER_ID, SECRET = parse_offer_token(TOKEN) or ("", "", "")
FLEET_ID = load_event("rides/get_ride.json")["requestContext"]["authorizer"]["lambda"]["fleet_id"]


def _seed(*, deadline_in: timedelta = timedelta(minutes=5), created_ago: timedelta = timedelta(seconds=20)) -> Ride:
    """The fleet, two drivers, the searching ride and both offers that events/ refer to."""
    now = utcnow()
    ports().stores.fleets.create(
        Fleet(fleet_id=FLEET_ID, name="Northside Cabs", created_at=now, updated_at=now),
        ApiKey(key_id="k", fleet_id=FLEET_ID, role="admin", created_at=now),
        "h",
    )
    for driver_id, phone in ((DRIVER_ID, "+447700900456"), ("d0other0driver", "+447700900457")):
        ports().stores.drivers.create(
            Driver(
                driver_id=driver_id,
                fleet_id=FLEET_ID,
                name=driver_id,
                phone=phone,
                channel="sms",
                created_at=now,
                updated_at=now,
            )
        )
    ride = Ride(
        ride_id=RIDE_ID,
        fleet_id=FLEET_ID,
        code="R-7K3QX",
        customer=Customer(name="Dana Levi", phone="+447700900123"),
        pickup=Place(address="King's Cross"),
        dropoff=Place(address="Heathrow T5"),
        created_at=now - created_ago,
        deadline_at=now - created_ago + deadline_in,
        wave=1,
        drivers_notified=2,
    )
    ports().stores.rides.add(ride)
    ports().stores.offers.add_many(
        [
            Offer(
                ride_id=RIDE_ID,
                driver_id=driver_id,
                fleet_id=FLEET_ID,
                secret=secret,
                channel="sms",
                sent_at=now - timedelta(seconds=10),
            )
            for driver_id, secret in ((DRIVER_ID, SECRET), ("d0other0driver", "other-driver-secret-0001"))
        ]
    )
    return ride


def _token_event(name: str, driver_id: str, secret: str) -> dict[str, Any]:
    return with_path(load_event(name), token=f"{RIDE_ID}.{driver_id}.{secret}")


def test_the_first_accept_wins_and_the_next_is_told_it_is_taken(aws: AwsStack) -> None:
    # Given the ride of events/ offered to two drivers
    _seed()
    # When the driver of events/offers/accept_offer.json accepts, then the other driver does
    first = invoke("offers", load_event("offers/accept_offer.json"))
    second = invoke("offers", _token_event("offers/accept_offer.json", "d0other0driver", "other-driver-secret-0001"))
    # Then the first wins and the second is told the ride is taken
    assert (first["statusCode"], json_body(first)) == (200, {"result": "assigned", "ride_code": "R-7K3QX"})
    assert second["statusCode"] == 409
    assert json_body(second)["result"] == "already_taken"
    ride = ports().stores.rides.get(RIDE_ID)
    assert ride is not None
    assert (ride.status, ride.driver_id) == ("assigned", DRIVER_ID)
    assert ride.time_to_match_seconds is not None
    assert ride.time_to_match_seconds > 0
    offer = ports().stores.offers.get(RIDE_ID, DRIVER_ID)
    assert offer is not None
    assert offer.status == "accepted"


def test_the_winner_accepting_again_gets_the_same_answer(aws: AwsStack) -> None:
    _seed()
    first = invoke("offers", load_event("offers/accept_offer.json"))
    again = invoke("offers", load_event("offers/accept_offer.json"))
    assert first["statusCode"] == again["statusCode"] == 200
    ride = ports().stores.rides.get(RIDE_ID)
    assert ride is not None
    assert ride.version == 1


def test_a_reject_is_recorded_once(aws: AwsStack) -> None:
    _seed()
    answer = invoke("offers", load_event("offers/reject_offer.json"))
    assert (answer["statusCode"], json_body(answer)["result"]) == (200, "rejected")
    invoke("offers", load_event("offers/reject_offer.json"))
    ride = ports().stores.rides.get(RIDE_ID)
    assert ride is not None
    assert (ride.status, ride.drivers_declined, ride.drivers_responded) == ("searching", 1, 1)


def test_a_wrong_secret_is_404_and_changes_nothing(aws: AwsStack) -> None:
    _seed()
    answer = invoke("offers", _token_event("offers/accept_offer.json", DRIVER_ID, "guessed-secret-000000"))
    assert answer["statusCode"] == 404
    ride = ports().stores.rides.get(RIDE_ID)
    assert ride is not None
    assert ride.status == "searching"


def test_an_accept_after_the_deadline_is_expired(aws: AwsStack) -> None:
    _seed(deadline_in=timedelta(seconds=5))
    answer = invoke("offers", load_event("offers/accept_offer.json"))
    assert (answer["statusCode"], json_body(answer)["result"]) == (409, "expired")


def test_an_accept_of_a_cancelled_ride_is_told_so(aws: AwsStack) -> None:
    _seed()
    cancel = invoke("rides", load_event("rides/cancel_ride.json"))
    assert cancel["statusCode"] == 200
    answer = invoke("offers", load_event("offers/accept_offer.json"))
    assert (answer["statusCode"], json_body(answer)["result"]) == (409, "cancelled")


def test_the_offer_page_shows_the_ride(aws: AwsStack) -> None:
    _seed()
    page = invoke("offers", load_event("offers/show_offer.json"))
    assert page["statusCode"] == 200
    assert page["headers"]["Content-Type"].startswith("text/html")
    assert "R-7K3QX" in page["body"]
    assert "King&#x27;s Cross" in page["body"]


def test_the_sweeper_settles_a_ride_stuck_past_its_deadline(aws: AwsStack) -> None:
    # Given a ride still searching ten minutes after its deadline (its execution was lost)
    _seed(deadline_in=timedelta(minutes=1), created_ago=timedelta(minutes=11))
    # When the scheduler fires the sweeper
    result = invoke("sweeper", load_event("sweeper/scheduled.json"))
    # Then the ride is timed out and no offer is left open
    assert result == {"settled": 1}
    ride = ports().stores.rides.get(RIDE_ID)
    assert ride is not None
    assert ride.status == "timed_out"
    assert {o.status for o in ports().stores.offers.for_ride(RIDE_ID)} == {"timeout"}
