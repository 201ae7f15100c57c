"""In-memory stand-ins for every port in `ridecast.domain.ports`, for domain unit tests.

Each store keeps the semantics of its DynamoDB repository that the domain's races rely on: status and
version conditions on rides, `update_searching` only while searching, offers' `from_statuses`, claim-once
deliveries, single-use registration tokens, one driver per phone per fleet. A None value in an update
removes the field (it reads back as its default), as the repositories' update expression does.
tests/unit/repositories/test_fakes_match.py runs the same stories against both, so they cannot drift.

Stores hold and hand out copies: a test that changes a model it got back changes nothing stored.
The recorders (`RecordingMatching`, `FakeSecrets`, `RecordingAlerts`, `RecordingChannels`) keep what the domain
asked of them.
"""

import base64
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pydantic import BaseModel

from ridecast.adapters.stepfunctions import execution_name
from ridecast.domain.channels.ports import MessageEdit, OutboundEmail, OutboundMessage, SendReceipt
from ridecast.domain.entities import ApiKey, ApiPrincipal, Driver, Fleet, GeoPoint, Offer, Ride, TwilioSender
from ridecast.domain.ports import OfferChange, Ports, Stores
from ridecast.domain.rides.batch import BatchOutcome
from ridecast.domain.stats.buckets import Buckets, CounterKey, bucket_keys
from ridecast.errors import (
    BackgroundUnavailable,
    ChannelError,
    ChatAlreadyBound,
    DriverNotFound,
    DuplicatePhone,
    FleetNotFound,
    InvalidInput,
    LastAdminKey,
    MatchingUnavailable,
)
from tests.fake_channel_health import FakeChannelHealthStore, FakeDriverPhoneIndex, FakePlatformChatIndex


class AlreadyStored(Exception):
    """An id written twice where the table refuses it (ConditionalCheckFailed): a bug in the test or code."""


def _copy[M: BaseModel](model: M) -> M:
    return model.model_copy(deep=True)


def _changed[M: BaseModel](model: M, set_fields: Mapping[str, Any], add: Mapping[str, int] | None = None) -> M:
    """The model after an update: SET each field (None removes it), ADD to counters; validated like a read."""
    data = model.model_dump()
    for name, value in set_fields.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    for name, amount in (add or {}).items():
        data[name] = (data.get(name) or 0) + amount
    return type(model).model_validate(data)


# ----- fleets and keys ------------------------------------------------------------------------------


class FakeApiKeyStore:
    def __init__(self) -> None:
        self.keys_by_hash: dict[str, ApiKey] = {}
        self.hash_of: dict[tuple[str, str], str] = {}

    def add(self, key: ApiKey, key_hash: str) -> None:
        if key_hash in self.keys_by_hash or (key.fleet_id, key.key_id) in self.hash_of:
            raise AlreadyStored(f"api key {key.key_id}")
        self.keys_by_hash[key_hash] = _copy(key)
        self.hash_of[(key.fleet_id, key.key_id)] = key_hash

    def for_fleet(self, fleet_id: str) -> list[ApiKey]:
        hashes = sorted((key_id, key_hash) for (fleet, key_id), key_hash in self.hash_of.items() if fleet == fleet_id)
        return [_copy(self.keys_by_hash[key_hash]) for _, key_hash in hashes]

    def revoke(self, fleet_id: str, key_id: str, at: datetime) -> ApiKey | None:
        key_hash = self.hash_of.get((fleet_id, key_id))
        if key_hash is None:
            return None
        key = self.keys_by_hash[key_hash]
        if key.revoked_at is None and key.role == "admin" and self._active_admins(fleet_id) <= 1:
            raise LastAdminKey("a fleet keeps at least one admin key")
        if key.revoked_at is None:
            self.keys_by_hash[key_hash] = _changed(key, {"revoked_at": at})
        return _copy(self.keys_by_hash[key_hash])

    def is_revoked(self, fleet_id: str, key_id: str) -> bool:
        key_hash = self.hash_of.get((fleet_id, key_id))
        return key_hash is not None and self.keys_by_hash[key_hash].revoked_at is not None

    def _active_admins(self, fleet_id: str) -> int:
        return sum(1 for k in self.for_fleet(fleet_id) if k.role == "admin" and k.revoked_at is None)

    def principal_for(self, key_hash: str) -> ApiPrincipal | None:
        key = self.keys_by_hash.get(key_hash)
        if key is None or key.revoked_at:
            return None
        return ApiPrincipal(kind="fleet", fleet_id=key.fleet_id, role=key.role, key_id=key.key_id)


