"""SPEC §4.2: an accept that lands before AwaitAcceptance has parked its task token must still complete the
flow at once, not when the response window lapses. The window here is 30 s, so a flow that waited for it
would outlast the wait below and fail the test; the history shows which way the task ended.

The same race seen from the other side: the flow can learn of an assignment from the ride item before the
winning accept has recorded the driver's answer, and must still never tell the winner the ride was taken."""

import threading
from collections.abc import Callable
from typing import Any

import pytest

from ridecast.domain.matching import answers
from ridecast.domain.matching.tasks import TASKS
from ridecast.domain.ports import Ports
from ridecast.wiring import ports
from tests.integration.helpers import Customer, Fleet, Stack, unique_phone, wait_until

LONG_WINDOW = 30


def _wrap_await_acceptance(
    monkeypatch: pytest.MonkeyPatch, fleet: Fleet, around: Callable[[str, str, Callable[..., Any]], Any]
) -> list[str]:
    """Run `around(ride_id, task_token, real_task)` instead of the task, for this fleet's rides only."""
    real = TASKS["await_acceptance"]
    calls: list[str] = []

    def task(task_ports: Ports, ride_id: str, task_token: str, matching_round: int = 1, **wave: Any) -> Any:
        ride = task_ports.stores.rides.get(ride_id)
        if ride is None or ride.fleet_id != fleet.fleet_id:
            return real(task_ports, ride_id, task_token, matching_round, **wave)
        calls.append(ride_id)
        return around(ride_id, task_token, lambda *arguments: real(task_ports, *arguments, matching_round, **wave))

    monkeypatch.setitem(TASKS, "await_acceptance", task)
    return calls


def _assert_matched_without_waiting_out_the_window(stack: Stack, fleet: Fleet, ride: dict[str, Any]) -> None:
    execution = stack.wait_for_execution(ride["ride_id"], timeout=LONG_WINDOW - 10)
    assert execution["status"] == "SUCCEEDED"
    assert stack.states_entered(ride["ride_id"]) == ["Broadcast", "AwaitAcceptance", "NotifyMatched"]
    assert stack.get_ride(fleet, ride["ride_id"])["status"] == "assigned"


