"""The daily report (SPEC §6, issue 12): yesterday's figures, in the fleet's time zone and language, to its admins
on their channel and by e-mail, once per fleet and day."""

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from ridecast.domain.stats import daily_report
from ridecast.domain.stats.counters import ride_ended_counts
from ridecast.domain.stats.daily_report import day_bounds, report_day, send_daily_reports
from tests.fakes import Fakes
from tests.unit.domain.conftest import ADMIN_PHONE, a_fleet
from tests.unit.repositories.builders import a_ride

ADMIN_EMAIL = "olu@example.com"
# 01:30 in Tokyo (UTC+9) on 11 March: the report is about 10 March, 2026-03-09T15:00Z to 2026-03-10T15:00Z.
TOKYO_EARLY = datetime(2026, 3, 10, 16, 30, tzinfo=UTC)


Clock = Callable[[datetime], None]


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Clock:
    def set_now(now: datetime) -> None:
        monkeypatch.setattr(daily_report, "utcnow", lambda: now)

    return set_now


def tokyo_fleet(fakes: Fakes, language: str = "en") -> str:
    fakes.secrets.platform = {"email_sender": "rides@ridecast.example"}
    admins = [{"name": "Olu", "phone": ADMIN_PHONE, "email": ADMIN_EMAIL}]
    fleet = a_fleet(fakes, timezone="Asia/Tokyo", language=language, admin_contacts=admins)
    return fleet.fleet_id


def a_ride_in(fakes: Fakes, fleet_id: str, hour: str, n: int, status: str = "assigned") -> None:
    ride = a_ride(fleet_id, n, status=status, time_to_match_seconds=12.0 if status == "assigned" else None)
    fakes.stats.count_created(fleet_id, hour, {"created": 1})
    fakes.stats.count_ended(fleet_id, ride.ride_id, hour=hour, hour_counts=ride_ended_counts(ride), driver_counts={})


def test_yesterday_is_the_fleets_own_day() -> None:
    fakes = Fakes()
    fleet = fakes.fleets.get(tokyo_fleet(fakes))
    assert fleet is not None
    assert report_day(fleet, TOKYO_EARLY) == date(2026, 3, 10)
    assert report_day(fleet, datetime(2026, 3, 10, 20, 0, tzinfo=UTC)) is None  # 05:00 in Tokyo: done by then
    start, end = day_bounds(fleet, date(2026, 3, 10))
    assert (start.isoformat(), end.isoformat()) == ("2026-03-09T15:00:00+00:00", "2026-03-10T15:00:00+00:00")


def test_the_admins_get_yesterdays_figures_once_by_sms_and_email(fakes: Fakes, at: Clock) -> None:
    # Given a Tokyo fleet with two rides in its 10 March (one matched, one timed out) and one the day before
    fleet_id = tokyo_fleet(fakes)
    a_ride_in(fakes, fleet_id, "2026-03-09T15", 1)
    a_ride_in(fakes, fleet_id, "2026-03-10T14", 2, status="timed_out")
    a_ride_in(fakes, fleet_id, "2026-03-09T14", 3)
    # When the hourly run comes at 01:30 Tokyo time, and again an hour later
    at(TOKYO_EARLY)
    assert send_daily_reports(fakes.ports) == {"reports_sent": 1, "reports_failed": 0}
    at(TOKYO_EARLY.replace(hour=17))
    assert send_daily_reports(fakes.ports) == {"reports_sent": 0, "reports_failed": 0}
    # Then the admin got one report by SMS, counting that day's two rides only, and the same by e-mail
    [sms] = fakes.channels.to(ADMIN_PHONE)
    assert sms.startswith("Northside Cabs, 2026-03-10\nRides: 2 (assigned 1, timed out 1, cancelled 0, failed 0)")
    assert "Acceptance rate: 50%" in sms
    assert "mean 12.0 s" in sms
    [(_, mail)] = fakes.channels.emails
    assert (mail.to, mail.subject, mail.body) == (ADMIN_EMAIL, "Northside Cabs: daily report for 2026-03-10", sms)
    # And nothing went to the ops alerts topic: a report is not an alert
    assert fakes.alerts.published == []


def test_the_report_speaks_the_fleets_language(fakes: Fakes, at: Clock) -> None:
    tokyo_fleet(fakes, language="fr")
    at(TOKYO_EARLY)
    send_daily_reports(fakes.ports)
    [sms] = fakes.channels.to(ADMIN_PHONE)
    assert sms.startswith("Northside Cabs, 2026-03-10\nCourses : 0")
    assert "Taux d'acceptation : -" in sms


def test_a_fleet_not_yet_past_midnight_waits(fakes: Fakes, at: Clock) -> None:
    tokyo_fleet(fakes)
    at(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))  # 21:00 in Tokyo
    assert send_daily_reports(fakes.ports)["reports_sent"] == 0
    assert fakes.channels.sent == []


def test_a_failed_run_is_retried_by_the_next(fakes: Fakes, at: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the stats unreadable during the first run
    tokyo_fleet(fakes)
    at(TOKYO_EARLY)
    healthy = fakes.stats.read

    def broken(*args: object) -> object:
        raise RuntimeError("table unavailable")

    monkeypatch.setattr(fakes.stats, "read", broken)
    assert send_daily_reports(fakes.ports) == {"reports_sent": 0, "reports_failed": 1}
    # When the next run finds them readable, Then the report goes out
    monkeypatch.setattr(fakes.stats, "read", healthy)
    assert send_daily_reports(fakes.ports) == {"reports_sent": 1, "reports_failed": 0}
    assert len(fakes.channels.to(ADMIN_PHONE)) == 1
