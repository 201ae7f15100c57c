"""The matching tasks and offer answers on fakes: who is offered, who wins, who is told (SPEC §4)."""

from datetime import timedelta

import pytest

from ridecast.domain.clock import utcnow
from ridecast.domain.matching import answers
from ridecast.domain.matching.broadcast import broadcast, offer_link
from ridecast.domain.matching.endings import notify_cancelled, notify_matched, time_out
from ridecast.domain.matching.sweeper import sweep
from ridecast.domain.matching.waiting import await_acceptance, expire_window
from ridecast.domain.rides.cancel import cancel_ride
from ridecast.domain.rides.commands import NewRide
from ridecast.domain.rides.create import create_ride_once
from ridecast.domain.rides.transitions import MAX_TRANSITION_ATTEMPTS
from ridecast.errors import InvalidInput, OfferClosed, RideNotCancellable, TransientError
from ridecast.ids import offer_token
from tests.fakes import FakeRideStore, Fakes, TaskFailure
from tests.unit.domain.conftest import ADMIN_PHONE, a_fleet, a_ride, drivers_of


def _token(fakes: Fakes, ride_id: str, driver_id: str) -> str:
    offer = fakes.offers.get(ride_id, driver_id)
    assert offer is not None
    return offer_token(ride_id, driver_id, offer.secret)


def test_a_wave_offers_every_active_driver_and_tells_the_customer(fakes: Fakes) -> None:
    # Given a fleet with three drivers, one of them inactive
    fleet = a_fleet(fakes)
    ann, bo, cy = drivers_of(fakes, fleet, 3)
    fakes.drivers.replace(cy, cy.model_copy(update={"status": "inactive"}))
    ride = a_ride(fakes, fleet)
    # When the first wave goes out
    result = broadcast(fakes.ports, ride.ride_id)
    # Then the active drivers got an offer with their own link, and the customer heard how many
    assert result["offers_sent"] == 2
    for driver in (ann, bo):
        (offer,) = fakes.channels.to(driver.phone)
        offer_saved = fakes.offers.get(ride.ride_id, driver.driver_id)
        assert offer_saved is not None
        assert offer.startswith(f"New ride {ride.code}")
        assert offer_link(offer_saved) in offer
    assert fakes.channels.to(cy.phone) == []
    assert "2 drivers notified" in fakes.channels.to(ride.customer.phone)[0]
    stored = fakes.rides.get(ride.ride_id)
    assert stored is not None
    assert (stored.wave, stored.drivers_notified) == (1, 2)