def test_accept_before_the_token_is_parked_completes_the_flow(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a fleet with one driver and a long response window
    fleet = stack.create_fleet(driver_response_seconds=LONG_WINDOW, matching_timeout_seconds=2 * LONG_WINDOW)
    driver = stack.add_driver(fleet)
    customer = Customer("Ada Early", unique_phone("+1888"))
    seen: dict[str, Any] = {}

    def accept_first(ride_id: str, task_token: str, real: Callable[..., Any]) -> Any:
        # The driver's accept lands after Broadcast, before AwaitAcceptance has stored its token
        ride = ports().stores.rides.get(ride_id)
        assert ride is not None
        seen["token_when_accepted"] = ride.task_token
        seen["accept"] = stack.accept(stack.offer_link(driver, {"code": ride.code}))
        return real(ride_id, task_token)

    calls = _wrap_await_acceptance(monkeypatch, fleet, accept_first)

    # When a ride is requested and the accept wins before the token is parked
    ride = stack.start_ride(fleet, customer)

    # Then the flow goes straight from AwaitAcceptance to NotifyMatched, and the customer is told
    _assert_matched_without_waiting_out_the_window(stack, fleet, ride)
    assert calls == [ride["ride_id"]]
    assert seen["token_when_accepted"] is None
    assert (seen["accept"].status_code, seen["accept"].json()["result"]) == (200, "assigned")
    assert len(stack.messages_to(customer.phone, f"Your driver for ride {ride['code']}: {driver['name']}")) == 1


def test_accept_that_read_the_ride_before_the_token_was_parked_completes_the_flow(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a fleet with one driver and a long response window
    fleet = stack.create_fleet(driver_response_seconds=LONG_WINDOW, matching_timeout_seconds=2 * LONG_WINDOW)
    driver = stack.add_driver(fleet)
    seen: dict[str, Any] = {}

    def accept_straddling_the_park(ride_id: str, task_token: str, real: Callable[..., Any]) -> Any:
        # The accept reads offer and ride (no token yet), AwaitAcceptance parks its token, then the
        # accept's conditional write lands: it must pick up the token from the write's answer
        ride = ports().stores.rides.get(ride_id)
        assert ride is not None
        offer, stale_ride = answers.open_offer(ports(), stack.token_of(stack.offer_link(driver, {"code": ride.code})))
        seen["token_when_read"] = stale_ride.task_token
        parked = real(ride_id, task_token)
        seen["parked"] = parked
        seen["won"] = answers.accept_offer(ports(), offer, stale_ride)
        return parked

    calls = _wrap_await_acceptance(monkeypatch, fleet, accept_straddling_the_park)

    # When a ride is requested and the accept straddles the parking of the token
    ride = stack.start_ride(fleet)

    # Then the token was parked after the accept's read, and the accept still completed the flow at once
    _assert_matched_without_waiting_out_the_window(stack, fleet, ride)
    assert calls == [ride["ride_id"]]
    assert seen["token_when_read"] is None
    assert seen["parked"] == {"waiting": True}
    assert seen["won"].driver_id == driver["driver_id"]
    assert seen["won"].task_token is not None


def test_winner_is_not_told_taken_when_the_flow_settles_offers_before_the_accept_records_its_answer(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a ride offered to two drivers, whose winning accept stalls between winning the ride and
    # recording the driver's answer on the offer (a slow Lambda, a throttled write)
    fleet = stack.create_fleet(driver_response_seconds=LONG_WINDOW, matching_timeout_seconds=2 * LONG_WINDOW)
    winner, other = stack.add_driver(fleet), stack.add_driver(fleet)
    notified = threading.Event()
    accepts: list[Any] = []
    real_record = answers._record_response
    stalled: list[str] = []

    def stalled_record(record_ports: Ports, offer: Any, status: str, *args: Any, **kwargs: Any) -> bool:
        if offer.fleet_id == fleet.fleet_id and status == "accepted" and not stalled:
            stalled.append(offer.driver_id)  # only the accept's own call stalls, once
            notified.wait(timeout=LONG_WINDOW)
        return bool(real_record(record_ports, offer, status, *args, **kwargs))

    monkeypatch.setattr(answers, "_record_response", stalled_record)
    real_notify = TASKS["notify_matched"]

    def notify_then_release(task_ports: Ports, ride_id: str) -> Any:
        try:
            return real_notify(task_ports, ride_id)
        finally:
            notified.set()

    monkeypatch.setitem(TASKS, "notify_matched", notify_then_release)

    def accept_meanwhile(ride_id: str, task_token: str, real: Callable[..., Any]) -> Any:
        # The accept wins the ride while AwaitAcceptance starts; the flow learns of it from the ride item
        ride = ports().stores.rides.get(ride_id)
        assert ride is not None
        link = stack.offer_link(winner, {"code": ride.code})
        thread = threading.Thread(target=lambda: accepts.append(stack.accept(link)))
        thread.start()
        wait_until(lambda: getattr(ports().stores.rides.get(ride_id), "status", None) == "assigned", what="assigned")
        return real(ride_id, task_token)

    _wrap_await_acceptance(monkeypatch, fleet, accept_meanwhile)

    # When the ride is requested and the flow reaches NotifyMatched before the accept has recorded the answer
    ride = stack.start_ride(fleet)
    execution = stack.wait_for_execution(ride["ride_id"], timeout=LONG_WINDOW - 10)
    wait_until(lambda: accepts, what="the accept's answer")

    # Then the winner was told the ride is theirs, and never that it was taken
    assert execution["status"] == "SUCCEEDED"
    assert stalled == [winner["driver_id"]]
    assert (accepts[0].status_code, accepts[0].json()["result"]) == (200, "assigned")
    assert len(stack.messages_to(winner["phone"], "is yours")) == 1
    assert stack.messages_to(winner["phone"], "has been taken") == []
    assert len(stack.messages_to(other["phone"], "has been taken")) == 1

    # And the offers agree with the ride: the winner's accepted, the other taken
    settled = stack.get_ride(fleet, ride["ride_id"])
    assert settled["driver_id"] == winner["driver_id"]
    offers_now = {o["driver_id"]: o["status"] for o in settled["offers"]}
    assert offers_now == {winner["driver_id"]: "accepted", other["driver_id"]: "taken"}
    assert settled["drivers_responded"] == 1
