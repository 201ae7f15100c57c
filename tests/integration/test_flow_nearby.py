"""SPEC §4.1 on the real matching ASL and DynamoDB (moto): a distance ride ranks located drivers nearest
first, leaves out those beyond `max_distance_km` (and those with no known location), and a later wave
keeps the same order; nobody within reach is the no-eligible-driver ending."""

from typing import Any

from tests.integration.helpers import Fleet, Stack

PICKUP = {"address": "Trafalgar Square", "lat": 51.5080, "lng": -0.1281}
NEAR = {"lat": 51.5101, "lng": -0.1340}  # about 0.5 km
MIDDLE = {"lat": 51.5033, "lng": -0.1195}  # about 0.8 km
FAR = {"lat": 51.4700, "lng": -0.4543}  # about 23 km


def _locate(stack: Stack, fleet: Fleet, driver: dict[str, Any], where: dict[str, float]) -> None:
    answer = stack.http.patch(
        f"{stack.base_url}/drivers/{driver['driver_id']}", headers=fleet.headers, json={"location": where}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["location"] == where


def test_a_distance_ride_ranks_nearest_first_within_its_radius_across_waves(stack: Stack) -> None:
    # Given a far, a middle and a near driver, one with no location, and a fleet with one-second windows
    fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=4)
    far, middle, lost, near = (stack.add_driver(fleet, name=n) for n in ("Far", "Middle", "Lost", "Near"))
    for driver, where in ((far, FAR), (middle, MIDDLE), (near, NEAR)):
        _locate(stack, fleet, driver, where)
    # When a ride asks for the nearest drivers within 5 km, and nobody answers
    answer = stack.create_ride(fleet, pickup=PICKUP, matching={"priority": "distance", "max_distance_km": 5})
    assert answer.status_code == 201, answer.text
    ride = answer.json()
    execution = stack.wait_for_execution(ride["ride_id"])
    # Then it ran more than one wave and timed out, and only the two within 5 km were offered, nearest first
    assert execution["status"] == "SUCCEEDED"
    assert stack.states_entered(ride["ride_id"]).count("Broadcast") >= 2
    settled = stack.get_ride(fleet, ride["ride_id"])
    assert settled["status"] == "timed_out"
    assert [(o["driver_id"], o["rank"], o["wave"]) for o in settled["offers"]] == [
        (near["driver_id"], 1, 1),
        (middle["driver_id"], 2, 1),
    ]
    assert stack.messages_to(far["phone"], ride["code"]) == stack.messages_to(lost["phone"], ride["code"]) == []
    # And each of the two got the offer and, in a later wave, one reminder
    assert len(stack.messages_to(near["phone"], ride["code"])) == 2
    assert len(stack.messages_to(middle["phone"], ride["code"])) == 2


def test_nobody_within_reach_ends_the_ride_at_once(stack: Stack) -> None:
    fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=3)
    far = stack.add_driver(fleet, name="Far")
    _locate(stack, fleet, far, FAR)
    answer = stack.create_ride(fleet, pickup=PICKUP, matching={"max_distance_km": 2})
    assert answer.status_code == 201, answer.text
    ride = answer.json()
    assert stack.wait_for_execution(ride["ride_id"])["status"] == "SUCCEEDED"
    settled = stack.get_ride(fleet, ride["ride_id"])
    assert (settled["status"], settled["end_reason"], settled["offers"]) == ("timed_out", "no_eligible_drivers", [])
    assert stack.messages_to(far["phone"], ride["code"]) == []