def test_no_eligible_driver_times_the_ride_out_at_once_and_alerts(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    ride = a_ride(fakes, fleet)
    assert broadcast(fakes.ports, ride.ride_id) == {"ride_status": "timed_out"}
    assert [a.subject for a in fakes.alerts.published] == [f"Ridecast no_drivers {ride.code}"]
    assert len(fakes.channels.to(ADMIN_PHONE)) == 1


def test_first_accept_wins_completes_the_token_and_everyone_is_told(fakes: Fakes) -> None:
    # Given a ride offered to Ann and Bo, its flow waiting on a task token
    fleet = a_fleet(fakes)
    ann, bo = drivers_of(fakes, fleet, 2)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    assert await_acceptance(fakes.ports, ride.ride_id, "token-1") == {"waiting": True}
    # When Ann accepts, then Bo
    won = answers.accept(fakes.ports, _token(fakes, ride.ride_id, ann.driver_id))
    with pytest.raises(OfferClosed) as lost:
        answers.accept(fakes.ports, _token(fakes, ride.ride_id, bo.driver_id))
    # Then Ann has the ride, Bo is told it is taken, and the flow's token carries the winner
    assert (won.status, won.driver_id) == ("assigned", ann.driver_id)
    assert lost.value.result == "already_taken"
    assert fakes.matching.completed == {"token-1": {"driver_id": ann.driver_id}}
    # And NotifyMatched tells the customer, the winner, and Bo
    assert notify_matched(fakes.ports, ride.ride_id) == {"ride_status": "assigned", "drivers_told": 1}
    assert f"Your driver for ride {ride.code}: {ann.name}" in fakes.channels.to(ride.customer.phone)[-1]
    assert "is yours" in fakes.channels.to(ann.phone)[-1]
    assert "has been taken" in fakes.channels.to(bo.phone)[-1]
    assert {o.driver_id: o.status for o in fakes.offers.for_ride(ride.ride_id)} == {
        ann.driver_id: "accepted",
        bo.driver_id: "taken",
    }


def test_an_accept_that_lands_before_the_token_is_parked_completes_it_at_once(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    answers.accept(fakes.ports, _token(fakes, ride.ride_id, ann.driver_id))
    assert await_acceptance(fakes.ports, ride.ride_id, "token-1") == {"waiting": False, "ride_status": "assigned"}
    assert fakes.matching.completed == {"token-1": {"driver_id": ann.driver_id}}


def test_everyone_declining_escalates_once(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    ann, bo = drivers_of(fakes, fleet, 2)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    answers.reject(fakes.ports, _token(fakes, ride.ride_id, ann.driver_id))
    assert fakes.alerts.published == []
    answers.reject(fakes.ports, _token(fakes, ride.ride_id, bo.driver_id))
    expire_window(fakes.ports, ride.ride_id)
    assert [a.subject for a in fakes.alerts.published] == [f"Ridecast escalation {ride.code}"]


def test_cancel_fails_the_waiting_token_and_the_drivers_are_told(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    await_acceptance(fakes.ports, ride.ride_id, "token-1")
    cancelled = cancel_ride(fakes.ports, fleet.fleet_id, ride.ride_id, "customer called")
    assert (cancelled.status, cancelled.end_reason) == ("cancelled", "cancelled: customer called")
    assert fakes.matching.failed == {
        "token-1": TaskFailure("token-1", "RideCancelled", f"ride {ride.ride_id} cancelled")
    }
    assert notify_cancelled(fakes.ports, ride.ride_id)["drivers_told"] == 1
    assert "was cancelled" in fakes.channels.to(ann.phone)[-1]
    with pytest.raises(RideNotCancellable):
        cancel_ride(fakes.ports, fleet.fleet_id, ride.ride_id, None)


def test_time_out_settles_the_offers_and_tells_admins_and_customer(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    assert time_out(fakes.ports, ride.ride_id) == {"ride_status": "timed_out"}
    assert {o.status for o in fakes.offers.for_ride(ride.ride_id)} == {"timeout"}
    assert "no driver accepted" in fakes.channels.to(ride.customer.phone)[-1]
    # A second TimeOut (a retry, or the sweeper) changes and tells nothing more
    told = len(fakes.channels.sent)
    assert time_out(fakes.ports, ride.ride_id) == {"ride_status": "timed_out"}
    assert len(fakes.channels.sent) == told
    with pytest.raises(OfferClosed) as late:
        answers.accept(fakes.ports, _token(fakes, ride.ride_id, ann.driver_id))
    assert late.value.result == "expired"


class EverChangingRides(FakeRideStore):
    """Another transition always lands first: every conditional write loses."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    def transition(self, ride: object, to_status: str, **fields: object) -> None:
        self.attempts += 1


def test_a_transition_that_keeps_losing_is_a_transient_error_not_a_wrong_answer() -> None:
    # Given a ride whose every transition loses to another one
    fakes = Fakes(rides=EverChangingRides())
    fleet = a_fleet(fakes)
    ride = a_ride(fakes, fleet)
    # When the flow times it out, Then it asks Step Functions to retry rather than report a status
    with pytest.raises(TransientError):
        time_out(fakes.ports, ride.ride_id)
    # And the API's cancel does the same, after the same bounded number of tries each
    with pytest.raises(TransientError):
        cancel_ride(fakes.ports, fleet.fleet_id, ride.ride_id, None)
    assert fakes.rides.attempts == 2 * MAX_TRANSITION_ATTEMPTS  # type: ignore[attr-defined]
    # And the sweeper, finding it long past its deadline, leaves it for its next run instead of failing
    assert fakes.rides.update_searching(ride.ride_id, {"deadline_at": utcnow() - timedelta(minutes=10)})
    assert sweep(fakes.ports) == {"settled": 0}
    assert fakes.rides.attempts == 3 * MAX_TRANSITION_ATTEMPTS  # type: ignore[attr-defined]


def test_a_retried_request_with_its_key_gets_the_first_ride_and_one_matching(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    request = NewRide.model_validate(
        {"customer": {"name": "Cleo", "phone": "+15550001234"}, "pickup": {"address": "A"}, "dropoff": {"address": "B"}}
    )
    first = create_ride_once(fakes.ports, fleet.fleet_id, request, "order-1")
    again = create_ride_once(fakes.ports, fleet.fleet_id, request, "order-1")
    assert again == first
    assert list(fakes.matching.started) == [first.ride_id]
    with pytest.raises(InvalidInput):
        create_ride_once(fakes.ports, fleet.fleet_id, request.model_copy(update={"notes": "other"}), "order-1")
    with pytest.raises(InvalidInput):
        create_ride_once(fakes.ports, fleet.fleet_id, request, "not ascii: é")
