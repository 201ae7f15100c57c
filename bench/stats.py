"""SPEC §7: `GET /stats` over 30 days and 100,000 rides ≤ 200 ms.

The counters are seeded through the recording functions the matching flow calls (`record_ride_created`,
`record_ride_ended`, `record_offers_sent`) for every one of the 100,000 rides, with the stats store swapped
for one that folds their writes in memory and then writes each counters item once: the items are exactly
those the flow would have built, without 300,000 transactions against the emulator. Only the query is
timed. `python -m bench.stats` runs this scenario alone.
"""

import dataclasses
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from local_stack.aws import dynamodb_emulator_seconds

RIDES = int(os.environ.get("BENCH_STATS_RIDES", "100000"))
DAYS = 30
DRIVERS = 50
OFFERS_PER_RIDE = 5
QUERIES = 20


class FoldingStatsStore:
    """The StatsStore's writes, added up per bucket as the repository buckets them; `flush` writes each item
    once, keyed and packed as the repository does. No per-ride markers: nothing is retried here."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, tuple[Any, str]], dict[str, int]] = {}
        self.drivers: dict[tuple[str, tuple[Any, str]], dict[str, int]] = {}

    def _add(self, fleet_id: str, hour: str, counts: dict[str, int], drivers: bool = False) -> None:
        from ridecast.domain.stats.buckets import bucket_keys

        for key in bucket_keys(hour)[1:] if drivers else bucket_keys(hour):
            item = (self.drivers if drivers else self.items).setdefault((fleet_id, key), {})
            for name, amount in counts.items():
                item[name] = item.get(name, 0) + amount

    def count_created(self, fleet_id: str, hour: str, counts: dict[str, int]) -> None:
        self._add(fleet_id, hour, counts)

    def count_ended(self, fleet_id: str, ride_id: str, **ending: Any) -> bool:
        self._add(fleet_id, ending["hour"], ending["hour_counts"])
        self._add(fleet_id, ending["hour"], ending["driver_counts"], drivers=True)
        return True

    def count_sends(self, fleet_id: str, hour: str, counts: dict[str, int]) -> None:
        self._add(fleet_id, hour, counts)

    def flush(self) -> int:
        from ridecast.repositories.stats import counters_item_key, drivers_item_key
        from ridecast.repositories.stats_packing import pack
        from ridecast.repositories.table import table

        with table().batch_writer() as batch:
            for (fleet_id, key), counters in self.items.items():
                batch.put_item(Item={**counters_item_key(fleet_id, key), **pack(counters)})
            for (fleet_id, key), counters in self.drivers.items():
                # One item per bucket: the bench's 50 drivers are one Update's worth (the repository's chunk 0).
                batch.put_item(Item={**drivers_item_key(fleet_id, key), **pack(counters)})
        return len(self.items) + len(self.drivers)


def _seed(fleet_id: str, driver_ids: list[str]) -> dict[str, Any]:
    from ridecast.domain.clock import utcnow
    from ridecast.domain.entities import Customer, Offer, Place, Ride
    from ridecast.domain.stats.counters import SendTally
    from ridecast.domain.stats.recording import record_ride_created, record_ride_ended, record_sends
    from ridecast.wiring import ports

    folding = FoldingStatsStore()
    real = ports()
    seeding = dataclasses.replace(real, stores=dataclasses.replace(real.stores, stats=folding))  # type: ignore[arg-type]
    rng = random.Random(12)
    now = utcnow()
    outcomes = ["assigned"] * 85 + ["timed_out"] * 8 + ["cancelled"] * 6 + ["failed"]
    template = Ride(
        ride_id="r",
        fleet_id=fleet_id,
        code="R-0",
        customer=Customer(name="Bench", phone="+15550000000"),
        pickup=Place(address="1 Bench St"),
        dropoff=Place(address="2 Bench St"),
        created_at=now,
        deadline_at=now,
    )
    started = time.perf_counter()
    for index in range(RIDES):
        created = now - timedelta(seconds=rng.uniform(0, DAYS * 86400 - 60))
        status = rng.choice(outcomes)
        ttm = round(rng.lognormvariate(2.0, 0.8), 3) if status == "assigned" else None
        offered = rng.sample(driver_ids, OFFERS_PER_RIDE)
        ride = template.model_copy(
            update={
                "ride_id": f"r{index}",
                "created_at": created,
                "status": status,
                "time_to_match_seconds": ttm,
                "drivers_notified": OFFERS_PER_RIDE,
                "driver_id": offered[0] if status == "assigned" else None,
            }
        )
        offers = [
            Offer(
                ride_id=ride.ride_id,
                driver_id=driver_id,
                fleet_id=fleet_id,
                secret="s",
                channel="sms",
                status="accepted" if driver_id == ride.driver_id else rng.choice(["taken", "rejected", "timeout"]),
                sent_at=created,
                responded_at=created + timedelta(seconds=4) if driver_id == ride.driver_id else None,
                response_seconds=4.0 if driver_id == ride.driver_id else None,
            )
            for driver_id in offered
        ]
        record_ride_created(seeding, ride)
        record_sends(
            seeding.stores.stats, fleet_id, [SendTally("sms", True, rng.randint(40, 90)) for _ in offered], at=created
        )
        record_ride_ended(seeding, ride, offers)
    folded = time.perf_counter() - started
    return {"items": folding.flush(), "recording_seconds": round(folded, 1)}


def stats_30_days(bench: Any) -> dict[str, Any]:
    fleet_id, api_key = bench.fleet()
    drivers = bench.drivers(fleet_id, DRIVERS)
    seeded = _seed(fleet_id, [d.driver_id for d in drivers])
    headers = {"Authorization": f"Bearer {api_key}"}
    answers, timings, emulated = [], [], []
    for _ in range(QUERIES + 1):
        emulated_before, started = dynamodb_emulator_seconds(), time.perf_counter()
        answer = bench.http.get(f"{bench.api}/stats", params={"since": _days_ago(DAYS)}, headers=headers, timeout=30)
        timings.append((time.perf_counter() - started) * 1000)
        emulated.append((dynamodb_emulator_seconds() - emulated_before) * 1000)
        answer.raise_for_status()
        answers.append(answer.json())
    # The first pays the function's cold start. moto answers DynamoDB in this process, so its share of each
    # request is measured apart: it stands for what is a network round trip of a few ms on AWS.
    timings, emulated = timings[1:], emulated[1:]
    return {
        "rides": answers[-1]["rides"]["total"],
        "counter_items": seeded["items"],
        "recording_seconds": seeded["recording_seconds"],
        "ms_p50": round(statistics.median(timings), 1),
        "ms_max": round(max(timings), 1),
        "dynamodb_emulator_ms_p50": round(statistics.median(emulated), 1),
        "ms_p50_outside_emulator": round(statistics.median(t - e for t, e in zip(timings, emulated, strict=True)), 1),
    }


def _days_ago(days: int) -> str:
    from ridecast.domain.clock import utcnow

    return (utcnow() - timedelta(days=days)).isoformat()


def main() -> int:
    """This scenario alone, on the local stack as `make bench` builds it."""
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
    from bench.scenarios import Bench
    from local_stack.runtime import LocalRuntime

    repo = Path(__file__).resolve().parent.parent
    with LocalRuntime(repo, parameter_overrides={"LogLevel": "WARNING"}, seed_demo=False, log=lambda _: None) as rt:
        print(stats_30_days(Bench(rt)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
