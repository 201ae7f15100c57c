"""Property: whatever order accepts, rejects, a cancel, the deadline and window expiries arrive in, a ride is
settled once and consistently. The events go through the domain functions the API and the state machine
call, against the runtime's table; the ride has no execution (task_token None), so the steps the flow would
take are events of their own, in any order.

Invariants, after every event:
- the ride's status is what first-writer-wins predicts, and a terminal status never changes again;
- at most one driver is ever assigned, and the only accepted offer is that driver's;
- once the terminal step's notification has run (notify_matched, notify_cancelled, time_out), no offer is
  left `sent`.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local_stack import LocalRuntime
from ridecast.adapters import dynamodb
from ridecast.domain import matching, offers, rides
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Customer, Offer, Place, Ride
from ridecast.domain.types import TERMINAL_RIDE_STATUSES
from ridecast.errors import OfferClosed, RideNotCancellable
from ridecast.ids import new_id, new_offer_secret, ride_code
from ridecast.repositories.items import from_item, ride_pk
from ridecast.wiring import ports
from tests.integration.helpers import Fleet, Stack, unique_phone

MAX_DRIVERS = 4
TERMINAL_NOTIFY = {"assigned": "notify_matched", "cancelled": "notify_cancelled", "timed_out": "time_out"}

driver_event = st.tuples(st.sampled_from(["accept", "reject"]), st.integers(0, MAX_DRIVERS - 1))
ride_event = st.tuples(
    st.sampled_from(["cancel", "time_out", "expire_window", "notify_matched", "notify_cancelled"]), st.just(0)
)
events = st.lists(st.one_of(driver_event, driver_event, ride_event), min_size=1, max_size=10)


@pytest.fixture(scope="module")
def fleet(runtime: LocalRuntime) -> Iterator[Fleet]:
    stack = Stack(runtime)
    created = stack.create_fleet(driver_response_seconds=30, matching_timeout_seconds=600)
    for _ in range(MAX_DRIVERS):
        stack.add_driver(created)
    yield created
    stack.settle_leftovers()


def _searching_ride(fleet: Fleet, drivers: int) -> tuple[Ride, list[Offer]]:
    """A ride as Broadcast leaves it: searching, deadline ahead, one `sent` offer per driver, no token."""
    now = utcnow()
    ride = Ride(
        ride_id=new_id("r"),
        fleet_id=fleet.fleet_id,
        code=ride_code(ports().stores.fleets.next_ride_sequence(fleet.fleet_id)),
        customer=Customer(name="Pip Property", phone=unique_phone("+1888")),
        pickup=Place(address="3 Random Walk"),
        dropoff=Place(address="5 Fixed Point"),
        created_at=now,
        deadline_at=now + timedelta(minutes=10),
        wave=1,
        drivers_notified=drivers,
    )
    ports().stores.rides.add(ride)
    made = [
        Offer(
            ride_id=ride.ride_id,
            driver_id=d["driver_id"],
            fleet_id=fleet.fleet_id,
            secret=new_offer_secret(),
            ride_code=ride.code,
            channel="sms",
            sent_at=now,
        )
        for d in fleet.drivers[:drivers]
    ]
    ports().stores.offers.add_many(made)
    return ride, made


class Model:
    """First writer wins: what each event must answer, given what came before."""

    def __init__(self) -> None:
        self.status = "searching"
        self.winner: str | None = None

    def accept(self, driver_id: str) -> str:
        if self.status == "searching":
            self.status, self.winner = "assigned", driver_id
        if self.status == "assigned":
            return "assigned" if self.winner == driver_id else "already_taken"
        return {"cancelled": "cancelled", "timed_out": "expired"}[self.status]

    def reject(self) -> str:
        if self.status == "searching":
            return "rejected"
        return {"assigned": "already_taken", "cancelled": "cancelled", "timed_out": "expired"}[self.status]

    def settle(self, to_status: str) -> str:
        if self.status == "searching":
            self.status = to_status
            return to_status
        return "refused"


def _apply(event: str, ride_id: str, fleet_id: str, driver_id: str, model: Model) -> tuple[str, str]:
    """Run one event through the domain; (what happened, what the model says should have)."""
    if event in ("accept", "reject"):
        offer, ride = ports().stores.offers.get(ride_id, driver_id), ports().stores.rides.get(ride_id)
        assert offer is not None
        assert ride is not None
        try:
            if event == "accept":
                offers.accept_offer(offer, ride)
                got = "assigned"
            else:
                offers.reject_offer(offer, ride)
                got = "rejected"
        except OfferClosed as closed:
            got = closed.result
        return got, model.accept(driver_id) if event == "accept" else model.reject()
    if event == "cancel":
        try:
            rides.cancel_ride(fleet_id, ride_id, "property test")
            got = "cancelled"
        except RideNotCancellable:
            got = "refused"
        return got, model.settle("cancelled")
    if event == "time_out":
        got = matching.time_out(ride_id)["ride_status"]
        expected = model.settle("timed_out")
        return got, ("timed_out" if expected == "timed_out" else model.status)
    answer: dict[str, Any] = matching.TASKS[event](ride_id)
    return answer["ride_status"], model.status


def _snapshot(ride_id: str) -> tuple[Ride, list[Offer]]:
    """The ride and its offers in one consistent query (they share the partition)."""
    page = dynamodb.table().query(KeyConditionExpression=Key("PK").eq(ride_pk(ride_id)), ConsistentRead=True)
    items = page["Items"]
    assert "LastEvaluatedKey" not in page
    ride = next(from_item(Ride, i) for i in items if i["SK"] == "META")
    return ride, [from_item(Offer, i) for i in items if str(i["SK"]).startswith("OFFER#")]


def _check(ride_id: str, model: Model, notified: bool) -> None:
    ride, settled_offers = _snapshot(ride_id)
    assert ride.status == model.status
    accepted = [o.driver_id for o in settled_offers if o.status == "accepted"]
    if ride.status == "assigned":
        assert ride.driver_id == model.winner
        assert accepted == [ride.driver_id]
    else:
        assert ride.driver_id is None
        assert accepted == []
    if notified:
        assert [o.driver_id for o in settled_offers if o.status == "sent"] == []


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(drivers=st.integers(2, MAX_DRIVERS), script=events)
def test_any_interleaving_settles_the_ride_once_and_consistently(
    fleet: Fleet, drivers: int, script: list[tuple[str, int]]
) -> None:
    # Given a searching ride offered to 2-4 drivers
    ride, ride_offers = _searching_ride(fleet, drivers)
    model = Model()
    terminal: str | None = None
    notified = False

    # When the events arrive in this order
    for event, index in script:
        driver_id = ride_offers[index % drivers].driver_id
        got, expected = _apply(event, ride.ride_id, fleet.fleet_id, driver_id, model)

        # Then each answer is the first-writer-wins answer, a terminal status never changes, and after the
        # terminal status's own notification no offer is left sent
        assert got == expected, (event, driver_id, got, expected)
        if terminal is None and model.status in TERMINAL_RIDE_STATUSES:
            terminal = model.status
        assert terminal is None or model.status == terminal
        notified = notified or (terminal is not None and event == TERMINAL_NOTIFY[terminal])
        _check(ride.ride_id, model, notified)

    # And once the flow's last step for the final status has run, every offer is settled
    if terminal is not None:
        matching.TASKS[TERMINAL_NOTIFY[terminal]](ride.ride_id)
        _check(ride.ride_id, model, notified=True)
    else:
        rides.cancel_ride(fleet.fleet_id, ride.ride_id, "property test done")
