"""Stats from counters (SPEC §6) on fakes: what rides starting and ending add, read back per period."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from ridecast.domain.clock import utcnow
from ridecast.domain.matching import answers
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.endings import notify_cancelled, notify_matched, time_out
from ridecast.domain.rides.cancel import cancel_ride
from ridecast.domain.stats.buckets import SPAN_DAYS, Buckets, CounterKey, cover, span_key
from ridecast.domain.stats.counters import TIME_TO_MATCH_EDGES, hour_key, hour_start, ttm_bucket
from ridecast.domain.stats.report import fleet_stats, percentile
from ridecast.errors import InvalidInput
from tests.fakes import Fakes
from tests.unit.domain.conftest import a_fleet, a_ride, drivers_of, token_for

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def test_matched_timed_out_and_cancelled_rides_add_up(fakes: Fakes) -> None:
    # Given a fleet of two drivers and three rides offered to both
    fleet = a_fleet(fakes)
    ann, bo = drivers_of(fakes, fleet, 2)
    matched, lapsed, cancelled = (a_ride(fakes, fleet) for _ in range(3))
    for ride in (matched, lapsed, cancelled):
        broadcast(fakes.ports, ride.ride_id)
    # When Ann accepts the first after Bo rejected it, the second times out and the third is cancelled
    answers.reject(fakes.ports, token_for(fakes, matched.ride_id, bo.driver_id))
    answers.accept(fakes.ports, token_for(fakes, matched.ride_id, ann.driver_id))
    notify_matched(fakes.ports, matched.ride_id)
    time_out(fakes.ports, lapsed.ride_id)
    cancel_ride(fakes.ports, fleet.fleet_id, cancelled.ride_id, None)
    notify_cancelled(fakes.ports, cancelled.ride_id)
    # Then the figures tell each ending once, and a fourth ride still searching is live
    live = a_ride(fakes, fleet)
    stats = fleet_stats(fakes.ports, fleet.fleet_id, None, None)
    assert stats.rides_total == 4
    assert stats.rides_by_status == {
        "scheduled": 0,
        "searching": 1,
        "assigned": 1,
        "timed_out": 1,
        "cancelled": 1,
        "failed": 0,
    }
    assert stats.active_matchings == 1
    assert (stats.acceptance_rate, stats.timeout_rate) == (round(1 / 3, 4), round(1 / 3, 4))
    assert stats.mean_drivers_notified == 2
    stored = fakes.rides.get(matched.ride_id)
    assert stored is not None
    assert stored.time_to_match_seconds is not None
    assert stats.time_to_match_mean == pytest.approx(stored.time_to_match_seconds, abs=0.001)
    # Every SMS that went out counts (offers, the customer's news, "taken"), as the router sent them
    sms_sent = sum(1 for m in fakes.channels.sent if m.channel == "sms")
    assert sms_sent > 6  # more than the six offers
    assert (stats.channels["sms"].attempts, stats.channels["sms"].successes) == (sms_sent, sms_sent)
    assert stats.channels["telegram"].attempts == 0
    by_driver = {d.driver_id: d for d in stats.drivers}
    assert (by_driver[ann.driver_id].offers_received, by_driver[ann.driver_id].accepted) == (3, 1)
    assert by_driver[ann.driver_id].name == ann.name
    assert (by_driver[bo.driver_id].responses, by_driver[bo.driver_id].accepted) == (1, 0)
    assert by_driver[bo.driver_id].timeouts == 1  # the ride that lapsed
    assert live.ride_id not in fakes.stats.markers


def test_an_ending_retried_by_step_functions_is_counted_once(fakes: Fakes) -> None:
    # Given a ride that timed out
    fleet = a_fleet(fakes)
    drivers_of(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    time_out(fakes.ports, ride.ride_id)
    # When Step Functions runs TimeOut again (the first attempt's answer was lost)
    assert time_out(fakes.ports, ride.ride_id) == {"ride_status": "timed_out"}
    # Then it is still one timed-out ride and no matching is live
    stats = fleet_stats(fakes.ports, fleet.fleet_id, None, None)
    assert (stats.rides_by_status["timed_out"], stats.rides_total, stats.active_matchings) == (1, 1, 0)


def test_a_period_before_the_rides_shows_none_of_them(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    a_ride(fakes, fleet)
    now = utcnow()
    earlier = fleet_stats(fakes.ports, fleet.fleet_id, now - timedelta(days=3), now - timedelta(days=2))
    assert earlier.rides_total == 0
    assert earlier.acceptance_rate is None
    assert earlier.time_to_match_p50 is None
    assert earlier.drivers == []


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
        (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)),
        (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)),
    ],
)
def test_an_empty_or_overlong_period_is_refused(fakes: Fakes, since: datetime, until: datetime) -> None:
    fleet = a_fleet(fakes)
    with pytest.raises(InvalidInput):
        fleet_stats(fakes.ports, fleet.fleet_id, since, until)


def test_percentiles_land_in_the_bucket_of_the_true_value() -> None:
    # Given 100 times to match of 1..100 seconds
    seconds = list(range(1, 101))
    histogram = [0] * (len(TIME_TO_MATCH_EDGES) + 1)
    for value in seconds:
        histogram[ttm_bucket(value)] += 1
    # Then p50 and p95 fall in the buckets of the 50th and 95th values
    for fraction, true_value in ((0.50, 50), (0.95, 95)):
        estimate = percentile(histogram, fraction)
        assert estimate is not None
        assert ttm_bucket(estimate) == ttm_bucket(true_value)


def test_a_period_reads_whole_days_from_day_items_and_its_edges_from_hours(fakes: Fakes) -> None:
    # Given one ride created in each of the hours 22:00 on 1 March to 02:00 on 3 March
    fleet = a_fleet(fakes)
    start = datetime(2026, 3, 1, 22, tzinfo=UTC)
    for n in range(29):
        fakes.stats.count_created(fleet.fleet_id, (start + timedelta(hours=n)).strftime("%Y-%m-%dT%H"), {"created": 1})

    # When periods starting and ending inside hours, and across midnights, are asked for
    def total(since: datetime, until: datetime) -> int:
        return fleet_stats(fakes.ports, fleet.fleet_id, since, until).rides_total

    # Then each counts the rides of the hours it touches, once
    assert total(start, start + timedelta(hours=29)) == 29
    assert total(start + timedelta(minutes=30), start + timedelta(hours=2, minutes=1)) == 3
    assert total(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)) == 24
    assert total(datetime(2026, 3, 1, 23, 59, tzinfo=UTC), datetime(2026, 3, 3, 0, 1, tzinfo=UTC)) == 26


def test_a_failed_send_and_its_failover_show_in_the_channel_figures(fakes: Fakes) -> None:
    # Given a fleet with a bot and an SMS sender, two Telegram drivers, and Telegram down
    fleet = a_fleet(fakes, telegram=True)
    drivers = drivers_of(fakes, fleet, 2, channel="telegram")
    for n, driver in enumerate(drivers):
        fakes.drivers.bind_telegram_chat(driver, str(7000 + n))
    fakes.channels.down.add("telegram")
    ride = a_ride(fakes, fleet)
    # When the ride is broadcast: each Telegram offer fails and goes by SMS at once
    broadcast(fakes.ports, ride.ride_id)
    # Then the figures count both attempts of each driver: a failure on Telegram, a success on SMS
    stats = fleet_stats(fakes.ports, fleet.fleet_id, None, None).channels
    telegram, sms = stats["telegram"], stats["sms"]
    assert (telegram.attempts, telegram.successes, telegram.failures) == (2, 0, 2)
    assert telegram.success_rate == 0
    sms_sent = sum(1 for m in fakes.channels.sent if m.channel == "sms")  # the 2 offers and the customer's news
    assert (sms.attempts, sms.successes, sms.failures) == (sms_sent, sms_sent, 0)
    assert sms.success_rate == 1
    assert sms.mean_latency_ms is not None
    assert stats["whatsapp"].attempts == 0


def test_a_send_that_fails_on_every_channel_is_a_failure_on_each(fakes: Fakes) -> None:
    # Given an SMS driver of a fleet without a bot, and Twilio down
    fleet = a_fleet(fakes)
    drivers_of(fakes, fleet, 1)
    fakes.channels.down.add("twilio")
    ride = a_ride(fakes, fleet)
    # When the ride is broadcast
    broadcast(fakes.ports, ride.ride_id)
    # Then the failed offer (and the customer's message, which failed too) count as SMS failures
    sms = fleet_stats(fakes.ports, fleet.fleet_id, None, None).channels["sms"]
    assert sms.attempts == sms.failures >= 1
    assert (sms.successes, sms.success_rate) == (0, 0)


def _hours_of(key: CounterKey) -> list[datetime]:
    level, start = key
    first = hour_start(start) if level == "hour" else datetime.fromisoformat(start).replace(tzinfo=UTC)
    return [first + timedelta(hours=n) for n in range({"hour": 1, "day": 24, "span": 24 * SPAN_DAYS}[level])]


def test_any_period_is_a_signed_sum_of_a_few_aligned_buckets() -> None:
    # Given 300 periods of 1 hour to 92 days starting at random hours
    rng = random.Random(3)
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    sizes = []
    for _ in range(300):
        first = origin + timedelta(hours=rng.randrange(24 * 400))
        end = first + timedelta(hours=rng.randint(1, 24 * 92))
        # When they are covered
        keys = cover(first, end)
        # Then every hour of the period counts once and no other hour at all
        counted: dict[datetime, int] = {}
        for sign, key in keys:
            assert key[0] != "span" or span_key(key[1]) == key[1]
            for hour in _hours_of(key):
                counted[hour] = counted.get(hour, 0) + sign
        inside = {hour for hour, times in counted.items() if times}
        assert all(times in (0, 1) for times in counted.values())
        assert inside == {first + timedelta(hours=n) for n in range(int((end - first).total_seconds()) // 3600)}
        if timedelta(days=30) <= end - first <= timedelta(days=31):
            sizes.append(len(keys))
    # And a month takes ~20 buckets, at most 30 (adding whole buckets only: ~33, at most 63)
    assert max(sizes) <= 30
    assert sum(sizes) / len(sizes) < 22


def test_periods_on_midnights_are_read_from_days_and_spans_only() -> None:
    first = datetime(2026, 3, 3, tzinfo=UTC)
    keys = cover(first, first + timedelta(days=31))
    assert {key[0] for _, key in keys} <= {"day", "span"}


def test_a_month_reads_its_spans_days_and_edge_hours_once_and_adds_up(fakes: Fakes) -> None:
    # Given one ride created in every hour of 40 days, each with an offer to one of two drivers
    fleet = a_fleet(fakes)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for n in range(40 * 24):
        hour = hour_key(start + timedelta(hours=n))
        fakes.stats.count_created(fleet.fleet_id, hour, {"created": 1})
        fakes.stats.count_ended(
            fleet.fleet_id, f"r{n}", hour=hour, hour_counts={"ended#assigned": 1}, driver_counts={f"offers#d{n % 2}": 1}
        )
    reads: list[list[CounterKey]] = []
    read = fakes.stats.read

    def counting(fleet_id: str, keys: list[CounterKey], driver_keys: list[CounterKey]) -> Buckets:
        reads.append([*keys, *driver_keys])
        return read(fleet_id, keys, driver_keys)

    fakes.stats.read = counting  # type: ignore[method-assign]
    # When 30 days from the middle of an hour are asked for
    since = start + timedelta(days=4, hours=5, minutes=30)
    stats = fleet_stats(fakes.ports, fleet.fleet_id, since, since + timedelta(days=30))
    # Then the rides of the 721 hours it touches count once; the drivers' of the 31 days it touches
    assert (stats.rides_total, stats.rides_by_status["assigned"]) == (721, 721)
    assert sum(d.offers_received for d in stats.drivers) == 31 * 24
    # And all of it came from one read of fewer than 40 buckets
    assert len(reads) == 1
    assert len(reads[0]) < 40