class FakeFleetStore:
    def __init__(self, api_keys: FakeApiKeyStore) -> None:
        self.fleets: dict[str, Fleet] = {}
        self.ride_sequences: dict[str, int] = {}
        self._api_keys = api_keys

    def create(self, fleet: Fleet, admin_key: ApiKey, key_hash: str) -> None:
        if fleet.fleet_id in self.fleets:
            raise AlreadyStored(f"fleet {fleet.fleet_id}")
        self._api_keys.add(admin_key, key_hash)
        self.fleets[fleet.fleet_id] = _copy(fleet)

    def get(self, fleet_id: str) -> Fleet | None:
        fleet = self.fleets.get(fleet_id)
        return _copy(fleet) if fleet else None

    def save(self, fleet: Fleet) -> None:
        stored = self.fleets.get(fleet.fleet_id)
        if stored is None:
            raise FleetNotFound(f"fleet {fleet.fleet_id} not found")
        self.fleets[fleet.fleet_id] = fleet.model_copy(deep=True, update={"dispatch_paused": stored.dispatch_paused})

    def set_dispatch_paused(self, fleet_id: str, paused: bool) -> bool:
        changed = self.dispatch_paused(fleet_id) != paused
        self.fleets[fleet_id] = _changed(self.fleets[fleet_id], {"dispatch_paused": paused})
        return changed

    def dispatch_paused(self, fleet_id: str) -> bool:
        if fleet_id not in self.fleets:
            raise FleetNotFound(f"fleet {fleet_id} not found")
        return self.fleets[fleet_id].dispatch_paused

    def record_webhook_failure(self, fleet_id: str, url: str, error: str, at: datetime) -> bool:
        fleet = self.fleets.get(fleet_id)
        if fleet is None or fleet.webhook is None or fleet.webhook.url != url:
            return False
        webhook = fleet.webhook.model_copy(
            update={"failures": fleet.webhook.failures + 1, "last_error": error, "last_failure_at": at}
        )
        self.fleets[fleet_id] = _changed(fleet, {"webhook": webhook})
        return True

    def next_ride_sequence(self, fleet_id: str) -> int:
        self.ride_sequences[fleet_id] = self.ride_sequences.get(fleet_id, 0) + 1
        return self.ride_sequences[fleet_id]

    def all(self) -> list[Fleet]:
        return [_copy(fleet) for fleet in sorted(self.fleets.values(), key=lambda f: f.fleet_id)]


# ----- drivers ------------------------------------------------------------------------------------------


