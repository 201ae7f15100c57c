"""POST /rides/batch in the domain: each ride created as POST /rides would (limits included), each refusal
reported at its index with POST /rides' answer, and one Idempotency-Key for the whole batch."""

import dataclasses
import time
from datetime import UTC, datetime, timedelta

import pytest

from ridecast.domain.rides import limits
from ridecast.domain.rides.batch import RefusedRide, create_batch, create_batch_once
from ridecast.domain.rides.commands import NewRide
from ridecast.errors import InvalidInput
from tests.fakes import Fakes
from tests.unit.domain.conftest import a_fleet

REFUSED_BODY = RefusedRide(status=422, error={"error": "invalid_input", "message": "customer.phone: bad"})


@pytest.fixture(autouse=True)
def _within_one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # The rate limits count per fixed minute: keep every ride of a test inside one.
    moment = datetime(2026, 11, 29, 12, 0, 5, tzinfo=UTC)
    monkeypatch.setattr(limits, "utcnow", lambda: moment)


def _ride(n: int, pickup_time: datetime | None = None) -> NewRide:
    return NewRide.model_validate(
        {
            "customer": {"name": "Cleo Customer", "phone": f"+155500012{n:02d}"},
            "pickup": {"address": f"{n} Pickup Lane"},
            "dropoff": {"address": "34 Dropoff Road"},
            "pickup_time": pickup_time,
        }
    )


def test_good_rides_are_created_and_started_and_bad_ones_named_by_index(fakes: Fakes) -> None:
    # Given a batch of 3 good rides and 2 bad ones (a body the API refused, a pickup time in the past)
    fleet = a_fleet(fakes)
    past = datetime.now(UTC) - timedelta(hours=1)
    rides = [_ride(0), REFUSED_BODY, _ride(2), _ride(3, pickup_time=past), _ride(4)]
    # When it is created
    outcome = create_batch(fakes.ports, fleet.fleet_id, rides)
    # Then each result stands at its index: 3 rides created and started, 2 errors as POST /rides gives them
    assert [(r.index, r.status) for r in outcome.results] == [(0, 201), (1, 422), (2, 201), (3, 422), (4, 201)]
    created = [r.ride for r in outcome.results if r.ride is not None]
    assert [r.pickup.address for r in created] == ["0 Pickup Lane", "2 Pickup Lane", "4 Pickup Lane"]
    assert set(fakes.matching.started) == {r.ride_id for r in created}
    assert outcome.results[1].error == REFUSED_BODY.error
    assert outcome.results[3].error is not None
    assert outcome.results[3].error["field"] == "pickup_time"


def test_rides_past_the_fleets_rate_limit_are_429_each(fakes: Fakes) -> None:
    # Given a fleet allowing 2 rides a minute
    fleet = a_fleet(fakes, settings={"max_rides_per_minute": 2})
    # When a batch of 3 comes
    outcome = create_batch(fakes.ports, fleet.fleet_id, [_ride(n) for n in range(3)])
    # Then two are created and one is refused with what POST /rides answers past the limit
    assert sorted(r.status for r in outcome.results) == [201, 201, 429]
    [refused] = [r for r in outcome.results if r.status == 429]
    assert refused.error is not None
    assert refused.error["limit"] == "max_rides_per_minute"
    assert len(fakes.rides.rides) == 2


@pytest.mark.parametrize("count", [0, 101])
def test_an_empty_batch_or_one_over_100_is_refused(fakes: Fakes, count: int) -> None:
    fleet = a_fleet(fakes)
    with pytest.raises(InvalidInput) as refused:
        create_batch(fakes.ports, fleet.fleet_id, [_ride(n % 90) for n in range(count)])
    assert refused.value.details["field"] == "rides"
    assert fakes.rides.rides == {}


def test_a_replayed_batch_gets_the_same_answer_and_creates_nothing_twice(fakes: Fakes) -> None:
    # Given a batch created with an Idempotency-Key
    fleet = a_fleet(fakes)
    rides: list[NewRide | RefusedRide] = [_ride(0), REFUSED_BODY]
    request = {"rides": ["as the caller sent them"]}
    first = create_batch_once(fakes.ports, fleet.fleet_id, rides, request, "desk-paste-1")
    # When the same batch comes again with the key, and another batch with the same key
    again = create_batch_once(fakes.ports, fleet.fleet_id, rides, request, "desk-paste-1")
    with pytest.raises(InvalidInput) as reused:
        create_batch_once(fakes.ports, fleet.fleet_id, rides, {"rides": ["another"]}, "desk-paste-1")
    # Then the replay is the first answer and only one ride exists; the other body is refused as POST /rides does
    assert again == first
    assert len(fakes.rides.rides) == 1
    assert "already used with a different ride request" in reused.value.message


class _SlowStores:
    """Every store call takes `seconds`, as a DynamoDB or Step Functions round trip does (I/O: the GIL is free)."""

    def __init__(self, inner: object, seconds: float) -> None:
        self._inner, self._seconds = inner, seconds

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def slow(*args: object, **kwargs: object) -> object:
            time.sleep(self._seconds)
            return attribute(*args, **kwargs)

        return slow


def test_100_rides_fit_well_within_api_gateways_29_seconds_at_aws_latencies(fakes: Fakes) -> None:
    # Given stores and a matching engine answering in 20 ms a call (DynamoDB is single-digit ms, Step Functions'
    # StartExecution tens of ms): one ride is about 8 calls, 100 one after another would be 16 s
    fleet = a_fleet(fakes, settings={"max_rides_per_minute": 1000, "max_messages_per_customer_per_hour": 1000})
    slow = dataclasses.replace(
        fakes.ports,
        stores=dataclasses.replace(
            fakes.ports.stores,
            **{
                f.name: _SlowStores(getattr(fakes.ports.stores, f.name), 0.02)
                for f in dataclasses.fields(fakes.ports.stores)
            },
        ),
        matching=_SlowStores(fakes.ports.matching, 0.02),
    )
    # When a batch of 100 is created
    started = time.monotonic()
    outcome = create_batch(slow, fleet.fleet_id, [_ride(n % 100) for n in range(100)])  # type: ignore[arg-type]
    elapsed = time.monotonic() - started
    # Then every ride is created, in a few seconds: the rides go 8 at a time
    assert [r.status for r in outcome.results] == [201] * 100
    assert elapsed < 5, f"100 rides took {elapsed:.1f} s"
