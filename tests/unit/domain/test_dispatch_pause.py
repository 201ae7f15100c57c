"""Dispatch pause and resume on fakes (SPEC §5 emergency control): new rides held, not broadcast, while
paused; released oldest first on resume with their deadline counted from it; rides already matching carry
on; a held ride can be cancelled; a resume racing the hold is not missed."""

from datetime import timedelta

from ridecast.domain.channels.control import dispatch_status, pause, resume
from ridecast.domain.clock import utcnow
from ridecast.domain.drivers.commands import NewDriver
from ridecast.domain.drivers.roster import register_driver
from ridecast.domain.entities import Fleet, Ride
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.holding import await_resume, resume_dispatch
from ridecast.domain.matching.sweeper import sweep
from ridecast.domain.matching.waiting import expire_window
from ridecast.domain.rides.cancel import cancel_ride
from tests.fakes import Fakes, TaskFailure
from tests.unit.domain.conftest import ADMIN_PHONE, a_fleet, a_ride, drivers_of


def _held(fakes: Fakes, fleet: Fleet, token: str) -> Ride:
    """A ride created while the fleet is paused, through Broadcast and AwaitResume as the flow runs them."""
    ride = a_ride(fakes, fleet)
    assert broadcast(fakes.ports, ride.ride_id) == {"ride_status": "searching", "held": True}
    assert await_resume(fakes.ports, ride.ride_id, token) == {"waiting": True}
    return ride


def _stored(fakes: Fakes, ride_id: str) -> Ride:
    ride = fakes.rides.get(ride_id)
    assert ride is not None
    return ride


def test_a_ride_of_a_paused_fleet_is_held_not_broadcast_nor_swept(fakes: Fakes) -> None:
    # Given a paused fleet with two drivers
    fleet = a_fleet(fakes)
    drivers = drivers_of(fakes, fleet, 2)
    status = pause(fakes.ports, fleet.fleet_id)
    assert (status.paused, status.held_rides) == (True, 0)
    # When a ride comes in
    ride = _held(fakes, fleet, "token-1")
    # Then it is searching and held: no offer, no message to any driver or the customer
    held = _stored(fakes, ride.ride_id)
    assert (held.status, held.task_token, held.held_at is not None) == ("searching", "token-1", True)
    assert fakes.offers.for_ride(ride.ride_id) == []
    assert all(fakes.channels.to(d.phone) == [] for d in drivers)
    assert fakes.channels.to(ride.customer.phone) == []
    assert dispatch_status(fakes.ports, fleet.fleet_id).held_rides == 1
    # And its deadline passing does not let the sweeper time it out
    fakes.rides.rides[ride.ride_id] = held.model_copy(update={"deadline_at": utcnow() - timedelta(hours=1)})
    assert sweep(fakes.ports) == {"settled": 0}
    assert _stored(fakes, ride.ride_id).status == "searching"
    # And the admins were told once that dispatch is paused
    assert [m for m in fakes.channels.to(ADMIN_PHONE) if "dispatch is paused" in m] != []


def test_resume_releases_held_rides_oldest_first_with_their_deadline_from_the_resume(fakes: Fakes) -> None:
    # Given two rides held by a paused fleet
    fleet = a_fleet(fakes, settings={"driver_response_seconds": 30, "matching_timeout_seconds": 120})
    (driver,) = drivers_of(fakes, fleet, 1)
    pause(fakes.ports, fleet.fleet_id)
    first, second = _held(fakes, fleet, "token-1"), _held(fakes, fleet, "token-2")
    # When dispatch resumes
    resumed_at = utcnow()
    status = resume(fakes.ports, fleet.fleet_id)
    # Then both flows are woken, oldest first, each ride's deadline counted from the resume
    assert (status.paused, status.held_rides) == (False, 0)
    assert list(fakes.matching.completed) == ["token-1", "token-2"]
    for ride in (first, second):
        released = _stored(fakes, ride.ride_id)
        assert released.held_at is None
        deadline_from_resume = (released.deadline_at - resumed_at).total_seconds()
        assert 120 <= deadline_from_resume < 125
    # And Broadcast (next in each flow) offers them in that order
    for ride in (first, second):
        assert broadcast(fakes.ports, ride.ride_id)["offers_sent"] == 1
    offers = fakes.channels.to(driver.phone)
    assert [first.code in offers[0], second.code in offers[1]] == [True, True]
    # And the admins heard of the resume with the count
    assert any("dispatch resumed" in m and m.endswith(": 2.") for m in fakes.channels.to(ADMIN_PHONE))


def test_rides_already_matching_carry_on_through_a_pause(fakes: Fakes) -> None:
    # Given a ride whose first wave went out, one driver registering later
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    assert broadcast(fakes.ports, ride.ride_id)["offers_sent"] == 1
    bo = register_driver(fakes.ports, fleet.fleet_id, NewDriver(name="Bo", phone="+447700900777", channel="sms"))
    # When dispatch is paused and the window lapses
    pause(fakes.ports, fleet.fleet_id)
    expire_window(fakes.ports, ride.ride_id)
    wave = broadcast(fakes.ports, ride.ride_id)
    # Then the next wave goes out all the same (the newcomer is offered, the first driver reminded)
    assert "held" not in wave
    assert (wave["offers_sent"], wave["reminders_sent"]) == (1, 1)
    assert len(fakes.channels.to(bo.phone)) == 1
    assert len(fakes.channels.to(ann.phone)) == 2