class FakeDriverStore:
    def __init__(self) -> None:
        self.drivers: dict[tuple[str, str], Driver] = {}
        self.phones: dict[tuple[str, str], str] = {}
        self.chats: dict[tuple[str, str], str] = {}

    def create(self, driver: Driver) -> None:
        # Like the repository's transaction: a taken phone or a taken id both cancel it as a duplicate.
        if (driver.fleet_id, driver.phone) in self.phones or (driver.fleet_id, driver.driver_id) in self.drivers:
            raise DuplicatePhone(f"a driver with phone {driver.phone} already exists in this fleet")
        self.phones[(driver.fleet_id, driver.phone)] = driver.driver_id
        self.drivers[(driver.fleet_id, driver.driver_id)] = _copy(driver)

    def replace(self, previous: Driver, driver: Driver) -> None:
        if previous.phone == driver.phone:
            if (driver.fleet_id, driver.driver_id) not in self.drivers:
                raise DriverNotFound(f"driver {driver.driver_id} not found")
        else:
            if (driver.fleet_id, driver.phone) in self.phones:
                raise DuplicatePhone(f"a driver with phone {driver.phone} already exists in this fleet")
            self.phones.pop((driver.fleet_id, previous.phone), None)
            self.phones[(driver.fleet_id, driver.phone)] = driver.driver_id
        self.drivers[(driver.fleet_id, driver.driver_id)] = _copy(driver)

    def get(self, fleet_id: str, driver_id: str) -> Driver | None:
        driver = self.drivers.get((fleet_id, driver_id))
        return _copy(driver) if driver else None

    def find_by_phone(self, fleet_id: str, phone: str) -> Driver | None:
        driver_id = self.phones.get((fleet_id, phone))
        return self.get(fleet_id, driver_id) if driver_id else None

    def find_by_chat(self, fleet_id: str, chat_id: str) -> Driver | None:
        driver_id = self.chats.get((fleet_id, chat_id))
        return self.get(fleet_id, driver_id) if driver_id else None

    def for_fleet(self, fleet_id: str) -> list[Driver]:
        return [_copy(d) for (fleet, _), d in sorted(self.drivers.items()) if fleet == fleet_id]

    def names(self, fleet_id: str) -> dict[str, str]:
        return {d.driver_id: d.name for (fleet, _), d in self.drivers.items() if fleet == fleet_id}

    def touch(self, fleet_id: str, driver_id: str, seen_at: datetime, *, via_whatsapp: bool = False) -> None:
        driver = self.drivers.get((fleet_id, driver_id))
        if driver is None:
            raise DriverNotFound(f"driver {driver_id} not found")
        seen: dict[str, Any] = {"last_seen_at": seen_at}
        if via_whatsapp:
            seen["last_whatsapp_inbound_at"] = seen_at
        self.drivers[(fleet_id, driver_id)] = _changed(driver, seen)

    def locate(self, fleet_id: str, driver_id: str, location: GeoPoint, seen_at: datetime) -> None:
        driver = self.drivers.get((fleet_id, driver_id))
        if driver is None:
            raise DriverNotFound(f"driver {driver_id} not found")
        located = {"location": location, "location_at": seen_at, "last_seen_at": seen_at}
        self.drivers[(fleet_id, driver_id)] = _changed(driver, located)

    def bind_telegram_chat(self, driver: Driver, chat_id: str) -> Driver:
        bound = driver.model_copy(update={"telegram_chat_id": chat_id})
        if self.chats.get((driver.fleet_id, chat_id), driver.driver_id) != driver.driver_id:
            raise ChatAlreadyBound(f"telegram chat {chat_id} is bound to another driver")
        self.chats[(driver.fleet_id, chat_id)] = driver.driver_id
        if driver.telegram_chat_id and driver.telegram_chat_id != chat_id:
            self.chats.pop((driver.fleet_id, driver.telegram_chat_id), None)
        self.drivers[(driver.fleet_id, driver.driver_id)] = _copy(bound)
        return _copy(bound)


# ----- rides and offers -----------------------------------------------------------------------------------


def _listing_key(ride: Ride) -> str:
    """The repository's GSI1 sort key: rides list newest first, by this string."""
    return f"{ride.created_at.isoformat()}#{ride.ride_id}"


def _not_a_cursor() -> InvalidInput:
    return InvalidInput("next: not a cursor returned by this API", field="next")


