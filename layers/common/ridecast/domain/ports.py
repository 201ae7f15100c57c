"""What the domain needs from the outside world, as small Protocols it receives.

The repositories under `ridecast.repositories` implement the stores with DynamoDB; the adapters under
`ridecast.adapters` implement the rest (the channel ports are in `ridecast.domain.channels.ports`).
Unit tests pass in-memory fakes. `Ports` bundles one of each so a handler hands the domain everything in
one argument (`ridecast.wiring.ports()` builds the real one).

Every write that can race is conditional in the implementation; a method that returns `None` (or
`False`) says "the condition no longer held: someone else changed it first", never "not found by
mistake".
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ridecast.domain.channels.health import ChannelHealthStore
from ridecast.domain.channels.ports import ChannelProviders
from ridecast.domain.entities import ApiKey, ApiPrincipal, Driver, Fleet, GeoPoint, Offer, Ride
from ridecast.domain.stats.buckets import Buckets, CounterKey

if TYPE_CHECKING:
    from ridecast.domain.rides.batch import BatchOutcome


class FleetStore(Protocol):
    def create(self, fleet: Fleet, admin_key: ApiKey, key_hash: str) -> None:
        """The fleet and its first admin key, together or not at all."""

    def get(self, fleet_id: str) -> Fleet | None: ...

    def save(self, fleet: Fleet) -> None:
        """Replace an existing fleet."""

    def next_ride_sequence(self, fleet_id: str) -> int:
        """1, 2, 3... per fleet, atomically (ride codes come from it)."""

    def all(self) -> list[Fleet]:
        """Every fleet (the daily report's round), from an index rather than a scan of the table."""

    def set_dispatch_paused(self, fleet_id: str, paused: bool) -> bool:
        """Set the fleet's pause flag alone (no read-modify-write of the fleet); True when this call changed it.
        Raises FleetNotFound."""

    def dispatch_paused(self, fleet_id: str) -> bool:
        """The pause flag, strongly consistent: a ride about to wait for a resume must not miss one."""

    def record_webhook_failure(self, fleet_id: str, url: str, error: str, at: datetime) -> bool:
        """Count a failed delivery on the fleet's webhook (atomic); False when the fleet no longer sends to
        `url` (a failure of a receiver it replaced is not its new receiver's)."""


class ApiKeyStore(Protocol):
    def add(self, key: ApiKey, key_hash: str) -> None: ...

    def for_fleet(self, fleet_id: str) -> list[ApiKey]: ...

    def revoke(self, fleet_id: str, key_id: str, at: datetime) -> ApiKey | None:
        """The key as revoked (the first revocation time is kept), or None when the fleet has no such key."""

    def principal_for(self, key_hash: str) -> ApiPrincipal | None:
        """Who holds the key with this hash; None when unknown or revoked."""

    def is_revoked(self, fleet_id: str, key_id: str) -> bool:
        """True when the fleet has this key and it is revoked (strongly consistent)."""


class DriverStore(Protocol):
    def create(self, driver: Driver) -> None:
        """Raises DuplicatePhone when the fleet already has a driver with this phone."""

    def replace(self, previous: Driver, driver: Driver) -> None:
        """Save an edited driver; a phone change moves the uniqueness guard (DuplicatePhone if taken)."""

    def get(self, fleet_id: str, driver_id: str) -> Driver | None: ...

    def find_by_phone(self, fleet_id: str, phone: str) -> Driver | None: ...

    def find_by_chat(self, fleet_id: str, chat_id: str) -> Driver | None: ...

    def for_fleet(self, fleet_id: str) -> list[Driver]: ...

    def names(self, fleet_id: str) -> dict[str, str]:
        """Each driver's name by id: what `GET /stats` shows, without reading whole drivers."""

    def touch(self, fleet_id: str, driver_id: str, seen_at: datetime, *, via_whatsapp: bool = False) -> None:
        """Record that the driver was seen (and wrote on WhatsApp, which opens its 24-hour window)."""

    def locate(self, fleet_id: str, driver_id: str, location: GeoPoint, seen_at: datetime) -> None:
        """Record where the driver was seen, and when (which is also when they were last seen)."""

    def bind_telegram_chat(self, driver: Driver, chat_id: str) -> Driver: ...


class RideStore(Protocol):
    def add(self, ride: Ride) -> None: ...

    def get(self, ride_id: str) -> Ride | None:
        """Strongly consistent: races are decided on what this returns."""

    def transition(self, ride: Ride, to_status: str, **fields: Any) -> Ride | None:
        """Move the ride out of the status and version it was read at (bumping the version); None when
        another transition came first. The answer keeps `task_token` for whoever must complete it."""

    def update_searching(
        self,
        ride_id: str,
        set_fields: dict[str, Any] | None = None,
        add: dict[str, int] | None = None,
        only_round: int | None = None,
    ) -> Ride | None:
        """Bookkeeping on a ride that is still searching (no version bump), and still in `only_round` when
        given; None once it is not."""

    def add_counts(self, ride_id: str, add: dict[str, int]) -> None:
        """Add to counters whatever the ride's status."""

    def mark_escalated(self, ride_id: str, at: datetime) -> bool:
        """True for exactly one caller per ride."""

    def for_fleet(
        self, fleet_id: str, status: str | None, since: datetime | None, limit: int, cursor: str | None
    ) -> tuple[list[Ride], str | None]:
        """Newest first; `cursor` is what the previous page returned (InvalidInput when it is not)."""

    def searching_past(self, deadline: datetime) -> list[str]:
        """Ids of rides still searching with a deadline before `deadline` (held rides are not among them)."""

    def hold(self, ride: Ride, task_token: str, at: datetime) -> bool:
        """Park a searching ride until its fleet's dispatch resumes: `task_token` waits on it, it leaves the
        sweeper's view and joins the fleet's held list. False when the ride is no longer searching."""

    def held(self, fleet_id: str) -> list[str]:
        """Ids on the fleet's held list, in the order the rides were created (strongly consistent)."""

    def release(self, ride: Ride, deadline_at: datetime) -> Ride | None:
        """Unpark a held ride with a new deadline (back in the sweeper's view) and take it off the held list;
        the ride as released (its `task_token` is the one to complete), or None when it was not held."""

    def unlist_held(self, ride: Ride) -> None:
        """Take the ride off its fleet's held list (a held ride that ended another way)."""


@dataclass(frozen=True)
class OfferChange:
    """What a send taught about one offer (where it went, the Telegram message to edit later, its failure),
    written with many others in one batch."""

    ride_id: str
    driver_id: str
    # Attribute → new value; never None (a batch sets, it does not remove).
    fields: dict[str, Any]
    # Applied only while the offer is in this status (any status when None); an offer is never created.
    only_from: str | None = None


class OfferStore(Protocol):
    def add_many(self, offers: list[Offer]) -> None: ...

    def get(self, ride_id: str, driver_id: str) -> Offer | None: ...

    def for_ride(self, ride_id: str) -> list[Offer]: ...

    def update(self, ride_id: str, driver_id: str, from_statuses: Iterable[str] | None, **fields: Any) -> Offer | None:
        """Update an offer still in one of `from_statuses` (any status when None); None otherwise."""

    def update_many(self, changes: list[OfferChange]) -> None:
        """Each change on its own condition, a few dozen per call; one that lost its condition (the offer moved
        on, or is not there) is left out, as `update` answering None would."""

    def recent_for_driver(self, driver_id: str, limit: int = 20) -> list[Offer]:
        """The driver's newest offers first."""


class SenderStore(Protocol):
    def claim(self, fleet_id: str, phones: Iterable[str]) -> list[str]:
        """Point every sender at this fleet, all or none: returns those another fleet already owns (and then
        claims nothing)."""

    def release(self, fleet_id: str, phones: Iterable[str]) -> None:
        """Free the senders this fleet owns among `phones` (another fleet's stay theirs)."""

    def fleet_for(self, phone: str) -> str | None: ...


class DriverPhoneIndex(Protocol):
    """Phone → (fleet, driver) across the platform: an SMS or WhatsApp reply to one of the platform's own
    senders names no fleet, only the driver's phone."""

    def add(self, phone: str, fleet_id: str, driver_id: str) -> None: ...

    def remove(self, phone: str, fleet_id: str) -> None: ...

    def drivers_for(self, phone: str) -> list[tuple[str, str]]:
        """(fleet_id, driver_id) of every fleet with a driver on this phone."""


class PlatformChatIndex(Protocol):
    """Telegram chat → (fleet, driver) on the platform's own bot, which every fleet without a bot of its own
    shares: an update to it names no fleet, only the chat. One chat, one driver on that bot (SPEC §5)."""

    def bind(self, chat_id: str, fleet_id: str, driver_id: str) -> bool:
        """True when the chat now finds this driver (or already did); False when another driver holds it."""

    def unbind(self, chat_id: str, fleet_id: str, driver_id: str) -> None:
        """Free the chat if it is this driver's (another driver's binding stays)."""

    def find(self, chat_id: str) -> tuple[str, str] | None:
        """(fleet_id, driver_id) bound to the chat, or None."""


class RegistrationStore(Protocol):
    def add(self, token: str, fleet_id: str, driver_id: str, expires_at: datetime) -> None: ...

    def fleet_of(self, token: str) -> str | None:
        """The fleet a token was issued by, without spending it (the platform bot's updates name no fleet)."""

    def consume(self, token: str, fleet_id: str, now: datetime) -> str | None:
        """The driver id behind a live token of this fleet, which stops working; None otherwise."""


class RateLimitStore(Protocol):
    """Counters per fixed time window, shared by every Lambda instance (SPEC §11 limits)."""

    def take(self, key: str, limit: int, window_seconds: int, now: datetime) -> int | None:
        """Count one use of `key` in the window holding `now` unless `limit` uses are counted already: None when
        counted, else the seconds until the window ends."""

    def used(self, key: str, window_seconds: int, now: datetime) -> int:
        """How many uses of `key` the window holding `now` counted."""


class DeliveryLog(Protocol):
    """Webhook deliveries seen, so each is processed once."""

    def claim(self, source: str, delivery_id: str, expires_at: datetime) -> bool:
        """True the first time; False for a replay."""

    def release(self, source: str, delivery_id: str) -> None:
        """Forget a delivery whose processing failed, so the provider's retry is processed."""


class StatsStore(Protocol):
    """Counters per fleet in buckets of an hour, a UTC day and an 8-day span (rides, time to match, channels;
    the drivers' apart, per day and span): every write an atomic ADD to the hour, its day and its span
    together. The domain names the counters and the buckets (`ridecast.domain.stats.counters`, `.buckets`);
    `hour` is `YYYY-MM-DDTHH`."""

    def count_created(self, fleet_id: str, hour: str, counts: dict[str, int]) -> None:
        """Add to the hour's buckets, and one more matching live for the fleet."""

    def count_ended(
        self,
        fleet_id: str,
        ride_id: str,
        *,
        hour: str,
        hour_counts: dict[str, int],
        driver_counts: dict[str, int],
        version: int = 0,
        matching_round: int = 1,
    ) -> bool:
        """Add to the hour's buckets (the drivers' counts to its day and span), one fewer live matching: all at
        once and once per version of the ride. False when this version (or a later one) was counted already. A
        ride that went back to matching and ended again replaces its earlier ending's counts; the drivers'
        counts are added once per matching round."""

    def count_reopened(self, fleet_id: str, ride_id: str, *, hour: str, version: int, matching_round: int) -> bool:
        """The ride (now at `version`, in `matching_round`) is matching again (SPEC §8): take its counted
        ending out of its hour's buckets and count it live again. False when a later version was counted already."""

    def count_sends(self, fleet_id: str, hour: str, counts: dict[str, int]) -> None: ...

    def read(self, fleet_id: str, keys: Iterable[CounterKey], driver_keys: Iterable[CounterKey] = ()) -> Buckets:
        """The rides' counters of `keys` and the drivers' (`<counter>#<driver_id>`) of `driver_keys` (days and
        spans), per bucket that has any (counters at 0 left out); in one round trip."""

    def live_matchings(self, fleet_id: str) -> int:
        """Rides of the fleet matching now."""


class MatchingEngine(Protocol):
    """The matching state machine: one execution per ride, waiting on task tokens."""

    def start(self, ride_id: str, payload: dict[str, Any], matching_round: int = 1) -> None:
        """Start the execution of the ride's matching round (a second start of the same round is a no-op).
        Raises MatchingUnavailable when it cannot be started."""

    def complete_task(self, task_token: str, output: dict[str, Any]) -> bool:
        """False when the token no longer waits (the flow moved on)."""

    def fail_task(self, task_token: str, error_name: str, cause: str) -> bool: ...


class Idempotency(Protocol):
    """Creates once per client key: a retry with the same key and request gets what the first one created."""

    def ride_once(
        self, fleet_id: str, key: str, request: dict[str, Any], create: Callable[[], Ride], lambda_context: Any
    ) -> Ride:
        """The ride `create` made for this fleet's key (calling it only the first time). Raises InvalidInput
        when the key came with another request, IdempotencyRequestInFlight while the first is still running.
        `lambda_context` lets a crashed first attempt's claim expire with its invocation."""

    def batch_once(
        self,
        fleet_id: str,
        key: str,
        request: dict[str, Any],
        create: Callable[[], "BatchOutcome"],
        lambda_context: Any,
    ) -> "BatchOutcome":
        """The same for a batch of rides (POST /rides/batch): the answer `create` gave the first time."""


class SecretStore(Protocol):
    def fleet_secrets(self, fleet_id: str) -> dict[str, str]: ...

    def save_fleet_secrets(self, fleet_id: str, values: dict[str, str]) -> None:
        """Merge `values` into the fleet's secrets."""

    def root_key(self) -> str: ...

    def platform_secrets(self) -> dict[str, str]:
        """The deployment's own channels (ridecast.domain.channels.platform); empty when it has none."""


class BackgroundJobs(Protocol):
    """Work the API hands off and answers for at once (202): it runs in another invocation, not the caller's."""

    def message_drivers(self, job: dict[str, Any]) -> None:
        """Queue a message to drivers (ridecast.domain.drivers.messaging); raises BackgroundUnavailable when
        it cannot be queued."""


class OpsAlerts(Protocol):
    def publish(self, subject: str, message: str, attributes: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Stores:
    fleets: FleetStore
    api_keys: ApiKeyStore
    drivers: DriverStore
    rides: RideStore
    offers: OfferStore
    senders: SenderStore
    registrations: RegistrationStore
    deliveries: DeliveryLog
    rate_limits: RateLimitStore
    stats: StatsStore
    channel_health: ChannelHealthStore
    driver_phones: DriverPhoneIndex
    platform_chats: PlatformChatIndex


@dataclass(frozen=True)
class Ports:
    """Everything the domain reaches outside itself, handed over in one piece."""

    stores: Stores
    matching: MatchingEngine
    secrets: SecretStore
    alerts: OpsAlerts
    channels: ChannelProviders
    idempotency: Idempotency
    jobs: BackgroundJobs