def test_a_resume_between_seeing_the_pause_and_parking_the_token_is_not_missed(fakes: Fakes) -> None:
    # Given a ride whose Broadcast saw the fleet paused
    fleet = a_fleet(fakes)
    drivers_of(fakes, fleet, 1)
    pause(fakes.ports, fleet.fleet_id)
    ride = a_ride(fakes, fleet)
    assert broadcast(fakes.ports, ride.ride_id)["held"] is True
    # When dispatch resumes before AwaitResume parked its token (the resume finds nothing held)
    assert resume(fakes.ports, fleet.fleet_id).held_rides == 0
    answer = await_resume(fakes.ports, ride.ride_id, "token-late")
    # Then the ride releases itself: its own token is completed and it is no longer held
    assert answer == {"waiting": False, "released": True}
    assert "token-late" in fakes.matching.completed
    assert _stored(fakes, ride.ride_id).held_at is None
    assert fakes.rides.held(fleet.fleet_id) == []


def test_cancelling_a_held_ride_stops_its_wait_and_leaves_nothing_held(fakes: Fakes) -> None:
    # Given a held ride
    fleet = a_fleet(fakes)
    drivers_of(fakes, fleet, 1)
    pause(fakes.ports, fleet.fleet_id)
    ride = _held(fakes, fleet, "token-1")
    # When the dispatcher cancels it
    cancelled = cancel_ride(fakes.ports, fleet.fleet_id, ride.ride_id, "customer left")
    # Then its wait fails with RideCancelled (the flow goes to NotifyCancelled), it is no longer held or listed
    assert fakes.matching.failed["token-1"].error_name == "RideCancelled"
    assert (cancelled.status, _stored(fakes, ride.ride_id).held_at) == ("cancelled", None)
    assert fakes.rides.held(fleet.fleet_id) == []
    # And the resume has nothing to release
    resume(fakes.ports, fleet.fleet_id)
    assert fakes.matching.completed == {}


def test_a_ride_cancelled_before_its_token_is_parked_answers_the_token_itself(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    pause(fakes.ports, fleet.fleet_id)
    ride = a_ride(fakes, fleet)
    assert broadcast(fakes.ports, ride.ride_id)["held"] is True
    cancel_ride(fakes.ports, fleet.fleet_id, ride.ride_id, None)
    assert await_resume(fakes.ports, ride.ride_id, "token-1") == {"waiting": False, "ride_status": "cancelled"}
    assert fakes.matching.failed == {
        "token-1": TaskFailure("token-1", "RideCancelled", f"ride {ride.ride_id} cancelled")
    }
    assert fakes.rides.held(fleet.fleet_id) == []


def test_pause_and_resume_are_idempotent_and_admins_are_told_once_each(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    assert [pause(fakes.ports, fleet.fleet_id).paused for _ in range(2)] == [True, True]
    assert [resume(fakes.ports, fleet.fleet_id).paused for _ in range(2)] == [False, False]
    told = fakes.channels.to(ADMIN_PHONE)
    assert [("paused" in m, "resumed" in m) for m in told] == [(True, False), (False, True)]


def test_a_held_ride_whose_release_never_came_is_released_by_the_next_broadcast(fakes: Fakes) -> None:
    # Given a held ride, and the pause cleared without its release (a resume that died half way)
    fleet = a_fleet(fakes, settings={"driver_response_seconds": 30, "matching_timeout_seconds": 60})
    (driver,) = drivers_of(fakes, fleet, 1)
    pause(fakes.ports, fleet.fleet_id)
    ride = _held(fakes, fleet, "token-1")
    fakes.fleets.set_dispatch_paused(fleet.fleet_id, False)
    # When its wait times out and the flow broadcasts again
    started = utcnow()
    wave = broadcast(fakes.ports, ride.ride_id)
    # Then the ride is offered, no longer held, its deadline counted from now
    assert wave["offers_sent"] == 1
    assert len(fakes.channels.to(driver.phone)) == 1
    released = _stored(fakes, ride.ride_id)
    assert released.held_at is None
    assert 60 <= (released.deadline_at - started).total_seconds() < 65
    assert fakes.rides.held(fleet.fleet_id) == []


def test_rides_a_resume_had_no_time_for_stay_held_until_the_next_resume(fakes: Fakes) -> None:
    # Given two held rides
    fleet = a_fleet(fakes)
    drivers_of(fakes, fleet, 1)
    pause(fakes.ports, fleet.fleet_id)
    _held(fakes, fleet, "token-1")
    _held(fakes, fleet, "token-2")
    # When a resume runs out of time before releasing any
    assert resume_dispatch(fakes.ports, fleet.fleet_id, budget_seconds=-1) == 0
    # Then dispatch is no longer paused, both rides are still held and counted, no flow was woken
    status = dispatch_status(fakes.ports, fleet.fleet_id)
    assert (status.paused, status.held_rides, fakes.matching.completed) == (False, 2, {})
    # And the next resume releases them, oldest first
    assert resume_dispatch(fakes.ports, fleet.fleet_id) == 2
    assert list(fakes.matching.completed) == ["token-1", "token-2"]
