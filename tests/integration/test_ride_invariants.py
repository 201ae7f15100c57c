"""Property: whatever order accepts, rejects, a cancel, the deadline and window expiries arrive in, a ride is
settled once and consistently. The events go through the domain functions the API and the state machine
call, with the real repositories on the runtime's table; the ride has no execution (task_token None), so the
steps the flow would take are events of their own, in any order.

Nothing here predicts the outcome: after every event the test reads the ride and its offers back from the
table and checks that they agree with each other and with every answer the system gave:
- a terminal status never changes again, and the ride moved out of `searching` exactly once (version 1);
- at most one driver was ever answered `assigned`, that driver is the ride's, and the only accepted offer is
  theirs; every other answer names the status the ride really has;
- every driver's first answer is counted once in `drivers_responded`;
- once the terminal step's own task has run (notify_matched, notify_cancelled, time_out), no offer is left
  `sent`.
"""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local_stack import LocalRuntime
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Customer, Offer, Place, Ride
from ridecast.domain.matching import answers
from ridecast.domain.matching.tasks import TASKS
from ridecast.domain.rides.cancel import cancel_ride
from ridecast.domain.types import TERMINAL_RIDE_STATUSES
from ridecast.errors import OfferClosed, RideNotCancellable
from ridecast.ids import new_id, new_offer_secret, ride_code
from ridecast.repositories.items import from_item, ride_pk
from ridecast.repositories.table import table
from ridecast.wiring import ports
from tests.integration.helpers import Fleet, Stack, unique_phone

MAX_DRIVERS = 4
# The task that ends the flow for each terminal status, after which no offer may be left open.
TERMINAL_TASK = {"assigned": "notify_matched", "cancelled": "notify_cancelled", "timed_out": "time_out"}
# What an accept or reject that cannot win answers, for each status the ride can have instead.
CLOSED_ANSWER = {"cancelled": "cancelled", "timed_out": "expired", "failed": "expired"}

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
    stores = ports().stores
    now = utcnow()
    ride = Ride(
        ride_id=new_id("r"),
        fleet_id=fleet.fleet_id,
        code=ride_code(stores.fleets.next_ride_sequence(fleet.fleet_id)),
        customer=Customer(name="Pip Property", phone=unique_phone("+1888")),
        pickup=Place(address="3 Random Walk"),
        dropoff=Place(address="5 Fixed Point"),
        created_at=now,
        deadline_at=now + timedelta(minutes=10),
        wave=1,
        drivers_notified=drivers,
    )
    stores.rides.add(ride)
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
    stores.offers.add_many(made)
    return ride, made


def _apply(event: str, ride_id: str, fleet_id: str, driver_id: str) -> str:
    """Run one event through the domain, as the API or the state machine would; what the system answered."""
    stores = ports().stores
    if event in ("accept", "reject"):
        offer, ride = stores.offers.get(ride_id, driver_id), stores.rides.get(ride_id)
        assert offer is not None
        assert ride is not None
        try:
            if event == "accept":
                answers.accept_offer(ports(), offer, ride)
                return "assigned"
            answers.reject_offer(ports(), offer, ride)
            return "rejected"
        except OfferClosed as closed:
            return closed.result
    if event == "cancel":
        try:
            cancel_ride(ports(), fleet_id, ride_id, "property test")
            return "cancelled"
        except RideNotCancellable:
            return "refused"
    answer: dict[str, Any] = TASKS[event](ports(), ride_id)
    return str(answer["ride_status"])


def _snapshot(ride_id: str) -> tuple[Ride, dict[str, Offer]]:
    """The ride and its offers as stored, in one consistent query (they share the partition)."""
    page = table().query(KeyConditionExpression=Key("PK").eq(ride_pk(ride_id)), ConsistentRead=True)
    items = page["Items"]
    assert "LastEvaluatedKey" not in page
    ride = next(from_item(Ride, i) for i in items if i["SK"] == "META")
    offers = [from_item(Offer, i) for i in items if str(i["SK"]).startswith("OFFER#")]
    return ride, {o.driver_id: o for o in offers}


class Observed:
    """What the system has said so far about one ride, to hold the stored items to."""

    def __init__(self) -> None:
        self.terminal: str | None = None
        self.assigned_to: set[str] = set()
        self.flow_ended = False


def _check_answer(event: str, driver_id: str, answer: str, ride: Ride, offers: dict[str, Offer]) -> None:
    """The answer just given agrees with the ride and offer the table holds right after it."""
    if event == "accept":
        if answer == "assigned":
            assert (ride.status, ride.driver_id) == ("assigned", driver_id)
        elif answer == "already_taken":
            assert ride.status == "assigned"
            assert ride.driver_id != driver_id
        else:
            assert answer == CLOSED_ANSWER[ride.status]
    elif event == "reject":
        if answer == "rejected":
            assert offers[driver_id].status == "rejected"
        elif answer == "already_taken":
            assert ride.status == "assigned"
        else:
            assert answer == CLOSED_ANSWER[ride.status]
    elif event == "cancel":
        assert ride.status == "cancelled" if answer == "cancelled" else ride.status in TERMINAL_RIDE_STATUSES
    else:
        assert answer == ride.status


def _check_items(ride: Ride, offers: dict[str, Offer], seen: Observed) -> None:
    """The stored ride and offers agree with each other and with everything answered before."""
    if seen.terminal is not None:
        assert ride.status == seen.terminal  # a terminal status never changes
    assert ride.version == (0 if ride.status == "searching" else 1)  # left searching once, or not yet
    accepted = [d for d, o in offers.items() if o.status == "accepted"]
    assert len(seen.assigned_to) <= 1
    if ride.status == "assigned":
        assert seen.assigned_to <= {ride.driver_id}
        assert accepted == [ride.driver_id]
    else:
        assert ride.driver_id is None
        assert accepted == []
        assert seen.assigned_to == set()
    assert ride.drivers_responded == sum(1 for o in offers.values() if o.responded_at is not None)
    if seen.flow_ended:
        assert [d for d, o in offers.items() if o.status == "sent"] == []


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(drivers=st.integers(2, MAX_DRIVERS), script=events)
def test_any_interleaving_settles_the_ride_once_and_consistently(
    fleet: Fleet, drivers: int, script: list[tuple[str, int]]
) -> None:
    # Given a searching ride offered to 2-4 drivers
    ride, ride_offers = _searching_ride(fleet, drivers)
    seen = Observed()

    # When the events arrive in this order
    for event, index in script:
        driver_id = ride_offers[index % drivers].driver_id
        answer = _apply(event, ride.ride_id, fleet.fleet_id, driver_id)

        # Then the table agrees with the answer and with everything said before
        stored, offers = _snapshot(ride.ride_id)
        _check_answer(event, driver_id, answer, stored, offers)
        if event == "accept" and answer == "assigned":
            seen.assigned_to.add(driver_id)
        _check_items(stored, offers, seen)
        if stored.status in TERMINAL_RIDE_STATUSES:
            seen.terminal = seen.terminal or stored.status
            seen.flow_ended = seen.flow_ended or event == TERMINAL_TASK[stored.status]

    # And once the flow's last step for the final status has run, every offer is settled
    if seen.terminal is not None:
        TASKS[TERMINAL_TASK[seen.terminal]](ports(), ride.ride_id)
        seen.flow_ended = True
        _check_items(*_snapshot(ride.ride_id), seen)
    else:
        cancel_ride(ports(), fleet.fleet_id, ride.ride_id, "property test done")