class FakeRideStore:
    def __init__(self) -> None:
        self.rides: dict[str, Ride] = {}
        # (fleet_id, created_at#ride_id): the repository's HELD# items under the fleet, in key order.
        self.held_list: set[tuple[str, str]] = set()

    def add(self, ride: Ride) -> None:
        if ride.ride_id in self.rides:
            raise AlreadyStored(f"ride {ride.ride_id}")
        self.rides[ride.ride_id] = _copy(ride)

    def get(self, ride_id: str) -> Ride | None:
        ride = self.rides.get(ride_id)
        return _copy(ride) if ride else None

    def transition(self, ride: Ride, to_status: str, **fields: Any) -> Ride | None:
        stored = self.rides.get(ride.ride_id)
        if stored is None or (stored.status, stored.version) != (ride.status, ride.version):
            return None
        return self._save(_changed(stored, {"status": to_status, "held_at": None, **fields}, {"version": 1}))

    def update_searching(
        self,
        ride_id: str,
        set_fields: dict[str, Any] | None = None,
        add: dict[str, int] | None = None,
        only_round: int | None = None,
    ) -> Ride | None:
        stored = self.rides.get(ride_id)
        if stored is None or stored.status != "searching":
            return None
        if only_round is not None and stored.matching_round != only_round:
            return None
        return self._save(_changed(stored, set_fields or {}, add))

    def add_counts(self, ride_id: str, add: dict[str, int]) -> None:
        stored = self.rides.get(ride_id)
        if stored is not None:
            self._save(_changed(stored, {}, add))

    def mark_escalated(self, ride_id: str, at: datetime) -> bool:
        stored = self.rides.get(ride_id)
        if stored is None or stored.escalated_at is not None:
            return False
        self._save(_changed(stored, {"escalated_at": at}))
        return True

    def for_fleet(
        self, fleet_id: str, status: str | None, since: datetime | None, limit: int, cursor: str | None
    ) -> tuple[list[Ride], str | None]:
        """Like the repository, except that the last page has no cursor even when it is exactly full (the
        repository may hand out one more cursor, to an empty page)."""
        since_key = ""
        if since is not None:
            since_key = (since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)).isoformat()
        newest_first = sorted(
            (r for r in self.rides.values() if r.fleet_id == fleet_id and _listing_key(r) >= since_key),
            key=_listing_key,
            reverse=True,
        )
        after = self._decode_cursor(cursor, fleet_id)
        matching = [
            r for r in newest_first if (after is None or _listing_key(r) < after) and (not status or r.status == status)
        ]
        page = matching[:limit]
        more = len(matching) > limit
        return [_copy(r) for r in page], self._encode_cursor(fleet_id, _listing_key(page[-1])) if more else None

    def searching_past(self, deadline: datetime) -> list[str]:
        stuck = (r for r in self.rides.values() if r.status == "searching" and r.held_at is None)
        by_deadline = sorted(stuck, key=lambda r: r.deadline_at.isoformat())
        return [r.ride_id for r in by_deadline if r.deadline_at.isoformat() < deadline.isoformat()]

    def hold(self, ride: Ride, task_token: str, at: datetime) -> bool:
        stored = self.rides.get(ride.ride_id)
        if stored is None or stored.status != "searching":
            return False
        self._save(_changed(stored, {"task_token": task_token, "held_at": stored.held_at or at}))
        self.held_list.add((stored.fleet_id, _listing_key(stored)))
        return True

    def held(self, fleet_id: str) -> list[str]:
        return [key.rsplit("#", 1)[1] for fleet, key in sorted(self.held_list) if fleet == fleet_id]

    def release(self, ride: Ride, deadline_at: datetime) -> Ride | None:
        self.unlist_held(ride)
        stored = self.rides.get(ride.ride_id)
        if stored is None or stored.status != "searching" or stored.held_at is None:
            return None
        return self._save(_changed(stored, {"deadline_at": deadline_at, "held_at": None}))

    def unlist_held(self, ride: Ride) -> None:
        self.held_list.discard((ride.fleet_id, _listing_key(ride)))

    def _save(self, ride: Ride) -> Ride:
        self.rides[ride.ride_id] = ride
        return _copy(ride)

    @staticmethod
    def _encode_cursor(fleet_id: str, after: str) -> str:
        return base64.urlsafe_b64encode(json.dumps({"fleet": fleet_id, "after": after}).encode()).decode()

    @staticmethod
    def _decode_cursor(cursor: str | None, fleet_id: str) -> str | None:
        if not cursor:
            return None
        try:
            decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        except (ValueError, UnicodeDecodeError) as error:
            raise _not_a_cursor() from error
        if (
            not isinstance(decoded, dict)
            or decoded.get("fleet") != fleet_id
            or not isinstance(decoded.get("after"), str)
        ):
            raise _not_a_cursor()
        after: str = decoded["after"]
        return after


class FakeOfferStore:
    def __init__(self) -> None:
        self.offers: dict[tuple[str, str], Offer] = {}

    def add_many(self, offers: list[Offer]) -> None:
        for offer in offers:
            self.offers[(offer.ride_id, offer.driver_id)] = _copy(offer)

    def get(self, ride_id: str, driver_id: str) -> Offer | None:
        offer = self.offers.get((ride_id, driver_id))
        return _copy(offer) if offer else None

    def for_ride(self, ride_id: str) -> list[Offer]:
        return [_copy(o) for (ride, _), o in sorted(self.offers.items()) if ride == ride_id]

    def update(self, ride_id: str, driver_id: str, from_statuses: Iterable[str] | None, **fields: Any) -> Offer | None:
        stored = self.offers.get((ride_id, driver_id))
        if stored is None or (from_statuses is not None and stored.status not in set(from_statuses)):
            return None
        updated = _changed(stored, fields)
        self.offers[(ride_id, driver_id)] = updated
        return _copy(updated)

    def update_many(self, changes: list[OfferChange]) -> None:
        for change in changes:
            only_from = None if change.only_from is None else {change.only_from}
            self.update(change.ride_id, change.driver_id, only_from, **change.fields)

    def recent_for_driver(self, driver_id: str, limit: int = 20) -> list[Offer]:
        theirs = (o for o in self.offers.values() if o.driver_id == driver_id)
        return [_copy(o) for o in sorted(theirs, key=lambda o: o.sent_at.isoformat(), reverse=True)[:limit]]


