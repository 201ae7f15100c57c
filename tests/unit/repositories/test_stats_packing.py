"""Counters packed several to a DynamoDB number (repositories/stats_packing.py) add up as the counters would."""

import random

from ridecast.repositories.stats_packing import COUNT_DIGITS, DRIVER_DIGITS, pack, unpack

RIDE_COUNTERS = ["created", "scheduled", "ended#assigned", "ended#timed_out", "ttm_count", "reassignments"]
SOME_COUNTERS = [
    *RIDE_COUNTERS,
    *(f"ttm#{bucket}" for bucket in range(25)),
    *(f"{c}#{ch}" for c in ("ch_attempts", "ch_successes", "ch_failures") for ch in ("sms", "telegram")),
    *(f"{c}#d{n}" for c in ("offers", "responses", "accepted", "timeouts", "response_ms") for n in range(3)),
    "drivers_notified",
    "ttm_sum_ms",
    "ch_latency_ms#sms",
]


def _added(packs: list[dict[str, int]]) -> dict[str, int]:
    """What DynamoDB's ADD leaves in an item after these updates."""
    item: dict[str, int] = {}
    for update in packs:
        for attribute, amount in update.items():
            item[attribute] = item.get(attribute, 0) + amount
    return item


def test_packed_updates_add_up_to_the_counters_they_carry() -> None:
    # Given 2,000 updates of random counters, some taking back what an earlier one added (a reopened ride)
    rng = random.Random(7)
    updates: list[dict[str, int]] = []
    for _ in range(2000):
        # Durations in ms run large; counts stay under a driver field's bound (500,000 in an item)
        update = {name: rng.randint(1, 90_000 if "_ms" in name else 90) for name in rng.sample(SOME_COUNTERS, 6)}
        updates.append(update)
        if rng.random() < 0.2:
            updates.append({name: -amount for name, amount in update.items()})
    # When each is packed and added as DynamoDB adds numbers
    item = _added([pack(update) for update in updates])
    # Then the item unpacks to the counters' sums, in fewer attributes than counters
    expected = _added(updates)
    assert unpack(item.items()) == {name: total for name, total in expected.items() if total}
    assert len(item) < len(expected) / 2


def test_a_field_below_zero_does_not_borrow_from_its_neighbours() -> None:
    # Given a scheduled ride's leaving counted before its creation (writes out of order)
    item = _added([pack({"scheduled": -1}), pack({"created": 3, "ended#assigned": 2})])
    # Then each counter reads what was added to it
    assert unpack(item.items()) == {"scheduled": -1, "created": 3, "ended#assigned": 2}


def test_packs_stay_within_dynamodbs_38_digits_at_their_bounds() -> None:
    # Given every field just under its bound, the drivers' response time in years of milliseconds
    biggest = dict.fromkeys(RIDE_COUNTERS, 10**COUNT_DIGITS // 2 - 1)
    driver = {f"{c}#d1": 10**DRIVER_DIGITS // 2 - 1 for c in ("offers", "responses", "accepted", "timeouts")}
    driver["response_ms#d1"] = 10**13  # 317 years of answering
    packed = pack({**biggest, **driver})
    # Then each number has at most 38 digits and reads back exactly
    assert all(len(str(abs(value))) <= 38 for value in packed.values())
    assert unpack(packed.items()) == {**biggest, **driver}


def test_counters_it_does_not_know_stay_plain() -> None:
    assert pack({"drivers_notified": 5, "ttm_sum_ms": 1200, "something#new": 2}) == {
        "drivers_notified": 5,
        "ttm_sum_ms": 1200,
        "something#new": 2,
    }
    assert pack({"created": 1, "ended#assigned": -1}) != {}
    assert pack({"created": 0}) == {}
