"""Matching options and drivers' locations (SPEC §3 `matching`, §4.1, §5; issue 15): who is offered a ride,
in which order, and where drivers' locations come from."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from ridecast.api.models.drivers import UpdateDriverRequest
from ridecast.api.models.rides import CreateRideRequest
from ridecast.api.telegram import TelegramUpdate
from ridecast.domain.channels.ports import SignedRequest
from ridecast.domain.clock import utcnow
from ridecast.domain.drivers.commands import DriverChanges
from ridecast.domain.drivers.roster import eligible_drivers, update_driver
from ridecast.domain.drivers.telegram_bot import SharedLocation, handle_bot_update
from ridecast.domain.entities import Driver, Fleet, GeoPoint, Ride
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.driver_replies import TextReply, answer_text_reply
from ridecast.domain.matching.ranking import distance_km, rank_drivers
from ridecast.domain.rides.commands import NewRide
from ridecast.domain.rides.create import create_ride
from ridecast.domain.rides.read import get_ride_with_offers
from ridecast.errors import InvalidInput
from tests.fakes import Fakes
from tests.unit.domain.conftest import ACCOUNT_SID, SENDER, Verifier, a_fleet, drivers_of

# Pickup at Trafalgar Square; drivers at known distances from it.
PICKUP = {"address": "Trafalgar Square", "lat": 51.5080, "lng": -0.1281}
NEAR = GeoPoint(lat=51.5101, lng=-0.1340)  # Piccadilly Circus, about 0.5 km
MIDDLE = GeoPoint(lat=51.5033, lng=-0.1195)  # London Eye, about 0.8 km
FAR = GeoPoint(lat=51.4700, lng=-0.4543)  # Heathrow, about 23 km


def _ride(fakes: Fakes, fleet: Fleet, pickup: dict[str, object] | None = None, **matching: object) -> Ride:
    new = NewRide.model_validate(
        {
            "customer": {"name": "Cleo Customer", "phone": "+15550001234"},
            "pickup": pickup or PICKUP,
            "dropoff": {"address": "34 Dropoff Road"},
            "matching": matching,
        }
    )
    return create_ride(fakes.ports, fleet.fleet_id, new)


def _locate(fakes: Fakes, driver: Driver, where: GeoPoint) -> None:
    update_driver(fakes.ports, driver.fleet_id, driver.driver_id, DriverChanges(location=where))


def _seen(fakes: Fakes, driver: Driver, minutes_ago: int) -> None:
    fakes.drivers.touch(driver.fleet_id, driver.driver_id, utcnow() - timedelta(minutes=minutes_ago))


def _offered(fakes: Fakes, ride: Ride) -> set[str]:
    return {o.driver_id for o in fakes.offers.for_ride(ride.ride_id)}


def test_the_great_circle_distance_matches_known_ones() -> None:
    assert distance_km(GeoPoint(lat=51.5080, lng=-0.1281), FAR) == pytest.approx(23.0, abs=0.2)
    # Paris to New York: 5,837 km on the great circle
    assert distance_km(GeoPoint(lat=48.8566, lng=2.3522), GeoPoint(lat=40.7128, lng=-74.0060)) == pytest.approx(
        5837, rel=0.005
    )
    assert distance_km(NEAR, NEAR) == 0


def test_by_default_the_most_recently_seen_come_first_wherever_they_are(fakes: Fakes) -> None:
    # Given three drivers, the far one seen last
    fleet = a_fleet(fakes)
    ann, bo, cy = drivers_of(fakes, fleet, 3)
    for driver, where, minutes in ((ann, NEAR, 30), (bo, MIDDLE, 20), (cy, FAR, 1)):
        _locate(fakes, driver, where)
        _seen(fakes, driver, minutes)
    ride = _ride(fakes, fleet)
    # When the ride ranks them with no priority asked, Then recency decides
    ranked = rank_drivers(ride, _eligible(fakes, fleet))
    assert [d.driver_id for d in ranked] == [cy.driver_id, bo.driver_id, ann.driver_id]


def _eligible(fakes: Fakes, fleet: Fleet) -> list[Driver]:
    return eligible_drivers(fakes.ports, fleet.fleet_id)


def test_priority_distance_puts_the_nearest_first_and_the_unlocated_last(fakes: Fakes) -> None:
    # Given drivers far, near and middle, and two with no known location (the newest seen of all)
    fleet = a_fleet(fakes)
    far, near, middle, lost, lost_longer = drivers_of(fakes, fleet, 5)
    for driver, where in ((far, FAR), (near, NEAR), (middle, MIDDLE)):
        _locate(fakes, driver, where)
        _seen(fakes, driver, 10)
    _seen(fakes, lost_longer, 5)
    ride = _ride(fakes, fleet, priority="distance")
    # When ranked, Then nearest first, then those without a location, still most recently seen first
    ranked = [d.driver_id for d in rank_drivers(ride, _eligible(fakes, fleet))]
    assert ranked == [near.driver_id, middle.driver_id, far.driver_id, lost.driver_id, lost_longer.driver_id]


def test_max_distance_leaves_out_the_far_and_the_unlocated(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    near, far, lost = drivers_of(fakes, fleet, 3)
    _locate(fakes, near, NEAR)
    _locate(fakes, far, FAR)
    ride = _ride(fakes, fleet, max_distance_km=5)
    # When the wave goes out, Then only the near driver is offered the ride
    broadcast(fakes.ports, ride.ride_id)
    assert _offered(fakes, ride) == {near.driver_id}
    assert fakes.channels.to(far.phone) == fakes.channels.to(lost.phone) == []


def test_nobody_within_the_distance_is_the_no_eligible_driver_path(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    (far,) = drivers_of(fakes, fleet, 1)
    _locate(fakes, far, FAR)
    ride = _ride(fakes, fleet, max_distance_km=2.5, priority="distance")
    assert broadcast(fakes.ports, ride.ride_id) == {"ride_status": "timed_out"}
    stored = fakes.rides.get(ride.ride_id)
    assert stored is not None
    assert stored.end_reason == "no_eligible_drivers"


def test_excluded_drivers_are_never_offered_and_the_ride_shows_it(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    ann, bo = drivers_of(fakes, fleet, 2)
    ride = _ride(fakes, fleet, exclude_driver_ids=[bo.driver_id, bo.driver_id])
    assert (ride.excluded_driver_ids, ride.matching.exclude_driver_ids) == (
        [bo.driver_id],
        [bo.driver_id, bo.driver_id],
    )
    broadcast(fakes.ports, ride.ride_id)
    assert _offered(fakes, ride) == {ann.driver_id}


def test_a_later_wave_keeps_the_ride_order_and_offers_the_newly_located(fakes: Fakes) -> None:
    # Given a distance ride whose first wave found only the near driver within 5 km
    fleet = a_fleet(fakes, settings={"driver_response_seconds": 1, "matching_timeout_seconds": 60})
    near, later = drivers_of(fakes, fleet, 2)
    _locate(fakes, near, NEAR)
    ride = _ride(fakes, fleet, max_distance_km=5, priority="distance")
    broadcast(fakes.ports, ride.ride_id)
    assert _offered(fakes, ride) == {near.driver_id}
    # When the other driver shares a location nearby and the next wave goes out, Then they are offered too
    _locate(fakes, later, MIDDLE)
    broadcast(fakes.ports, ride.ride_id)
    assert _offered(fakes, ride) == {near.driver_id, later.driver_id}


def test_patch_sets_and_clears_the_location_with_when_it_was_seen(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    located = update_driver(fakes.ports, fleet.fleet_id, ann.driver_id, DriverChanges(location=NEAR))
    assert located.location == NEAR
    assert located.location_at is not None
    cleared = update_driver(
        fakes.ports, fleet.fleet_id, ann.driver_id, DriverChanges.model_validate({"location": None})
    )
    assert (cleared.location, cleared.location_at) == (None, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"location": {"lat": 91, "lng": 0}}, "location.lat"),
        ({"location": {"lat": 0, "lng": -180.5}}, "location.lng"),
        ({"location": {"lat": "51.5", "lng": 0}}, "location.lat"),
        ({"location": {"lat": 51.5}}, "location.lng"),
    ],
)
def test_a_driver_location_out_of_range_or_malformed_is_refused(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        UpdateDriverRequest.model_validate(body)
    assert ".".join(str(p) for p in refused.value.errors()[0]["loc"]) == field


def _request(pickup: dict[str, object], matching: dict[str, object]) -> dict[str, object]:
    return {
        "customer": {"name": "Cleo", "phone": "+15550001234"},
        "pickup": pickup,
        "dropoff": {"address": "Somewhere"},
        "matching": matching,
    }


@pytest.mark.parametrize(
    ("pickup", "matching", "field", "says"),
    [
        ({"address": "No coordinates"}, {"priority": "distance"}, "matching", "needs pickup.lat and pickup.lng"),
        ({"address": "Half", "lat": 51.5}, {"max_distance_km": 3}, "matching", "max_distance_km needs pickup.lat"),
        (PICKUP, {"max_distance_km": 0}, "matching.max_distance_km", "greater than 0"),
        (PICKUP, {"max_distance_km": 50_000}, "matching.max_distance_km", "less than or equal"),
        (PICKUP, {"max_distance_km": "5"}, "matching.max_distance_km", "valid number"),
        (PICKUP, {"priority": "nearest"}, "matching.priority", "recent_activity"),
        (PICKUP, {"exclude_driver_ids": ["d 1"]}, "matching.exclude_driver_ids.0", "pattern"),
        (PICKUP, {"exclude_driver_ids": "d1"}, "matching.exclude_driver_ids", "list"),
        (PICKUP, {"radius": 3}, "matching.radius", "Extra inputs"),
    ],
)
def test_bad_matching_options_are_refused_naming_the_field(
    pickup: dict[str, object], matching: dict[str, object], field: str, says: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        CreateRideRequest.model_validate(_request(pickup, matching))
    error = refused.value.errors()[0]
    assert (".".join(str(p) for p in error["loc"]), says in error["msg"]) == (field, True), error


def test_good_matching_options_are_kept() -> None:
    body = CreateRideRequest.model_validate(
        _request(PICKUP, {"priority": "distance", "max_distance_km": 2.5, "exclude_driver_ids": ["d_1"]})
    )
    assert body.matching is not None
    assert (body.matching.priority, body.matching.max_distance_km, body.matching.exclude_driver_ids) == (
        "distance",
        2.5,
        ["d_1"],
    )


def _telegram_driver(fakes: Fakes) -> tuple[Fleet, Driver]:
    fleet = a_fleet(fakes, telegram=True)
    (ann,) = drivers_of(fakes, fleet, 1, channel="telegram")
    fakes.drivers.bind_telegram_chat(ann, "42")
    return fleet, ann


def test_a_telegram_location_and_its_live_updates_move_the_driver(fakes: Fakes) -> None:
    fleet, ann = _telegram_driver(fakes)
    # When she shares a location, then her live location moves (an edited message)
    shared = TelegramUpdate.model_validate(
        {
            "update_id": 1,
            "message": {"message_id": 5, "chat": {"id": 42}, "location": {"latitude": 51.5, "longitude": -0.12}},
        }
    )
    moved = TelegramUpdate.model_validate(
        {
            "update_id": 2,
            "edited_message": {
                "message_id": 5,
                "chat": {"id": 42},
                "location": {"latitude": 51.51, "longitude": -0.13},
            },
        }
    )
    assert shared.event() == SharedLocation(chat_id="42", lat=51.5, lng=-0.12)
    handle_bot_update(fakes.ports, fleet, 1, shared.event())
    first = fakes.drivers.get(fleet.fleet_id, ann.driver_id)
    handle_bot_update(fakes.ports, fleet, 2, moved.event())
    # Then her location is the latest one, seen now; the bot says nothing back
    stored = fakes.drivers.get(fleet.fleet_id, ann.driver_id)
    assert first is not None
    assert stored is not None
    assert (first.location, stored.location) == (GeoPoint(lat=51.5, lng=-0.12), GeoPoint(lat=51.51, lng=-0.13))
    assert stored.location_at is not None
    assert stored.last_seen_at == stored.location_at
    assert fakes.channels.to("42") == []


def test_a_location_from_an_unknown_chat_changes_nothing(fakes: Fakes) -> None:
    fleet, ann = _telegram_driver(fakes)
    handle_bot_update(fakes.ports, fleet, 1, SharedLocation(chat_id="77", lat=1.0, lng=2.0))
    stored = fakes.drivers.get(fleet.fleet_id, ann.driver_id)
    assert stored is not None
    assert stored.location is None
    assert fakes.channels.to("77") == []


def test_a_telegram_location_out_of_range_is_invalid() -> None:
    with pytest.raises(ValidationError, match="latitude"):
        TelegramUpdate.model_validate(
            {
                "update_id": 1,
                "message": {"message_id": 5, "chat": {"id": 42}, "location": {"latitude": 95, "longitude": 0}},
            }
        )


def _whatsapp_location(phone: str, lat: str, lng: str, sid: str = "SM1") -> tuple[TextReply, SignedRequest]:
    params = {"MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": f"whatsapp:{phone}", "To": f"whatsapp:{SENDER}"}
    reply = TextReply(
        message_id=sid, from_phone=phone, to_phone=SENDER, text="", via_whatsapp=True, latitude=lat, longitude=lng
    )
    return reply, SignedRequest(url="https://ridecast.example.com/webhooks/twilio", params=params, signature="s")


def test_a_whatsapp_location_moves_the_driver_and_gets_no_answer(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1, channel="sms")
    answer = answer_text_reply(fakes.ports, Verifier(), *_whatsapp_location(ann.phone, "51.5101", "-0.134"))
    assert answer == ""
    stored = fakes.drivers.get(fleet.fleet_id, ann.driver_id)
    assert stored is not None
    assert stored.location == GeoPoint(lat=51.5101, lng=-0.134)
    assert stored.last_whatsapp_inbound_at == stored.location_at


def test_a_whatsapp_location_from_an_unknown_phone_changes_nothing(fakes: Fakes) -> None:
    # Given a fleet whose one driver has no location
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    # When a phone that is no driver's sends a WhatsApp location
    answer = answer_text_reply(fakes.ports, Verifier(), *_whatsapp_location("+15550007777", "51.5", "-0.1"))
    # Then the stranger hears what any stranger hears, and no driver moved
    assert answer is not None
    assert "Northside Cabs" in answer
    stored = fakes.drivers.get(fleet.fleet_id, ann.driver_id)
    assert stored is not None
    assert stored.location is None


@pytest.mark.parametrize(
    ("lat", "lng", "field"), [("91", "0", "Latitude"), ("0", "east", "Longitude"), ("nan", "0", "Latitude")]
)
def test_a_whatsapp_location_out_of_range_is_refused_naming_the_field(
    fakes: Fakes, lat: str, lng: str, field: str
) -> None:
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    with pytest.raises(InvalidInput) as refused:
        answer_text_reply(fakes.ports, Verifier(), *_whatsapp_location(ann.phone, lat, lng))
    assert refused.value.details == {"field": field}
    stored = fakes.drivers.get(fleet.fleet_id, ann.driver_id)
    assert stored is not None
    assert stored.location is None


def test_a_waves_offers_carry_the_rides_order_and_read_back_in_it(fakes: Fakes) -> None:
    # Given a far, a lost and a near driver, and a ride asking for the nearest first
    fleet = a_fleet(fakes)
    far, lost, near = drivers_of(fakes, fleet, 3)
    _locate(fakes, far, FAR)
    _locate(fakes, near, NEAR)
    ride = _ride(fakes, fleet, priority="distance")
    # When the wave goes out
    broadcast(fakes.ports, ride.ride_id)
    # Then each offer carries the driver's place, and the ride reads its offers in that order
    _, offers = get_ride_with_offers(fakes.ports, fleet.fleet_id, ride.ride_id)
    assert [(o.driver_id, o.rank) for o in offers] == [(near.driver_id, 1), (far.driver_id, 2), (lost.driver_id, 3)]