# ----- channels -------------------------------------------------------------------------------------------


class FakeSenderStore:
    def __init__(self) -> None:
        self.owners: dict[str, str] = {}

    def claim(self, fleet_id: str, phones: Iterable[str]) -> list[str]:
        wanted = list(phones)
        taken = [phone for phone in wanted if self.owners.get(phone, fleet_id) != fleet_id]
        if not taken:
            self.owners.update(dict.fromkeys(wanted, fleet_id))
        return taken

    def release(self, fleet_id: str, phones: Iterable[str]) -> None:
        for phone in phones:
            if self.owners.get(phone) == fleet_id:
                del self.owners[phone]

    def fleet_for(self, phone: str) -> str | None:
        return self.owners.get(phone)


class Registration(NamedTuple):
    fleet_id: str
    driver_id: str
    expires_at: int  # epoch seconds, as the table's TTL attribute holds it


class FakeRegistrationStore:
    def __init__(self) -> None:
        self.tokens: dict[str, Registration] = {}

    def add(self, token: str, fleet_id: str, driver_id: str, expires_at: datetime) -> None:
        if token in self.tokens:
            raise AlreadyStored(f"registration token {token}")
        self.tokens[token] = Registration(fleet_id, driver_id, int(expires_at.timestamp()))

    def fleet_of(self, token: str) -> str | None:
        registration = self.tokens.get(token)
        return registration.fleet_id if registration else None

    def consume(self, token: str, fleet_id: str, now: datetime) -> str | None:
        registration = self.tokens.get(token)
        if registration is None or registration.fleet_id != fleet_id or registration.expires_at <= int(now.timestamp()):
            return None
        del self.tokens[token]
        return registration.driver_id


class FakeDeliveryLog:
    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], datetime] = {}

    def claim(self, source: str, delivery_id: str, expires_at: datetime) -> bool:
        if (source, delivery_id) in self.seen:
            return False
        self.seen[(source, delivery_id)] = expires_at
        return True

    def release(self, source: str, delivery_id: str) -> None:
        self.seen.pop((source, delivery_id), None)


# ----- the other ports: recorders ---------------------------------------------------------------------------


