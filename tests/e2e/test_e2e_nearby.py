"""Matching options and drivers' locations over HTTP (SPEC §3 `matching`, §4.1, §5; issue 15): locations
from PATCH, Telegram and WhatsApp; a distance ride offers the nearest first and leaves out the far."""

from __future__ import annotations

from typing import Any

from tests.e2e.stack import (
    Driver,
    Fleet,
    StackClient,
    error_message,
    message_sid,
    unique_chat_id,
    unique_update_id,
    wait_for,
)
from tests.e2e.test_e2e_telegram import register

PICKUP = {"address": "Trafalgar Square", "lat": 51.5080, "lng": -0.1281}
NEAR = {"lat": 51.5101, "lng": -0.1340}  # Piccadilly Circus, about 0.5 km
MIDDLE = {"lat": 51.5033, "lng": -0.1195}  # London Eye, about 0.8 km
FAR = {"lat": 51.4700, "lng": -0.4543}  # Heathrow, about 23 km


def locate(stack: StackClient, fleet: Fleet, driver: Driver, where: dict[str, float]) -> dict[str, Any]:
    answer = stack.patch(f"/drivers/{driver.driver_id}", json={"location": where}, headers=fleet.auth)
    assert answer.status_code == 200, answer.text
    located: dict[str, Any] = answer.json()
    return located


def offered_to(stack: StackClient, ride: dict[str, Any], drivers: list[Driver]) -> set[str]:
    """The names of the drivers whose offer of the ride reached the outbox (once all of them have)."""
    names = {d.phone: d.name for d in drivers}

    def offers() -> set[str]:
        found = {names[m["to"]] for m in stack.outbox() if m["to"] in names and ride["code"] in m["body"]}
        return found if len(found) == len(drivers) else set()

    found: set[str] = wait_for(offers, "an offer to every driver")
    return found


def test_a_distance_ride_offers_the_nearest_first(stack: StackClient) -> None:
    # Given three located drivers, the far one registered (so seen) last, and one with no known location
    fleet = stack.create_fleet(driver_response_seconds=30, matching_timeout_seconds=60)
    middle = stack.add_driver(fleet, name="Middle")
    near = stack.add_driver(fleet, name="Near")
    lost = stack.add_driver(fleet, name="Lost")
    far = stack.add_driver(fleet, name="Far")
    for driver, where in ((middle, MIDDLE), (near, NEAR), (far, FAR)):
        located = locate(stack, fleet, driver, where)
        assert located["location"] == where
        assert located["location_at"] is not None
    # When a ride asks for the nearest drivers first
    ride = stack.create_ride(fleet, pickup=PICKUP, matching={"priority": "distance"})
    assert ride["matching"] == {"exclude_driver_ids": [], "max_distance_km": None, "priority": "distance"}
    # Then every driver got the offer, and the ride made them nearest first, the driver with no location last.
    # (A wave's messages go out side by side, so the outbox interleaves them; the offers' rank is the order.)
    assert offered_to(stack, ride, [middle, near, lost, far]) == {"Near", "Middle", "Far", "Lost"}
    seen = stack.ride(fleet, ride["ride_id"])
    by_id = {d.driver_id: d.name for d in (middle, near, lost, far)}
    assert [(by_id[o["driver_id"]], o["rank"]) for o in seen["offers"]] == [
        ("Near", 1),
        ("Middle", 2),
        ("Far", 3),
        ("Lost", 4),
    ]
    assert seen["matching"]["priority"] == "distance"


def test_max_distance_and_exclusions_leave_drivers_out(stack: StackClient) -> None:
    # Given a near, a middle (excluded by the ride) and a far driver
    fleet = stack.create_fleet(driver_response_seconds=30, matching_timeout_seconds=60)
    near, middle, far = (stack.add_driver(fleet, name=n) for n in ("Near", "Middle", "Far"))
    for driver, where in ((near, NEAR), (middle, MIDDLE), (far, FAR)):
        locate(stack, fleet, driver, where)
    # When a ride wants drivers within 5 km, but not the middle one
    ride = stack.create_ride(
        fleet, pickup=PICKUP, matching={"max_distance_km": 5, "exclude_driver_ids": [middle.driver_id]}
    )
    # Then only the near driver is offered the ride
    stack.wait_for_offer(near.phone, ride)
    seen = stack.wait_for_ride(fleet, ride["ride_id"], lambda r: r["drivers_notified"] == 1, "one driver notified")
    assert [o["driver_id"] for o in seen["offers"]] == [near.driver_id]
    assert seen["excluded_driver_ids"] == [middle.driver_id]
    assert [m for m in stack.outbox(far.phone) if ride["code"] in m["body"]] == []
    assert [m for m in stack.outbox(middle.phone) if ride["code"] in m["body"]] == []


