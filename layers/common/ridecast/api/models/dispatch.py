"""Dispatch control (SPEC §3 `/dispatch/*`, §5): the router's status and mode."""

from datetime import datetime
from typing import Literal, Self

from ridecast.api.models.base import ApiInput, ApiOutput
from ridecast.domain.channels.control import ChannelReport, DispatchStatus


class SetModeRequest(ApiInput):
    mode: Literal["auto", "telegram-only", "twilio-only"]


class ChannelStatusOut(ApiOutput):
    status: Literal["online", "offline", "unknown"]
    consecutive_failures: int
    last_success_at: datetime | None
    last_failure_at: datetime | None
    attempts: int
    successes: int
    failures: int
    success_rate: float | None
    avg_latency_ms: float | None
    source: Literal["fleet", "platform"] | None

    @classmethod
    def from_domain(cls, report: ChannelReport) -> Self:
        health = report.health
        return cls(
            status=health.status,
            consecutive_failures=health.consecutive_failures,
            last_success_at=health.last_success_at,
            last_failure_at=health.last_failure_at,
            attempts=health.attempts,
            successes=health.successes,
            failures=health.failures,
            success_rate=health.success_rate,
            avg_latency_ms=health.avg_latency_ms,
            source=report.source,
        )


class DispatchChannelsOut(ApiOutput):
    telegram: ChannelStatusOut
    twilio: ChannelStatusOut


class DispatchStatusOut(ApiOutput):
    mode: Literal["auto", "telegram-only", "twilio-only"]
    paused: bool
    # New rides waiting while dispatch is paused; released in the order they came on resume.
    held_rides: int
    channels: DispatchChannelsOut

    @classmethod
    def from_domain(cls, status: DispatchStatus) -> Self:
        return cls(
            mode=status.mode,
            paused=status.paused,
            held_rides=status.held_rides,
            channels=DispatchChannelsOut(
                telegram=ChannelStatusOut.from_domain(status.channels["telegram"]),
                twilio=ChannelStatusOut.from_domain(status.channels["twilio"]),
            ),
        )
