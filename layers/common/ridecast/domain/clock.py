"""The clock: one place that says what time it is (always UTC), so tests and rules agree."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
