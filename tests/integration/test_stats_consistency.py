"""GET /stats after a run of rides on the real matching ASL agrees with what GET /rides shows (SPEC §6)."""

import statistics
from typing import Any

import pytest

from ridecast.domain.stats.counters import ttm_bucket
from tests.integration.helpers import Fleet, Stack


def _rides(stack: Stack, fleet: Fleet) -> list[dict[str, Any]]:
    answer = stack.http.get(f"{stack.base_url}/rides", headers=fleet.headers, params={"limit": 200})
    assert answer.status_code == 200, answer.text
    rides: list[dict[str, Any]] = answer.json()["rides"]
    return [stack.get_ride(fleet, ride["ride_id"]) for ride in rides]  # with their offers


def _stats(stack: Stack, fleet: Fleet) -> dict[str, Any]:
    answer = stack.http.get(f"{stack.base_url}/stats", headers=fleet.headers)
    assert answer.status_code == 200, answer.text
    stats: dict[str, Any] = answer.json()
    return stats


def test_stats_agree_with_the_rides_after_a_run(stack: Stack) -> None:
    # Given a fleet of three drivers
    # Deadlines long enough that a cold first request cannot make the answers late
    fleet = stack.create_fleet(driver_response_seconds=2, matching_timeout_seconds=8)
    ann, bo, cy = (stack.add_driver(fleet, name=name) for name in ("Ann", "Bo", "Cy"))
    # When one ride is taken at once, one after a rejection, one is left to time out and one is cancelled
    quick, second_try, lapsed, cancelled = (stack.start_ride(fleet) for _ in range(4))
    assert stack.accept(stack.offer_link(ann, quick)).status_code == 200
    assert stack.reject(stack.offer_link(cy, second_try)).status_code == 200
    assert stack.accept(stack.offer_link(bo, second_try)).status_code == 200
    stack.offer_link(ann, cancelled)
    assert stack.cancel(fleet, cancelled["ride_id"]).status_code == 200
    for ride in (quick, second_try, lapsed, cancelled):
        stack.wait_for_execution(ride["ride_id"])
    rides = _rides(stack, fleet)
    stats = _stats(stack, fleet)

    # Then the counts by status are those of the rides, and nothing is matching any more
    by_status = {status: sum(1 for r in rides if r["status"] == status) for status in stats["rides"]["by_status"]}
    assert stats["rides"] == {"total": len(rides), "by_status": by_status}
    assert by_status["assigned"] == 2
    assert by_status["timed_out"] == 1
    assert by_status["cancelled"] == 1
    assert stats["active_matchings"] == 0
    assert stats["acceptance_rate"] == 0.5
    assert stats["timeout_rate"] == 0.25
    assert stats["mean_drivers_notified"] == pytest.approx(statistics.mean(r["drivers_notified"] for r in rides))

    # And the time to match is the rides' mean, its percentiles in the buckets of the rides' own
    matched = sorted(r["time_to_match_seconds"] for r in rides if r["status"] == "assigned")
    ttm = stats["time_to_match_seconds"]
    assert ttm["mean"] == pytest.approx(statistics.mean(matched), abs=0.002)
    assert ttm_bucket(ttm["p50"]) in {ttm_bucket(matched[0]), ttm_bucket(matched[1])}
    assert ttm_bucket(ttm["p95"]) == ttm_bucket(matched[1])

    # And each driver's offers and answers are those the rides' offers show; every offer went by SMS
    offers = [o for r in rides for o in r["offers"]]
    for driver in (ann, bo, cy):
        mine = [o for o in offers if o["driver_id"] == driver["driver_id"] and o["status"] != "failed"]
        (figures,) = [d for d in stats["drivers"] if d["driver_id"] == driver["driver_id"]]
        assert figures["name"] == driver["name"]
        assert figures["offers_received"] == len(mine)
        assert figures["accepted"] == sum(1 for o in mine if o["status"] == "accepted")
        assert figures["responses"] == sum(1 for o in mine if o["responded_at"] is not None)
        assert figures["timeouts"] == sum(1 for o in mine if o["status"] == "timeout")
    # And the SMS figures are every SMS the fleet's sender sent (offers, customers' news, "taken", alerts)
    sent = [m for m in stack.runtime.outbox if m["channel"] == "sms" and m.get("from") == fleet.sender]
    assert len(sent) > len(offers)
    assert stats["channels"]["sms"]["attempts"] == len(sent)
    assert stats["channels"]["sms"]["success_rate"] == 1.0
    assert stats["channels"]["sms"]["mean_latency_ms"] is not None
