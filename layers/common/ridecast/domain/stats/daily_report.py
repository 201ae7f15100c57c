"""The daily report (SPEC §6): each fleet's admins get yesterday's figures, in the fleet's language and time zone.

"Yesterday" is the fleet's own: an hourly schedule reports each fleet in the first hours of its local day, and
a conditional marker per fleet and day (the webhook delivery log) makes it once, whichever run gets there
first; a run that fails for a fleet forgets its marker, so the next hour's run tries again.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from ridecast.domain.channels.catalogue import render
from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.channels.webhooks import process_once
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Fleet
from ridecast.domain.ports import Ports
from ridecast.domain.stats.report import FleetStats, fleet_stats
from ridecast.observability import logger

# A fleet is due while its local time is before this hour: the runs of the first hours after its midnight
# all try, so one missed or failed run does not lose the day's report.
REPORT_HOURS = 3
MARKER_KEPT = timedelta(days=3)


def report_day(fleet: Fleet, now: datetime) -> date | None:
    """The local day to report on now (yesterday, early in the fleet's day), or None when it is not due."""
    local = now.astimezone(ZoneInfo(fleet.timezone))
    return local.date() - timedelta(days=1) if local.hour < REPORT_HOURS else None


def day_bounds(fleet: Fleet, day: date) -> tuple[datetime, datetime]:
    """The fleet's local day as a UTC period (23 or 25 hours on the days clocks change)."""
    zone = ZoneInfo(fleet.timezone)
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def send_daily_reports(ports: Ports) -> dict[str, int]:
    """Every fleet that is due and has admins gets its report once; a fleet that fails does not stop the others."""
    now, sent, failed = utcnow(), 0, 0
    for fleet in ports.stores.fleets.all():
        day = report_day(fleet, now)
        if day is None or not fleet.admin_contacts:
            continue
        try:
            done = process_once(
                ports.stores.deliveries,
                "daily-report",
                f"{fleet.fleet_id}#{day.isoformat()}",
                MARKER_KEPT,
                partial(send_report, ports, fleet, day),
            )
        except Exception:
            logger.exception("daily report failed", extra={"fleet_id": fleet.fleet_id, "day": day.isoformat()})
            failed += 1
            continue
        sent += done is not None
    return {"reports_sent": sent, "reports_failed": failed}


def send_report(ports: Ports, fleet: Fleet, day: date) -> bool:
    since, until = day_bounds(fleet, day)
    stats = fleet_stats(ports, fleet.fleet_id, since, until)
    router = ChannelRouter.for_fleet(fleet, ports)
    values = {"fleet_name": fleet.name, "day": day.isoformat()}
    router.tell_admins(
        render(fleet, "daily_report_subject", **values), render(fleet, "daily_report", **values, **figures(stats))
    )
    logger.info("daily report sent", extra={"fleet_id": fleet.fleet_id, "day": day.isoformat()})
    return True


def figures(stats: FleetStats) -> dict[str, str]:
    """The report's placeholders: counts as they are, rates in %, times in seconds, "-" where there is none."""
    by_status = stats.rides_by_status

    def percent(rate: float | None) -> str:
        return "-" if rate is None else f"{rate * 100:.0f}%"

    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} s"

    return {
        "total": str(stats.rides_total),
        **{status: str(by_status.get(status, 0)) for status in ("assigned", "timed_out", "cancelled", "failed")},
        "acceptance": percent(stats.acceptance_rate),
        "ttm_mean": seconds(stats.time_to_match_mean),
        "ttm_p50": seconds(stats.time_to_match_p50),
        "ttm_p95": seconds(stats.time_to_match_p95),
        "notified": "-" if stats.mean_drivers_notified is None else f"{stats.mean_drivers_notified:.1f}",
    }
