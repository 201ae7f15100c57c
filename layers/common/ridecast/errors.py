"""Domain errors as types; `ridecast.api.errors` maps them to HTTP answers in one place."""

from typing import Any


class RidecastError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.details}


class InvalidInput(RidecastError):
    status_code = 422
    code = "invalid_input"


class Unauthenticated(RidecastError):
    status_code = 401
    code = "unauthenticated"


class ForbiddenForRole(RidecastError):
    status_code = 403
    code = "forbidden"


class NotFound(RidecastError):
    status_code = 404
    code = "not_found"


class FleetNotFound(NotFound):
    pass


class DriverNotFound(NotFound):
    pass


class RideNotFound(NotFound):
    pass


class OfferNotFound(NotFound):
    pass


class Conflict(RidecastError):
    status_code = 409
    code = "conflict"


class DuplicatePhone(Conflict):
    code = "duplicate_phone"


class LastAdminKey(Conflict):
    """Revoking it would leave the fleet without an active admin key (SPEC §11)."""

    code = "last_admin_key"


class ChatAlreadyBound(Conflict):
    """A Telegram chat finds one driver (SPEC §5): a second driver's link opened from it binds nothing."""

    code = "chat_already_bound"


class RideNotCancellable(Conflict):
    code = "not_cancellable"


class RideNotReassignable(Conflict):
    """Only an assigned ride can be reassigned (SPEC §8): one still matching or ended cannot."""

    code = "not_reassignable"


class RideChanged(Conflict):
    """Another reassign or give back moved the ride first: of two that raced, this one lost."""

    code = "ride_changed"


class OfferClosed(Conflict):
    """An accept, reject or give back that cannot be; `result` is the SPEC §3 answer (`not_assigned_to_you`
    for a give back of a ride the driver does not hold)."""

    code = "offer_closed"

    def __init__(self, result: str) -> None:
        super().__init__(f"the offer is closed: {result}", result=result)
        self.result = result

    def body(self) -> dict[str, Any]:
        return {"result": self.result, "message": self.message}


class RateLimited(RidecastError):
    """A fleet limit on what makes Ridecast send messages (SPEC §11): 429 with Retry-After."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_seconds: int, limit: str) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds, limit=limit)
        self.retry_after_seconds = retry_after_seconds


class ChannelError(RidecastError):
    """A provider refused or failed a message; callers record it on the offer."""

    code = "channel_error"

    def __init__(self, message: str, *, retryable: bool = False, provider_code: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.provider_code = provider_code


class NoSenderForChannel(ChannelError):
    """A message could not go out because the fleet has no bot or sender for its channel (the driver is
    told on no channel; callers record it on the offer like any failed send)."""

    code = "no_sender_for_channel"


class TransientError(RidecastError):
    """Raised to Step Functions so its Retry (backoff + jitter) takes over."""

    code = "transient"


class MatchingUnavailable(TransientError):
    """The matching state machine could not be started."""

    status_code = 503
    code = "matching_unavailable"


class BackgroundUnavailable(TransientError):
    """Work for another invocation (a message to drivers) could not be handed off; nothing was sent."""

    status_code = 503
    code = "background_unavailable"


class RideCancelled(RidecastError):
    """The error an AwaitAcceptance task token is failed with when its ride is cancelled (the state
    machine catches it by this name and tells the drivers)."""

    code = "ride_cancelled"


class RideEnded(RidecastError):
    """The error an AwaitAcceptance task token is failed with when its ride ended some other way."""

    code = "ride_ended"


# AwaitAcceptance follows every Broadcast (no Choice state in between: each state entered is billed). When
# the wave opened no window, its Lambda fails its own token with one of these and the state machine's Catch
# routes the flow by the name.


class RideHeld(RidecastError):
    """Broadcast held the ride (its fleet's dispatch is paused): the flow goes to AwaitResume."""

    code = "ride_held"


class RideScheduled(RidecastError):
    """The ride is pre-booked: the flow confirms the booking and waits for its matching to start."""

    code = "ride_scheduled"


class DeadlinePassed(RidecastError):
    """The ride's matching time is up before another window could open: the flow times the ride out."""

    code = "deadline_passed"


class WebhookForbidden(RidecastError):
    """A webhook whose signature or secret does not check out: 403, and nothing changes."""

    status_code = 403
    code = "forbidden"


class SenderInUse(Conflict):
    code = "sender_in_use"


class FleetChannelMissing(Conflict):
    """The fleet has no provider set up for a channel an admin asked for (a Telegram link without a bot)."""

    code = "channel_not_configured"


class DriverHasNoEmail(Conflict):
    """The driver has no `email` to send their registration link to."""

    code = "driver_has_no_email"


class EmailUnavailable(TransientError):
    """SES refused or failed the e-mail; the caller may try again."""

    status_code = 503
    code = "email_unavailable"


class IdempotencyRequestInFlight(Conflict):
    """A request with the same Idempotency-Key is still being processed (IETF Idempotency-Key draft: 409)."""

    code = "idempotency_request_in_progress"
