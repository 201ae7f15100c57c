"""A fleet's limits on what makes Ridecast send messages to numbers a caller chooses (SPEC §11): rides
created per minute, and messages to one customer phone per hour. Counted in the shared RateLimitStore, so
they hold across Lambda instances."""

from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Fleet
from ridecast.domain.ports import RateLimitStore
from ridecast.errors import RateLimited
from ridecast.observability import logger, mask_phone

MINUTE = 60
HOUR = 3600


def _customer_key(fleet: Fleet, phone: str) -> str:
    return f"{fleet.fleet_id}#customer#{phone}"


def seconds_until_next_window(window_seconds: int) -> int:
    epoch = int(utcnow().timestamp())
    return max(1, window_seconds - epoch % window_seconds)


def admit_ride(limits: RateLimitStore, fleet: Fleet, customer_phone: str) -> None:
    """Raises RateLimited when the fleet booked its rides for this minute, or its messages to this customer
    for this hour are used up (a ride would only reach the customer's phone in silence)."""
    now = utcnow()
    customer_cap = fleet.settings.max_messages_per_customer_per_hour
    if limits.used(_customer_key(fleet, customer_phone), HOUR, now) >= customer_cap:
        raise RateLimited(
            f"this customer was sent {customer_cap} messages this hour: try again later",
            retry_after_seconds=seconds_until_next_window(HOUR),
            limit="max_messages_per_customer_per_hour",
        )
    wait = limits.take(f"{fleet.fleet_id}#rides", fleet.settings.max_rides_per_minute, MINUTE, now)
    if wait is not None:
        raise RateLimited(
            f"this fleet may create {fleet.settings.max_rides_per_minute} rides a minute: retry after {wait} s",
            retry_after_seconds=wait,
            limit="max_rides_per_minute",
        )


def may_message_customer(limits: RateLimitStore, fleet: Fleet, phone: str) -> bool:
    """Counts one message to the customer; False past the hourly cap (the message is then not sent)."""
    cap = fleet.settings.max_messages_per_customer_per_hour
    if limits.take(_customer_key(fleet, phone), cap, HOUR, utcnow()) is None:
        return True
    logger.warning("customer message cap reached: not sent", extra={"phone": mask_phone(phone), "cap": cap})
    return False
