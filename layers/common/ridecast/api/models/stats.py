"""GET /stats: a fleet's dispatch figures for a period (SPEC §6)."""

from datetime import datetime
from typing import Self

from pydantic import Field

from ridecast.api.models.base import ApiOutput
from ridecast.domain.stats.counters import TIME_TO_MATCH_EDGES
from ridecast.domain.stats.report import ChannelFigures, DriverFigures, FleetStats


class RidesByStatusOut(ApiOutput):
    scheduled: int
    searching: int
    assigned: int
    timed_out: int
    cancelled: int
    failed: int


class RideCountsOut(ApiOutput):
    total: int
    by_status: RidesByStatusOut


class TimeToMatchOut(ApiOutput):
    """Seconds; the mean is exact, p50 and p95 come from a fixed histogram (exact to its bucket)."""

    mean: float | None
    p50: float | None
    p95: float | None


class HistogramBucketOut(ApiOutput):
    up_to_seconds: float | None = Field(description="the bucket's upper edge; null: slower than every edge")
    rides: int


class ChannelStatsOut(ApiOutput):
    attempts: int
    successes: int
    failures: int
    success_rate: float | None
    mean_latency_ms: float | None

    @classmethod
    def from_domain(cls, figures: ChannelFigures) -> Self:
        return cls(**vars(figures))


class ChannelsStatsOut(ApiOutput):
    telegram: ChannelStatsOut
    sms: ChannelStatsOut
    whatsapp: ChannelStatsOut
    email: ChannelStatsOut


class DriverStatsOut(ApiOutput):
    driver_id: str
    name: str | None
    offers_received: int
    responses: int
    accepted: int
    acceptance_rate: float | None
    mean_response_seconds: float | None
    timeouts: int

    @classmethod
    def from_domain(cls, figures: DriverFigures) -> Self:
        return cls(**vars(figures))


class StatsOut(ApiOutput):
    since: datetime
    until: datetime
    rides: RideCountsOut
    time_to_match_seconds: TimeToMatchOut
    acceptance_rate: float | None = Field(description="assigned / ended rides")
    timeout_rate: float | None = Field(description="timed_out / ended rides")
    mean_drivers_notified: float | None
    active_matchings: int = Field(description="rides of the fleet matching now, whenever they were created")
    reassignments: int = Field(default=0, description="operator reassigns of the period's ended rides (SPEC §8)")
    reallocations: int = Field(
        default=0, description="times the period's ended rides went back to matching: give backs, driver-less reassigns"
    )
    channels: ChannelsStatsOut
    drivers: list[DriverStatsOut]
    time_to_match_histogram: list[HistogramBucketOut] = Field(
        description="matched rides per time-to-match bucket, from the fastest; a bucket holds the rides "
        "slower than the previous edge and at most its own"
    )

    @classmethod
    def from_domain(cls, stats: FleetStats) -> Self:
        return cls(
            since=stats.since,
            until=stats.until,
            rides=RideCountsOut(total=stats.rides_total, by_status=RidesByStatusOut(**stats.rides_by_status)),
            time_to_match_seconds=TimeToMatchOut(
                mean=stats.time_to_match_mean, p50=stats.time_to_match_p50, p95=stats.time_to_match_p95
            ),
            acceptance_rate=stats.acceptance_rate,
            timeout_rate=stats.timeout_rate,
            mean_drivers_notified=stats.mean_drivers_notified,
            active_matchings=stats.active_matchings,
            reassignments=stats.reassignments,
            reallocations=stats.reallocations,
            channels=ChannelsStatsOut(
                **{name: ChannelStatsOut.from_domain(figures) for name, figures in stats.channels.items()}
            ),
            drivers=[DriverStatsOut.from_domain(d) for d in stats.drivers],
            time_to_match_histogram=[
                HistogramBucketOut(up_to_seconds=edge, rides=rides)
                for edge, rides in zip((*TIME_TO_MATCH_EDGES, None), stats.time_to_match_histogram, strict=False)
            ],
        )