class FakeRateLimitStore:
    """Counters per key and fixed window, as the repository keeps them (window starts on epoch multiples)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, int, int], int] = {}

    @staticmethod
    def _window(now: datetime, window_seconds: int) -> int:
        epoch = int(now.timestamp())
        return epoch - epoch % window_seconds

    def take(self, key: str, limit: int, window_seconds: int, now: datetime) -> int | None:
        start = self._window(now, window_seconds)
        used = self.counts.get((key, window_seconds, start), 0)
        if used >= limit:
            return max(1, start + window_seconds - int(now.timestamp()))
        self.counts[(key, window_seconds, start)] = used + 1
        return None

    def used(self, key: str, window_seconds: int, now: datetime) -> int:
        return self.counts.get((key, window_seconds, self._window(now, window_seconds)), 0)


class StatsMarker(NamedTuple):
    version: int
    matching_round: int
    ended: bool
    counts: dict[str, int]


class FakeStatsStore:
    """Counters in dicts per bucket (unpacked); the same once-per-ride rule for endings as the repository's marker."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, CounterKey | str], dict[str, int]] = {}
        self.drivers: dict[tuple[str, CounterKey], dict[str, int]] = {}
        self.markers: dict[str, StatsMarker] = {}

    def _add(self, fleet_id: str, key: CounterKey | str, counts: dict[str, int]) -> None:
        item = self.items.setdefault((fleet_id, key), {})
        for name, amount in counts.items():
            item[name] = item.get(name, 0) + amount

    def _add_buckets(self, fleet_id: str, hour: str, counts: dict[str, int]) -> None:
        for key in bucket_keys(hour):
            self._add(fleet_id, key, counts)

    def count_created(self, fleet_id: str, hour: str, counts: dict[str, int]) -> None:
        self._add_buckets(fleet_id, hour, counts)
        self._add(fleet_id, "LIVE", {"matching": 1})

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
        marker = self.markers.get(ride_id)
        if marker is not None and marker.version >= version:
            return False
        previous = marker.counts if marker is not None and marker.ended else {}
        diff = {k: hour_counts.get(k, 0) - previous.get(k, 0) for k in {*hour_counts, *previous}}
        self._add_buckets(fleet_id, hour, {k: v for k, v in diff.items() if v})
        if marker is None or marker.matching_round < matching_round:
            for key in bucket_keys(hour)[1:]:  # the day and the span
                item = self.drivers.setdefault((fleet_id, key), {})
                for name, amount in driver_counts.items():
                    item[name] = item.get(name, 0) + amount
        if marker is None or not marker.ended:
            self._add(fleet_id, "LIVE", {"matching": -1})
        self.markers[ride_id] = StatsMarker(version, matching_round, True, dict(hour_counts))
        return True

    def count_reopened(self, fleet_id: str, ride_id: str, *, hour: str, version: int, matching_round: int) -> bool:
        marker = self.markers.get(ride_id)
        if marker is not None and marker.version >= version:
            return False
        if marker is not None and marker.ended:
            self._add_buckets(fleet_id, hour, {k: -v for k, v in marker.counts.items() if v})
            self._add(fleet_id, "LIVE", {"matching": 1})
        self.markers[ride_id] = StatsMarker(version, matching_round - 1, False, {})
        return True

    def count_sends(self, fleet_id: str, hour: str, counts: dict[str, int]) -> None:
        self._add_buckets(fleet_id, hour, counts)

    def read(self, fleet_id: str, keys: Iterable[CounterKey], driver_keys: Iterable[CounterKey] = ()) -> Buckets:
        def found(
            items: Mapping[tuple[str, Any], dict[str, int]], wanted: Iterable[CounterKey]
        ) -> dict[CounterKey, dict[str, int]]:
            buckets = {key: {k: v for k, v in items.get((fleet_id, key), {}).items() if v} for key in wanted}
            return {key: counters for key, counters in buckets.items() if counters}

        return Buckets(found(self.items, keys), found(self.drivers, driver_keys))

    def live_matchings(self, fleet_id: str) -> int:
        return max(0, self.items.get((fleet_id, "LIVE"), {}).get("matching", 0))


class TaskFailure(NamedTuple):
    task_token: str
    error_name: str
    cause: str


@dataclass
class RecordingMatching:
    """Executions started and task tokens answered. `unavailable` makes `start` fail as the real one does
    when Step Functions refuses; a token in `settled_tokens` no longer waits (answered here, or put there by
    a test to play a task that timed out)."""

    started: dict[str, dict[str, Any]] = field(default_factory=dict)
    completed: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, TaskFailure] = field(default_factory=dict)
    settled_tokens: set[str] = field(default_factory=set)
    unavailable: bool = False

    def start(self, ride_id: str, payload: dict[str, Any], matching_round: int = 1) -> None:
        if self.unavailable:
            raise MatchingUnavailable(f"matching could not start for ride {ride_id}")
        self.started.setdefault(execution_name(ride_id, matching_round), dict(payload))

    def complete_task(self, task_token: str, output: dict[str, Any]) -> bool:
        if not self._settle(task_token):
            return False
        self.completed[task_token] = dict(output)
        return True

    def fail_task(self, task_token: str, error_name: str, cause: str) -> bool:
        if not self._settle(task_token):
            return False
        self.failed[task_token] = TaskFailure(task_token, error_name, cause)
        return True

    def _settle(self, task_token: str) -> bool:
        """True for the first answer to a token: a waiting task takes one answer."""
        if task_token in self.settled_tokens:
            return False
        self.settled_tokens.add(task_token)
        return True


@dataclass
class FakeSecrets:
    fleets: dict[str, dict[str, str]] = field(default_factory=dict)
    root: str = "test-root-key-0123456789"
    platform: dict[str, str] = field(default_factory=dict)

    def fleet_secrets(self, fleet_id: str) -> dict[str, str]:
        return dict(self.fleets.get(fleet_id, {}))

    def save_fleet_secrets(self, fleet_id: str, values: dict[str, str]) -> None:
        self.fleets[fleet_id] = {**self.fleets.get(fleet_id, {}), **values}

    def root_key(self) -> str:
        return self.root

    def platform_secrets(self) -> dict[str, str]:
        return dict(self.platform)


class Alert(NamedTuple):
    subject: str
    message: str
    attributes: dict[str, Any]


