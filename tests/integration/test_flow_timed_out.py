"""Nobody takes the ride: the flow times out, the admins and the customer are told, late accepts are refused."""

from tests.integration.helpers import Customer, Stack, unique_phone


def test_unanswered_ride_times_out_and_alerts_the_admins(stack: Stack) -> None:
    # Given a fleet with two drivers who will not answer, and a three-second matching timeout
    fleet = stack.create_fleet(driver_response_seconds=1, matching_timeout_seconds=3)
    drivers = [stack.add_driver(fleet) for _ in range(2)]
    customer = Customer("Tomasz Timeout", unique_phone("+1888"))

    # When a ride is requested and nobody answers
    ride = stack.start_ride(fleet, customer)
    links = [stack.offer_link(d, ride) for d in drivers]
    execution = stack.wait_for_execution(ride["ride_id"])

    # Then the flow ends through TimeOut and the ride is timed_out with every offer settled as timeout
    assert execution["status"] == "SUCCEEDED"
    assert stack.states_entered(ride["ride_id"])[-3:] == ["TimeOut", "AfterTimeOut", "TimedOut"]
    settled = stack.get_ride(fleet, ride["ride_id"])
    assert settled["status"] == "timed_out"
    assert settled["driver_id"] is None
    assert [o["status"] for o in settled["offers"]] == ["timeout", "timeout"]

    # And the admin gets one alert with the customer's name and phone, the pickup and the dropoff
    alerts = stack.messages_to(fleet.admin_phone, "timed out")
    assert len(alerts) == 1
    for detail in (customer.name, customer.phone, "12 Pickup Lane", "34 Dropoff Road"):
        assert detail in alerts[0]["body"]

    # And the customer is told nobody accepted
    assert len(stack.messages_to(customer.phone, f"no driver accepted ride {ride['code']}")) == 1

    # When a driver accepts after all
    late = stack.accept(links[0])

    # Then they are told the offer has expired, and the ride stays timed out
    assert late.status_code == 409
    assert late.json()["result"] == "expired"
    assert stack.get_ride(fleet, ride["ride_id"])["status"] == "timed_out"
