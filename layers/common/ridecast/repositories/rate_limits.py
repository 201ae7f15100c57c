"""Rate limits: one counter item per key and fixed window, counted with a conditional ADD so the limit holds
across Lambda instances; the table's TTL removes windows that are over."""

from datetime import datetime

from ridecast.repositories.table import conditionally, table


def window_start(now: datetime, window_seconds: int) -> int:
    epoch = int(now.timestamp())
    return epoch - epoch % window_seconds


def seconds_left(now: datetime, window_seconds: int) -> int:
    """Until the window holding `now` ends: what Retry-After says (at least 1)."""
    return max(1, window_start(now, window_seconds) + window_seconds - int(now.timestamp()))


def _key(key: str, now: datetime, window_seconds: int) -> dict[str, str]:
    return {"PK": f"LIMIT#{key}", "SK": f"WINDOW#{window_seconds}#{window_start(now, window_seconds)}"}


class DynamoRateLimitStore:
    def take(self, key: str, limit: int, window_seconds: int, now: datetime) -> int | None:
        counted = conditionally(
            lambda: table().update_item(
                Key=_key(key, now, window_seconds),
                UpdateExpression="ADD used :one SET item_type = :type, expires_at = :expires",
                ConditionExpression="attribute_not_exists(used) OR used < :limit",
                ExpressionAttributeValues={
                    ":one": 1,
                    ":limit": limit,
                    ":type": "rate_limit",
                    # Kept one window past its end: the TTL sweep is lazy, and the count is read by `used`.
                    ":expires": window_start(now, window_seconds) + 2 * window_seconds,
                },
            )
        )
        return None if counted is not None else seconds_left(now, window_seconds)

    def used(self, key: str, window_seconds: int, now: datetime) -> int:
        item = table().get_item(Key=_key(key, now, window_seconds), ConsistentRead=True).get("Item")
        return int(item["used"]) if item else 0  # type: ignore[arg-type]
