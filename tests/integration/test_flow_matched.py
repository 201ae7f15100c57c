"""A ride offered to the fleet and taken by the first driver who accepts, on the real matching ASL."""

from typing import Any

import pytest

from ridecast.domain.matching import broadcast
from tests.integration.helpers import Customer, Stack, unique_phone


def test_first_accept_wins_and_everyone_is_told(stack: Stack) -> None:
    # Given a fleet with three active drivers, one inactive and one blocked
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=6)
    active = [stack.add_driver(fleet, name=f"Active {i}") for i in range(3)]
    inactive = stack.add_driver(fleet, status="inactive")
    blocked = stack.add_driver(fleet, status="blocked")
    customer = Customer("Cleo Customer", unique_phone("+1888"))

    # When a ride is requested and, once the first wave is out, one driver accepts through their link
    ride = stack.start_ride(fleet, customer)
    links = {d["driver_id"]: stack.offer_link(d, ride) for d in active}
    searching = stack.wait_for_searching_message(customer.phone, ride)
    winner, *others = active
    answer = stack.accept(links[winner["driver_id"]])
    execution = stack.wait_for_execution(ride["ride_id"])

    # Then the winner is told they have the ride and the execution ends through NotifyMatched, having entered
    # three states: Step Functions bills each one, and this is the typical matched ride
    assert (answer.status_code, answer.json()["result"]) == (200, "assigned")
    assert execution["status"] == "SUCCEEDED"
    states = stack.states_entered(ride["ride_id"])
    assert states == ["Broadcast", "AwaitAcceptance", "NotifyMatched"]
    assert "3 drivers notified" in searching

    # And every active driver got exactly one offer; inactive and blocked drivers got nothing at all
    for driver in active:
        assert len(stack.messages_to(driver["phone"], f"New ride {ride['code']}")) == 1
    assert stack.messages_to(inactive["phone"]) == []
    assert stack.messages_to(blocked["phone"]) == []

    # And the ride records who took it and when
    settled = stack.get_ride(fleet, ride["ride_id"])
    assert settled["status"] == "assigned"
    assert settled["driver_id"] == winner["driver_id"]
    assert settled["assigned_at"] is not None
    assert settled["time_to_match_seconds"] is not None
    assert settled["time_to_match_seconds"] > 0
    assert settled["drivers_notified"] == 3

    # And the customer learns who is coming: name, phone and vehicle
    told = stack.messages_to(customer.phone, "Your driver")
    assert len(told) == 1
    for detail in (winner["name"], winner["phone"], winner["vehicle"]["type"], winner["vehicle"]["plate"]):
        assert detail in told[0]["body"]

    # And the winner hears the ride is theirs, every other driver that it is taken
    assert len(stack.messages_to(winner["phone"], "is yours")) == 1
    assert stack.messages_to(winner["phone"], "has been taken") == []
    for driver in others:
        assert len(stack.messages_to(driver["phone"], f"Ride {ride['code']} has been taken")) == 1

    # And the offers say so: one accepted, the rest taken, none left sent
    offers = {o["driver_id"]: o["status"] for o in settled["offers"]}
    assert offers == {
        winner["driver_id"]: "accepted",
        **{d["driver_id"]: "taken" for d in others},
    }


def test_accept_while_the_first_wave_is_still_going_out(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a ride offered to three drivers, one of whom accepts the moment their offer arrives, before
    # Broadcast has finished the wave (a big fleet, a slow provider)
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=6)
    fast, *slow = (stack.add_driver(fleet) for _ in range(3))
    customer = Customer("Quinn Quick", unique_phone("+1888"))
    real_send = broadcast.send_wave
    accepts: list[Any] = []

    def send_wave(ports: Any, router: Any, ride: Any, wave: list[Any], kind: str, first: int = 0) -> Any:
        deliveries = real_send(ports, router, ride, wave, kind, first)
        offered = {driver.driver_id for driver, _ in wave}
        if fast["driver_id"] in offered and ride.fleet_id == fleet.fleet_id:
            accepts.append(stack.accept(stack.offer_link(fast, {"code": ride.code})))
        return deliveries

    monkeypatch.setattr(broadcast, "send_wave", send_wave)

    # When the ride is requested
    ride = stack.start_ride(fleet, customer)
    execution = stack.wait_for_execution(ride["ride_id"])

    # Then AwaitAcceptance finds the ride assigned, completes its own token and the flow goes to NotifyMatched
    # without waiting
    assert [(a.status_code, a.json()["result"]) for a in accepts] == [(200, "assigned")]
    assert execution["status"] == "SUCCEEDED"
    assert stack.states_entered(ride["ride_id"]) == ["Broadcast", "AwaitAcceptance", "NotifyMatched"]

    # And every driver of the wave was offered the ride and counted as notified
    settled = stack.get_ride(fleet, ride["ride_id"])
    assert settled["driver_id"] == fast["driver_id"]
    assert settled["drivers_notified"] == 3
    assert {o["driver_id"]: o["status"] for o in settled["offers"]} == {
        fast["driver_id"]: "accepted",
        **{d["driver_id"]: "taken" for d in slow},
    }
    # ... and told the right news: the customer who is coming, the others that it is taken
    assert len(stack.messages_to(customer.phone, f"Your driver for ride {ride['code']}: {fast['name']}")) == 1
    assert stack.messages_to(fast["phone"], "has been taken") == []
    for driver in slow:
        assert len(stack.messages_to(driver["phone"], f"New ride {ride['code']}")) == 1
        assert len(stack.messages_to(driver["phone"], f"Ride {ride['code']} has been taken")) == 1


def test_a_wave_larger_than_one_batch_write_saves_every_offer_before_its_message(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a fleet with more drivers than two BatchWriteItem calls hold, and a watch on every offer sent
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=6)
    drivers = [stack.add_driver(fleet) for _ in range(2 * broadcast.OFFERS_PER_WRITE + 7)]
    real_send = broadcast.send_wave
    unsaved_when_sent: list[str] = []

    def send_wave(ports: Any, router: Any, ride: Any, wave: list[Any], kind: str, first: int = 0) -> Any:
        for driver, offer in wave:
            if ports.stores.offers.get(offer.ride_id, offer.driver_id) is None:
                unsaved_when_sent.append(driver.driver_id)
        return real_send(ports, router, ride, wave, kind, first)

    monkeypatch.setattr(broadcast, "send_wave", send_wave)

    # When a ride is requested and the first wave has gone out
    ride = stack.start_ride(fleet, Customer("Bea Batch", unique_phone("+1888")))
    searching = stack.wait_for_searching_message(ride["customer"]["phone"], ride)

    # Then every driver was offered the ride exactly once, each offer saved before its message left
    assert f"{len(drivers)} drivers notified" in searching
    assert unsaved_when_sent == []
    for driver in drivers:
        assert len(stack.messages_to(driver["phone"], f"New ride {ride['code']}")) == 1
    offers = stack.get_ride(fleet, ride["ride_id"])["offers"]
    assert sorted(o["driver_id"] for o in offers) == sorted(d["driver_id"] for d in drivers)
