"""Broadcast → AwaitAcceptance with no Choice state between them (each state entered is a billed transition):
the wave always tells AwaitAcceptance how long to wait, and when it opened no window AwaitAcceptance answers its
own task token at once with the name the state machine's Catch routes on (SPEC §4, statemachines/)."""

from datetime import timedelta

from ridecast.domain.clock import utcnow
from ridecast.domain.matching import answers
from ridecast.domain.matching.holding import pause_dispatch
from ridecast.domain.matching.tasks import NO_WINDOW_SECONDS, TASKS
from ridecast.domain.rides.commands import NewRide
from ridecast.domain.rides.create import create_ride
from ridecast.ids import offer_token
from tests.fakes import Fakes, TaskFailure
from tests.unit.domain.conftest import a_fleet, a_ride, drivers_of

broadcast, await_acceptance = TASKS["broadcast"], TASKS["await_acceptance"]


def test_a_wave_waits_the_fleets_window_on_a_parked_token(fakes: Fakes) -> None:
    # Given a fleet whose drivers have 20 s to answer
    fleet = a_fleet(fakes, settings={"driver_response_seconds": 20})
    drivers_of(fakes, fleet, 2)
    ride = a_ride(fakes, fleet)
    # When the wave goes out and AwaitAcceptance gets its answer
    wave = broadcast(fakes.ports, ride.ride_id)
    # Then the window is the fleet's, and the token waits on the ride for an accept
    assert wave["window_seconds"] == 20
    assert await_acceptance(fakes.ports, ride.ride_id, "token-1", wave=wave) == {"waiting": True}
    stored = fakes.rides.get(ride.ride_id)
    assert stored is not None
    assert stored.task_token == "token-1"
    assert (fakes.matching.completed, fakes.matching.failed) == ({}, {})


def test_a_held_ride_goes_to_await_resume(fakes: Fakes) -> None:
    # Given a paused fleet and a new ride
    fleet = a_fleet(fakes)
    drivers_of(fakes, fleet, 1)
    pause_dispatch(fakes.ports, fleet.fleet_id)
    ride = a_ride(fakes, fleet)
    # When Broadcast holds it and AwaitAcceptance gets its answer
    wave = broadcast(fakes.ports, ride.ride_id)
    answer = await_acceptance(fakes.ports, ride.ride_id, "token-1", wave=wave)
    # Then the token is failed with RideHeld (the Catch goes to AwaitResume) and not parked on the ride
    assert wave["window_seconds"] == NO_WINDOW_SECONDS
    assert answer == {"waiting": False, "held": True}
    assert fakes.matching.failed == {
        "token-1": TaskFailure("token-1", "RideHeld", f"ride {ride.ride_id} is held: dispatch is paused")
    }
    stored = fakes.rides.get(ride.ride_id)
    assert stored is not None
    assert stored.task_token is None


def test_a_ride_out_of_time_goes_to_time_out(fakes: Fakes) -> None:
    # Given a ride whose matching deadline has passed before its next wave
    fleet = a_fleet(fakes)
    drivers_of(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    assert fakes.rides.update_searching(ride.ride_id, {"deadline_at": utcnow() - timedelta(seconds=1)})
    # When Broadcast finds no time left and AwaitAcceptance gets its answer
    wave = broadcast(fakes.ports, ride.ride_id)
    await_acceptance(fakes.ports, ride.ride_id, "token-1", wave=wave)
    # Then the token is failed with DeadlinePassed (the Catch goes to TimeOut), after a wait long enough for that
    assert wave["window_seconds"] == NO_WINDOW_SECONDS
    assert [f.error_name for f in fakes.matching.failed.values()] == ["DeadlinePassed"]


def test_a_pre_booked_ride_goes_to_confirm_booking(fakes: Fakes) -> None:
    # Given a ride booked beyond the fleet's lead time
    fleet = a_fleet(fakes, settings={"prebook_lead_minutes": 5})
    booking = {
        "customer": {"name": "Cleo Customer", "phone": "+15550001234"},
        "pickup": {"address": "12 Pickup Lane"},
        "dropoff": {"address": "34 Dropoff Road"},
        "pickup_time": utcnow() + timedelta(hours=2),
    }
    ride = create_ride(fakes.ports, fleet.fleet_id, NewRide.model_validate(booking))
    # When its flow's first Broadcast finds it scheduled and AwaitAcceptance gets its answer
    wave = broadcast(fakes.ports, ride.ride_id)
    answer = await_acceptance(fakes.ports, ride.ride_id, "token-1", wave=wave)
    # Then the token is failed with RideScheduled (the Catch goes to ConfirmBooking)
    assert answer == {"waiting": False, "ride_status": "scheduled"}
    assert [f.error_name for f in fakes.matching.failed.values()] == ["RideScheduled"]


def test_a_ride_taken_during_the_wave_goes_straight_to_notify_matched(fakes: Fakes) -> None:
    # Given a ride accepted by its driver while the wave was going out
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    offer = fakes.offers.get(ride.ride_id, ann.driver_id)
    assert offer is not None
    answers.accept(fakes.ports, offer_token(ride.ride_id, ann.driver_id, offer.secret))
    # When the next Broadcast of the flow finds it assigned
    wave = broadcast(fakes.ports, ride.ride_id)
    # Then AwaitAcceptance completes its own token with the winner, without waiting a window
    assert wave == {"ride_status": "assigned", "window_seconds": NO_WINDOW_SECONDS}
    await_acceptance(fakes.ports, ride.ride_id, "token-1", wave=wave)
    assert fakes.matching.completed == {"token-1": {"driver_id": ann.driver_id}}


def test_a_ride_nobody_can_take_ends_the_flow(fakes: Fakes) -> None:
    # Given a fleet without an eligible driver
    fleet = a_fleet(fakes)
    ride = a_ride(fakes, fleet)
    # When Broadcast times the ride out at once and AwaitAcceptance gets its answer
    wave = broadcast(fakes.ports, ride.ride_id)
    await_acceptance(fakes.ports, ride.ride_id, "token-1", wave=wave)
    # Then the token is failed with RideEnded (the Catch goes to Settled)
    assert wave == {"ride_status": "timed_out", "window_seconds": NO_WINDOW_SECONDS}
    assert [f.error_name for f in fakes.matching.failed.values()] == ["RideEnded"]