def test_distance_options_without_pickup_coordinates_are_422_naming_the_field(stack: StackClient) -> None:
    fleet = stack.create_fleet()
    body = {
        "customer": {"name": "E2E Customer", "phone": "+15550001234"},
        "pickup": {"address": "Nowhere in particular"},
        "dropoff": {"address": "2 Assert Avenue"},
        "matching": {"priority": "distance"},
    }
    answer = stack.post("/rides", json=body, headers=fleet.auth)
    assert answer.status_code == 422, answer.text
    assert "matching" in error_message(answer)
    assert "pickup.lat" in error_message(answer)
    bad_radius = {**body, "pickup": PICKUP, "matching": {"max_distance_km": -1}}
    answer = stack.post("/rides", json=bad_radius, headers=fleet.auth)
    assert answer.status_code == 422, answer.text
    assert "matching.max_distance_km" in error_message(answer)


def test_a_bad_location_patch_is_422(stack: StackClient) -> None:
    fleet = stack.create_fleet()
    driver = stack.add_driver(fleet)
    answer = stack.patch(f"/drivers/{driver.driver_id}", json={"location": {"lat": 91, "lng": 0}}, headers=fleet.auth)
    assert answer.status_code == 422, answer.text
    assert "location.lat" in error_message(answer)
    assert stack.driver(fleet, driver.driver_id)["location"] is None


def location_update(chat_id: int, lat: float, lng: float, *, edited: bool = False) -> dict[str, Any]:
    message = {
        "message_id": 1,
        "chat": {"id": chat_id, "type": "private"},
        "date": 0,
        "location": {"latitude": lat, "longitude": lng, "live_period": 900},
    }
    return {"update_id": unique_update_id(), "edited_message" if edited else "message": message}


def test_telegram_locations_and_live_updates_move_the_driver(stack: StackClient) -> None:
    # Given a driver registered on the fleet's bot
    fleet = stack.create_fleet(telegram=True)
    driver = stack.add_driver(fleet, channel="telegram")
    chat_id = unique_chat_id()
    register(stack, fleet, driver, chat_id)
    # When they share a live location, and it moves
    assert stack.telegram_update(fleet, location_update(chat_id, 51.5, -0.12)).status_code == 200
    assert stack.driver(fleet, driver.driver_id)["location"] == {"lat": 51.5, "lng": -0.12}
    moved = stack.telegram_update(fleet, location_update(chat_id, 51.51, -0.13, edited=True))
    assert moved.status_code == 200, moved.text
    # Then the driver is where the latest update says
    assert stack.driver(fleet, driver.driver_id)["location"] == {"lat": 51.51, "lng": -0.13}
    # And a location from a chat that is no driver's changes nothing
    stranger = stack.telegram_update(fleet, location_update(unique_chat_id(), 10.0, 10.0))
    assert stranger.status_code == 200, stranger.text
    assert stack.driver(fleet, driver.driver_id)["location"] == {"lat": 51.51, "lng": -0.13}


def whatsapp_location(fleet: Fleet, phone: str, lat: str, lng: str) -> dict[str, str]:
    return {
        "MessageSid": message_sid(),
        "AccountSid": (fleet.twilio or {})["account_sid"],
        "From": f"whatsapp:{phone}",
        "To": f"whatsapp:{fleet.sender('whatsapp')}",
        "Body": "",
        "NumMedia": "0",
        "Latitude": lat,
        "Longitude": lng,
    }


def test_a_whatsapp_location_moves_the_driver(stack: StackClient) -> None:
    fleet = stack.create_fleet()
    driver = stack.add_driver(fleet, channel="whatsapp")
    answer = stack.twilio_webhook(fleet, whatsapp_location(fleet, driver.phone, "51.5101", "-0.134"))
    assert answer.status_code == 200, answer.text
    assert "<Message>" not in answer.text
    seen = stack.driver(fleet, driver.driver_id)
    assert seen["location"] == {"lat": 51.5101, "lng": -0.134}
    assert seen["location_at"] is not None
    # A location out of range is refused naming the field, and changes nothing
    bad = stack.twilio_webhook(fleet, whatsapp_location(fleet, driver.phone, "99", "0"))
    assert bad.status_code == 422, bad.text
    assert "Latitude" in error_message(bad)
    assert stack.driver(fleet, driver.driver_id)["location"] == {"lat": 51.5101, "lng": -0.134}