@dataclass
class RecordingAlerts:
    published: list[Alert] = field(default_factory=list)

    def publish(self, subject: str, message: str, attributes: dict[str, Any]) -> None:
        self.published.append(Alert(subject, message, dict(attributes)))


@dataclass
class FakeIdempotency:
    """One ride per fleet and key; the same key with another request is refused as the real one refuses it."""

    rides: dict[tuple[str, str], tuple[dict[str, Any], Ride]] = field(default_factory=dict)
    batches: dict[tuple[str, str], tuple[dict[str, Any], BatchOutcome]] = field(default_factory=dict)

    def ride_once(
        self, fleet_id: str, key: str, request: dict[str, Any], create: Callable[[], Ride], lambda_context: Any
    ) -> Ride:
        if (fleet_id, key) in self.rides:
            first_request, ride = self.rides[(fleet_id, key)]
            if first_request != request:
                raise InvalidInput("Idempotency-Key: already used with a different ride request")
            return _copy(ride)
        ride = create()
        self.rides[(fleet_id, key)] = (dict(request), _copy(ride))
        return ride

    def batch_once(
        self,
        fleet_id: str,
        key: str,
        request: dict[str, Any],
        create: Callable[[], BatchOutcome],
        lambda_context: Any,
    ) -> BatchOutcome:
        if (fleet_id, key) in self.batches:
            first_request, outcome = self.batches[(fleet_id, key)]
            if first_request != request:
                raise InvalidInput("Idempotency-Key: already used with a different ride request")
            return outcome.model_copy(deep=True)
        outcome = create()
        self.batches[(fleet_id, key)] = (dict(request), outcome.model_copy(deep=True))
        return outcome


class Edit(NamedTuple):
    chat_id: str
    message_id: str
    text: str


@dataclass
class RecordingChannels:
    """Every provider of every fleet in one outbox: `sent` in order, Telegram edits and button answers apart.
    A provider named in `down` ("telegram", "twilio", "email") refuses every call, as the local stand-ins do."""

    sent: list[OutboundMessage] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    callback_answers: list[tuple[str, str]] = field(default_factory=list)
    down: set[str] = field(default_factory=set)
    emails: list[tuple[str, OutboundEmail]] = field(default_factory=list)  # (sender, message)
    batches: list[tuple[str, int]] = field(default_factory=list)  # (provider, messages) per send_many

    def email(self) -> "RecordingEmail":
        return RecordingEmail(self)

    def telegram(self, bot_token: str) -> "RecordingTelegramBot":
        return RecordingTelegramBot(self)

    def twilio(self, account_sid: str, auth_token: str, senders: Sequence[TwilioSender]) -> "RecordingTwilio":
        return RecordingTwilio(self)

    def to(self, address: str) -> list[str]:
        """The bodies sent to a phone or chat id, oldest first."""
        return [m.body for m in self.sent if m.to == address]

    def record(self, provider: str, message: OutboundMessage) -> SendReceipt:
        if provider in self.down:
            raise ChannelError(f"{provider} is down", retryable=True)
        self.sent.append(message)
        return SendReceipt(
            provider_message_id=f"m{len(self.sent)}", chat_id=message.to if provider == "telegram" else None
        )


def each_outcome[M, R](send: Callable[[M], R], messages: Sequence[M]) -> list[R | ChannelError]:
    """What an adapter's send_many (or edit_many) answers: each message's outcome or refusal, in order."""
    outcomes: list[R | ChannelError] = []
    for message in messages:
        try:
            outcomes.append(send(message))
        except ChannelError as error:
            outcomes.append(error)
    return outcomes


@dataclass
class RecordingTelegramBot:
    outbox: RecordingChannels
    provider = "telegram"

    def send(self, message: OutboundMessage) -> SendReceipt:
        return self.outbox.record("telegram", message)

    def send_many(self, messages: Sequence[OutboundMessage]) -> list[SendReceipt | ChannelError]:
        self.outbox.batches.append((self.provider, len(messages)))
        return each_outcome(self.send, messages)

    def probe(self) -> None:
        if "telegram" in self.outbox.down:
            raise ChannelError("telegram is down", retryable=True)

    def edit(self, chat_id: str, message_id: str, text: str) -> None:
        if "telegram" in self.outbox.down:
            raise ChannelError("telegram is down", retryable=True)
        self.outbox.edits.append(Edit(chat_id, message_id, text))

    def edit_many(self, edits: Sequence[MessageEdit]) -> list[ChannelError | None]:
        self.outbox.batches.append(("telegram edits", len(edits)))
        return each_outcome(lambda e: self.edit(*e), edits)

    def answer_callback(self, callback_query_id: str, text: str) -> None:
        self.outbox.callback_answers.append((callback_query_id, text))


