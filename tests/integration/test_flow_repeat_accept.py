"""A driver tapping Accept twice (a double tap, a retried request) gets the same answer both times and the
ride is assigned once: one assigned_at, one answer counted, one message to the customer."""

from tests.integration.helpers import Customer, Stack, run_together, unique_phone


def test_the_winner_accepting_again_is_told_assigned_again(stack: Stack) -> None:
    # Given a ride a driver has accepted
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=4)
    driver, other = stack.add_driver(fleet), stack.add_driver(fleet)
    customer = Customer("Sam Second", unique_phone("+1888"))
    ride = stack.start_ride(fleet, customer)
    link = stack.offer_link(driver, ride)
    first = stack.accept(link)
    assert stack.wait_for_execution(ride["ride_id"])["status"] == "SUCCEEDED"
    before = stack.get_ride(fleet, ride["ride_id"])

    # When the same driver accepts again
    second = stack.accept(link)

    # Then both answers say assigned, and the ride was not assigned a second time
    assert [(a.status_code, a.json()["result"]) for a in (first, second)] == [(200, "assigned")] * 2
    after = stack.get_ride(fleet, ride["ride_id"])
    assert after == before
    assert (after["status"], after["driver_id"], after["drivers_responded"]) == ("assigned", driver["driver_id"], 1)
    assert len(stack.messages_to(customer.phone, "Your driver")) == 1
    # ... and another driver accepting now is still told it is taken
    late = stack.accept(stack.offer_link(other, ride))
    assert (late.status_code, late.json()["result"]) == (409, "already_taken")


def test_the_same_driver_accepting_twice_at_once_gets_one_assignment(stack: Stack) -> None:
    # Given a ride offered to two drivers
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=4)
    driver, other = stack.add_driver(fleet), stack.add_driver(fleet)
    customer = Customer("Dana Double", unique_phone("+1888"))
    ride = stack.start_ride(fleet, customer)
    link = stack.offer_link(driver, ride)
    stack.offer_link(other, ride)
    stack.wait_for_searching_message(customer.phone, ride)

    # When one driver's accept arrives twice at the same instant
    answers = run_together(lambda: stack.accept(link), lambda: stack.accept(link))

    # Then both are told assigned, and the ride has one assignment to that driver, counted once
    assert [(a.status_code, a.json()["result"]) for a in answers] == [(200, "assigned")] * 2
    assert stack.wait_for_execution(ride["ride_id"])["status"] == "SUCCEEDED"
    settled = stack.get_ride(fleet, ride["ride_id"])
    assert (settled["status"], settled["driver_id"], settled["drivers_responded"]) == (
        "assigned",
        driver["driver_id"],
        1,
    )
    assert {o["driver_id"]: o["status"] for o in settled["offers"]} == {
        driver["driver_id"]: "accepted",
        other["driver_id"]: "taken",
    }
    # ... the customer and the driver hear about it once
    assert len(stack.messages_to(customer.phone, "Your driver")) == 1
    assert len(stack.messages_to(driver["phone"], f"Ride {ride['code']} is yours")) == 1
