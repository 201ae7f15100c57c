"""SPEC §4 step 0 on the real ASL: a pre-booked ride is `scheduled`, its flow waits in AwaitPickupTime (a Wait
state with TimestampPath; moto's interpreter waits in wall time, so the tests book a few seconds past the
lead) and starts matching at `pickup_time - prebook_lead_minutes`; cancelled while it waits, the flow ends
without a broadcast."""

import time
from datetime import UTC, datetime, timedelta

from tests.integration.helpers import Customer, Stack, unique_phone, wait_until


def _at(moment: datetime) -> str:
    return moment.isoformat()


def test_a_scheduled_ride_waits_then_matches_at_pickup_minus_the_lead(stack: Stack) -> None:
    # Given a fleet matching pre-booked rides 1 minute before pickup, and a driver
    fleet = stack.create_fleet(driver_response_seconds=5, matching_timeout_seconds=10, prebook_lead_minutes=1)
    driver = stack.add_driver(fleet)
    customer = Customer("Cleo Customer", unique_phone("+1888"))

    # When a ride is booked for 1 minute and 4 seconds from now
    pickup = datetime.now(UTC) + timedelta(minutes=1, seconds=4)
    answer = stack.create_ride(fleet, customer, pickup_time=_at(pickup))

    # Then it is scheduled, listed as such, and the customer is told the booking
    assert answer.status_code == 201, answer.text
    ride = answer.json()
    assert ride["status"] == "scheduled"
    listed = stack.http.get(f"{stack.base_url}/rides", headers=fleet.headers, params={"status": "scheduled"})
    assert [r["ride_id"] for r in listed.json()["rides"]] == [ride["ride_id"]]
    stack.runtime.wait_for_messages(to=customer.phone, where=lambda m: "is booked for" in m["body"])
    assert stack.messages_to(driver["phone"], "New ride") == []

    # And about 4 seconds later (a minute before pickup) the driver gets the offer
    link = stack.offer_link(driver, ride, timeout=20)
    offered_at = datetime.now(UTC)
    assert offered_at >= pickup - timedelta(minutes=1, seconds=1), "matching started before pickup minus the lead"
    assert offered_at < pickup - timedelta(seconds=30), "matching should start a minute before pickup"
    searching = stack.get_ride(fleet, ride["ride_id"])
    assert searching["status"] == "searching"
    # its deadline counted from the start of matching, not from the booking
    deadline = datetime.fromisoformat(searching["deadline_at"])
    assert deadline >= pickup - timedelta(minutes=1) + timedelta(seconds=9)

    # When the driver accepts
    assert stack.accept(link).status_code == 200

    # Then the flow went through the wait and matched, and the customer hears who is coming
    assert stack.wait_for_execution(ride["ride_id"])["status"] == "SUCCEEDED"
    states = stack.states_entered(ride["ride_id"])
    waited = ["Broadcast", "AwaitAcceptance", "ConfirmBooking", "AwaitPickupTime", "StartMatching", "AfterStart"]
    assert states[:7] == [*waited, "Broadcast"]
    assert states[-1] == "NotifyMatched"
    stack.runtime.wait_for_messages(to=customer.phone, where=lambda m: "Your driver for ride" in m["body"])


def test_cancel_while_scheduled_ends_the_flow_without_a_broadcast(stack: Stack) -> None:
    # Given a ride booked 6 seconds ahead in a fleet with no lead time, its flow waiting, and a driver
    fleet = stack.create_fleet(driver_response_seconds=5, matching_timeout_seconds=10, prebook_lead_minutes=0)
    driver = stack.add_driver(fleet)
    answer = stack.create_ride(fleet, pickup_time=_at(datetime.now(UTC) + timedelta(seconds=6)))
    assert answer.status_code == 201, answer.text
    ride = answer.json()
    assert ride["status"] == "scheduled"
    wait_until(lambda: "AwaitPickupTime" in stack.states_entered(ride["ride_id"]), what="the wait")

    # When the dispatcher cancels it while it waits
    cancelled = stack.cancel(fleet, ride["ride_id"], reason="customer changed plans")

    # Then it is cancelled at once, and when the wait ends the flow stops there: no offer is ever sent
    assert cancelled.status_code == 200, cancelled.text
    assert stack.get_ride(fleet, ride["ride_id"])["status"] == "cancelled"
    assert stack.wait_for_execution(ride["ride_id"], timeout=30)["status"] == "SUCCEEDED"
    assert stack.states_entered(ride["ride_id"])[-3:] == ["StartMatching", "AfterStart", "Cancelled"]
    time.sleep(0.5)
    assert stack.messages_to(driver["phone"], "New ride") == []
    assert stack.cancel(fleet, ride["ride_id"]).status_code == 409


def test_a_ride_within_the_lead_time_searches_at_once(stack: Stack) -> None:
    # Given a fleet with a 15 minute lead and a driver
    fleet = stack.create_fleet(driver_response_seconds=5, matching_timeout_seconds=10)
    driver = stack.add_driver(fleet)
    # When a ride is booked for 10 minutes from now
    answer = stack.create_ride(fleet, pickup_time=_at(datetime.now(UTC) + timedelta(minutes=10)))
    # Then it searches at once and its flow skips the wait
    assert answer.status_code == 201, answer.text
    ride = answer.json()
    assert ride["status"] == "searching"
    stack.offer_link(driver, ride)
    wait_until(lambda: "Broadcast" in stack.states_entered(ride["ride_id"]), what="the first wave")
    assert "AwaitPickupTime" not in stack.states_entered(ride["ride_id"])


def test_a_batch_creates_the_good_rides_names_the_bad_and_replays_the_same(stack: Stack) -> None:
    # Given a fleet with a driver, and a desk's list of 3 good bookings and 2 bad ones
    fleet = stack.create_fleet(driver_response_seconds=5, matching_timeout_seconds=10)
    stack.add_driver(fleet)
    good = {"customer": {"name": "Cleo", "phone": unique_phone("+1888")}, "pickup": {"address": "1 A St"}}
    rides = [
        {**good, "dropoff": {"address": "Airport"}},
        {**good, "dropoff": {"address": "Station"}, "customer": {"name": "Bad", "phone": "0044 7700"}},
        {**good, "dropoff": {"address": "Harbour"}},
        {**good, "dropoff": {"address": "Museum"}, "pickup_time": "2020-01-01T09:00:00Z"},
        {**good, "dropoff": {"address": "Stadium"}},
    ]
    headers = {**fleet.headers, "Idempotency-Key": f"desk-{unique_phone()}"}

    # When the batch is sent, then sent again with the same key
    first = stack.http.post(f"{stack.base_url}/rides/batch", headers=headers, json={"rides": rides})
    again = stack.http.post(f"{stack.base_url}/rides/batch", headers=headers, json={"rides": rides})

    # Then 3 rides are created and started, the 2 bad ones are named by index and field
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [(0, 201), (1, 422), (2, 201), (3, 422), (4, 201)]
    assert "customer.phone" in results[1]["error"]["message"]
    assert results[3]["error"]["field"] == "pickup_time"
    created = [r["ride"]["ride_id"] for r in results if r["status"] == 201]
    for ride_id in created:
        wait_until(lambda ride_id=ride_id: "Broadcast" in stack.states_entered(ride_id), what="broadcast")
    # And the replay answers the same without creating anything twice
    assert again.status_code == 200
    assert again.json() == first.json()
    listed = stack.http.get(f"{stack.base_url}/rides", headers=fleet.headers).json()["rides"]
    assert sorted(r["ride_id"] for r in listed) == sorted(created)