@dataclass
class RecordingEmail:
    outbox: RecordingChannels

    def send(self, sender: str, message: OutboundEmail) -> str:
        if "email" in self.outbox.down:
            raise ChannelError("email is down", retryable=True)
        self.outbox.emails.append((sender, message))
        return f"e{len(self.outbox.emails)}"


@dataclass
class RecordingTwilio:
    outbox: RecordingChannels
    provider = "twilio"

    def send(self, message: OutboundMessage) -> SendReceipt:
        return self.outbox.record("twilio", message)

    def send_many(self, messages: Sequence[OutboundMessage]) -> list[SendReceipt | ChannelError]:
        self.outbox.batches.append((self.provider, len(messages)))
        return each_outcome(self.send, messages)

    def probe(self) -> None:
        if "twilio" in self.outbox.down:
            raise ChannelError("twilio is down", retryable=True)


@dataclass
class RecordingJobs:
    """Background work handed off, in order; a test runs it (or not) when it likes, as Lambda would later."""

    driver_messages: list[dict[str, Any]] = field(default_factory=list)
    unavailable: bool = False

    def message_drivers(self, job: dict[str, Any]) -> None:
        if self.unavailable:
            raise BackgroundUnavailable("the message could not be queued")
        self.driver_messages.append(json.loads(json.dumps(job)))  # an event is JSON


# ----- all of them at once ---------------------------------------------------------------------------------


@dataclass
class Fakes:
    """One of each fake, typed as itself so a test can look inside; `ports` is what the domain receives."""

    api_keys: FakeApiKeyStore = field(default_factory=FakeApiKeyStore)
    drivers: FakeDriverStore = field(default_factory=FakeDriverStore)
    rides: FakeRideStore = field(default_factory=FakeRideStore)
    offers: FakeOfferStore = field(default_factory=FakeOfferStore)
    senders: FakeSenderStore = field(default_factory=FakeSenderStore)
    registrations: FakeRegistrationStore = field(default_factory=FakeRegistrationStore)
    deliveries: FakeDeliveryLog = field(default_factory=FakeDeliveryLog)
    rate_limits: FakeRateLimitStore = field(default_factory=FakeRateLimitStore)
    stats: FakeStatsStore = field(default_factory=FakeStatsStore)
    matching: RecordingMatching = field(default_factory=RecordingMatching)
    secrets: FakeSecrets = field(default_factory=FakeSecrets)
    alerts: RecordingAlerts = field(default_factory=RecordingAlerts)
    channels: RecordingChannels = field(default_factory=RecordingChannels)
    idempotency: FakeIdempotency = field(default_factory=FakeIdempotency)
    channel_health: FakeChannelHealthStore = field(default_factory=FakeChannelHealthStore)
    driver_phones: FakeDriverPhoneIndex = field(default_factory=FakeDriverPhoneIndex)
    platform_chats: FakePlatformChatIndex = field(default_factory=FakePlatformChatIndex)
    jobs: RecordingJobs = field(default_factory=RecordingJobs)
    fleets: FakeFleetStore = field(init=False)

    def __post_init__(self) -> None:
        # A fleet is created with its first admin key: both stores must see it.
        self.fleets = FakeFleetStore(self.api_keys)

    @property
    def stores(self) -> Stores:
        return Stores(
            fleets=self.fleets,
            api_keys=self.api_keys,
            drivers=self.drivers,
            rides=self.rides,
            offers=self.offers,
            senders=self.senders,
            registrations=self.registrations,
            deliveries=self.deliveries,
            rate_limits=self.rate_limits,
            stats=self.stats,
            channel_health=self.channel_health,
            driver_phones=self.driver_phones,
            platform_chats=self.platform_chats,
        )

    @property
    def ports(self) -> Ports:
        return Ports(
            stores=self.stores,
            matching=self.matching,
            secrets=self.secrets,
            alerts=self.alerts,
            channels=self.channels,
            idempotency=self.idempotency,
            jobs=self.jobs,
        )
