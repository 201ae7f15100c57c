"""SPEC §4.7 "No ride stays searching past its deadline": a ride whose execution never started (or was lost)
is settled by the scheduled sweeper, which times it out and alerts the admins like the flow would."""

from datetime import timedelta

from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Customer, Place, Ride
from ridecast.ids import new_id, ride_code
from ridecast.wiring import ports
from tests.integration.helpers import Fleet, Stack, unique_phone

SWEEPER_SCHEDULE = "SweeperFunction.EveryMinute"


def _orphan_ride(fleet: Fleet, customer: Customer, deadline_in: timedelta) -> Ride:
    """A searching ride put straight into the table: no execution will ever settle it."""
    now = utcnow()
    ride = Ride(
        ride_id=new_id("r"),
        fleet_id=fleet.fleet_id,
        code=ride_code(ports().stores.fleets.next_ride_sequence(fleet.fleet_id)),
        customer=customer,
        pickup=Place(address="1 Lost Street"),
        dropoff=Place(address="2 Found Square"),
        created_at=now + deadline_in - timedelta(minutes=5),
        deadline_at=now + deadline_in,
    )
    ports().stores.rides.add(ride)
    return ride


def test_sweeper_times_out_a_ride_left_searching_past_its_deadline(stack: Stack) -> None:
    # Given a ride searching ten minutes past its deadline with no execution, one only just past its
    # deadline (its execution still has time to settle it), and one whose deadline is still ahead
    fleet = stack.create_fleet()
    stuck_customer = Customer(name="Otto Orphan", phone=unique_phone("+1888"))
    stuck = _orphan_ride(fleet, stuck_customer, deadline_in=timedelta(minutes=-10))
    just_late = _orphan_ride(fleet, Customer(name="Lia Late", phone=unique_phone("+1888")), timedelta(seconds=-5))
    ahead = _orphan_ride(fleet, Customer(name="Ava Ahead", phone=unique_phone("+1888")), timedelta(minutes=10))
    assert stack.get_ride(fleet, stuck.ride_id)["status"] == "searching"

    # When the sweeper's schedule fires
    stack.runtime.trigger_schedule(SWEEPER_SCHEDULE)

    # Then the stuck ride is timed out, with the sweeper as the reason
    settled = stack.get_ride(fleet, stuck.ride_id)
    assert settled["status"] == "timed_out"
    assert settled["end_reason"].startswith("swept")

    # And the admins are alerted with the customer's details and where the ride was from and to
    alerts = stack.messages_to(fleet.admin_phone, f"ride {stuck.code} timed out")
    assert len(alerts) == 1
    for detail in (stuck_customer.name, stuck_customer.phone, "1 Lost Street", "2 Found Square"):
        assert detail in alerts[0]["body"]
    assert len(stack.messages_to(stuck_customer.phone, f"no driver accepted ride {stuck.code}")) == 1

    # And the rides still within their deadline (or its grace) are left to their own executions
    assert stack.get_ride(fleet, just_late.ride_id)["status"] == "searching"
    assert stack.get_ride(fleet, ahead.ride_id)["status"] == "searching"

    # When the schedule fires again
    stack.runtime.trigger_schedule(SWEEPER_SCHEDULE)

    # Then the settled ride is not alerted on twice
    assert len(stack.messages_to(fleet.admin_phone, f"ride {stuck.code} timed out")) == 1
