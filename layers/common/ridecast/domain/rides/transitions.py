"""Moving a ride from one status to the next: conditional on the version it was read at, so of two
transitions only the first wins; the loser re-reads the ride and decides again."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ridecast.domain.entities import Ride
from ridecast.domain.ports import RideStore
from ridecast.errors import RideNotFound, TransientError

# A status transition loses only to another transition; a handful of re-reads always settles it.
MAX_TRANSITION_ATTEMPTS = 5


def load_ride(rides: RideStore, ride_id: str) -> Ride:
    ride = rides.get(ride_id)
    if ride is None:
        raise RideNotFound(f"ride {ride_id} not found")
    return ride


# What a task of an earlier round's execution answers once the ride has gone back to matching in a newer
# round (SPEC §8): the state machine's Choice states send it to Settled, leaving the ride to the new execution.
SUPERSEDED = "superseded"


def superseded(ride: Ride, matching_round: int) -> bool:
    return ride.matching_round > matching_round


def still_searching(ride: Ride) -> bool:
    return ride.status == "searching"


@dataclass(frozen=True)
class Transition:
    ride: Ride  # the ride as it now stands
    moved: bool  # True when this call made the move; False when the ride no longer allowed it


def move_ride(
    rides: RideStore,
    ride: Ride,
    to_status: str,
    changes: Callable[[Ride], dict[str, Any]],
    allowed: Callable[[Ride], bool] = still_searching,
) -> Transition:
    """Move `ride` to `to_status` with `changes(ride)` while `allowed(ride)` holds.

    Raises TransientError when other transitions keep winning (the API client or Step Functions retries).
    """
    for _ in range(MAX_TRANSITION_ATTEMPTS):
        if not allowed(ride):
            return Transition(ride=ride, moved=False)
        moved = rides.transition(ride, to_status, **changes(ride))
        if moved is not None:
            return Transition(ride=moved, moved=True)
        ride = rides.get(ride.ride_id) or ride
    raise TransientError("the ride kept changing; please retry")
