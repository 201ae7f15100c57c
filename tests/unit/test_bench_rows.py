"""`make bench`'s arithmetic and verdicts (bench/rows.py, bench/emulator.py): the figures it prints are only as
honest as these."""

import os

import pytest

from bench.emulator import cpu_seconds
from bench.rows import NAMES, ON_REQUEST, ROWS, chosen, percentile, render

BROADCAST_ROW = next(row for row in ROWS if row.name == "broadcast_1000")
STORM_ROW = next(row for row in ROWS if row.name == "accept_storm")


def _broadcast(**changes: object) -> dict[str, object]:
    result: dict[str, object] = {
        "drivers": 1000,
        "accepted_by_provider": 1000,
        "offers_failed": 0,
        "seconds_to_last_accepted": 0.8,
        "cpu_ms_per_offer": 0.4,
        "emulator_cpu_seconds": 1.2,
        "providers_cpu_seconds": 0.6,
    }
    return result | changes


def test_p95_is_the_nearest_rank_not_an_interpolation():
    # Given 20 latencies 1..20 ms
    values = [float(v) for v in range(20, 0, -1)]
    # When their percentiles are taken
    # Then p95 is the 19th smallest, p50 the 10th, and p100 the largest
    assert percentile(values, 0.95) == 19.0
    assert percentile(values, 0.5) == 10.0
    assert percentile(values, 1.0) == 20.0
    assert percentile([], 0.95) == 0.0


def test_a_broadcast_within_its_targets_is_met():
    # Given a 1,000-driver broadcast all accepted in 0.8 s at 0.4 ms of CPU an offer
    line = render(BROADCAST_ROW, _broadcast())
    # Then its row says met and shows the figures
    assert line.endswith("| met |")
    assert "0.8 s" in line
    assert "0.4 ms per offer" in line


@pytest.mark.parametrize(
    "changes",
    [
        {"seconds_to_last_accepted": 1.2},
        {"cpu_ms_per_offer": 0.6},
        {"accepted_by_provider": 999},
        {"offers_failed": 1},
    ],
)
def test_a_broadcast_missing_any_part_of_its_target_is_not_met(changes):
    # Given a broadcast that is too slow, too costly in CPU, or lost an offer
    line = render(BROADCAST_ROW, _broadcast(**changes))
    # Then its row says NOT met
    assert line.endswith("| NOT met |")


def test_an_accept_storm_needs_a_thousand_accepts_with_one_winner():
    # Given a storm of 1,000 accepts with one winner, and one of 100 with one winner
    thousand = {"accepts": 1000, "assigned": 1, "already_taken": 999, "errors": 0}
    hundred = {"accepts": 100, "assigned": 1, "already_taken": 99, "errors": 0}
    latencies = {"latency_ms_p50": 10, "latency_ms_p95": 20}
    # Then only the first meets SPEC §7
    assert render(STORM_ROW, thousand | latencies).endswith("| met |")
    assert render(STORM_ROW, hundred | latencies).endswith("| NOT met |")


def test_a_failed_or_incomplete_scenario_is_not_measured_rather_than_met():
    # Given a scenario that raised, and one whose result lacks a figure
    failed = render(BROADCAST_ROW, {"error": "ConnectionError: emulator gone"})
    incomplete = render(BROADCAST_ROW, {"drivers": 1000})
    # Then both rows say so instead of a verdict
    assert "ConnectionError: emulator gone" in failed
    assert failed.endswith("| NOT measured |")
    assert incomplete.endswith("| NOT measured |")


def test_only_picks_rows_by_name_and_refuses_unknown_ones():
    # Given no choice, a choice, and a misspelt row
    # Then every SPEC §7 row runs by default (not the ones run on request), the chosen ones when named,
    # and an unknown name is refused with the known ones
    assert chosen("") == [name for name in NAMES if name not in ON_REQUEST]
    assert chosen("failover, cold_imports") == ["failover", "cold_imports"]
    with pytest.raises(ValueError, match="broadcast_1000"):
        chosen("broadcast_100")


def test_cpu_of_a_process_is_read_from_proc():
    # Given this process, which has run code
    used = cpu_seconds(os.getpid())
    # Then its CPU time is positive, and an unknown pid has none
    assert used is not None
    assert used > 0
    assert cpu_seconds(2**22 + 1) is None
