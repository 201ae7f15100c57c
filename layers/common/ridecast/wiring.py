"""TEMPORARY bridge until branch wt-repo lands `ridecast.wiring`: the real Ports over the adapters' module
functions. Replaced wholesale by the repositories' wiring at the merge."""

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError

from ridecast.adapters import alerts, dynamodb, secrets, stepfunctions
from ridecast.adapters.channels.providers import ProviderChannels
from ridecast.domain.entities import ApiKey, ApiPrincipal, Driver, Fleet, Offer, Ride
from ridecast.domain.ports import Ports, Stores
from ridecast.errors import MatchingUnavailable


class _Fleets:
    def create(self, fleet: Fleet, admin_key: ApiKey, key_hash: str) -> None:
        dynamodb.create_fleet(fleet, admin_key, key_hash)

    def get(self, fleet_id: str) -> Fleet | None:
        return dynamodb.get_fleet(fleet_id)

    def save(self, fleet: Fleet) -> None:
        dynamodb.put_fleet(fleet)

    def next_ride_sequence(self, fleet_id: str) -> int:
        return dynamodb.next_ride_sequence(fleet_id)


class _ApiKeys:
    def add(self, key: ApiKey, key_hash: str) -> None:
        dynamodb.put_api_key(key, key_hash)

    def for_fleet(self, fleet_id: str) -> list[ApiKey]:
        return dynamodb.list_api_keys(fleet_id)

    def revoke(self, fleet_id: str, key_id: str, at: datetime) -> ApiKey | None:
        return dynamodb.revoke_api_key(fleet_id, key_id, at)

    def principal_for(self, key_hash: str) -> ApiPrincipal | None:
        return dynamodb.get_api_key(key_hash)


class _Drivers:
    def create(self, driver: Driver) -> None:
        dynamodb.create_driver(driver)

    def replace(self, previous: Driver, driver: Driver) -> None:
        dynamodb.replace_driver(previous, driver)

    def get(self, fleet_id: str, driver_id: str) -> Driver | None:
        return dynamodb.get_driver(fleet_id, driver_id)

    def find_by_phone(self, fleet_id: str, phone: str) -> Driver | None:
        return dynamodb.find_driver_by_phone(fleet_id, phone)

    def find_by_chat(self, fleet_id: str, chat_id: str) -> Driver | None:
        return dynamodb.find_driver_by_chat(fleet_id, chat_id)

    def for_fleet(self, fleet_id: str) -> list[Driver]:
        return dynamodb.list_drivers(fleet_id)

    def touch(self, fleet_id: str, driver_id: str, seen_at: datetime, *, via_whatsapp: bool = False) -> None:
        dynamodb.touch_driver(fleet_id, driver_id, seen_at, via_whatsapp=via_whatsapp)

    def bind_telegram_chat(self, driver: Driver, chat_id: str) -> Driver:
        return dynamodb.bind_telegram_chat(driver, chat_id)


class _Rides:
    def add(self, ride: Ride) -> None:
        dynamodb.put_new_ride(ride)

    def get(self, ride_id: str) -> Ride | None:
        return dynamodb.get_ride(ride_id)

    def transition(self, ride: Ride, to_status: str, **fields: Any) -> Ride | None:
        return dynamodb.transition_ride(ride, to_status, **fields)

    def update_searching(
        self, ride_id: str, set_fields: dict[str, Any] | None = None, add: dict[str, int] | None = None
    ) -> Ride | None:
        return dynamodb.update_searching_ride(ride_id, set_fields, add=add)

    def add_counts(self, ride_id: str, add: dict[str, int]) -> None:
        dynamodb.add_to_ride(ride_id, add)

    def mark_escalated(self, ride_id: str, at: datetime) -> bool:
        return dynamodb.mark_escalated(ride_id, at)

    def for_fleet(
        self, fleet_id: str, status: str | None, since: datetime | None, limit: int, cursor: str | None
    ) -> tuple[list[Ride], str | None]:
        return dynamodb.list_rides(fleet_id, status, since, limit, cursor)

    def searching_past(self, deadline: datetime) -> list[str]:
        return dynamodb.rides_searching_past(deadline)


class _Offers:
    def add_many(self, offers: list[Offer]) -> None:
        dynamodb.put_offers(offers)

    def get(self, ride_id: str, driver_id: str) -> Offer | None:
        return dynamodb.get_offer(ride_id, driver_id)

    def for_ride(self, ride_id: str) -> list[Offer]:
        return dynamodb.list_offers(ride_id)

    def update(self, ride_id: str, driver_id: str, from_statuses: Iterable[str] | None, **fields: Any) -> Offer | None:
        return dynamodb.update_offer(ride_id, driver_id, from_statuses, **fields)

    def recent_for_driver(self, driver_id: str, limit: int = 20) -> list[Offer]:
        return dynamodb.recent_offers_for_driver(driver_id, limit)


class _Senders:
    def claim(self, fleet_id: str, phones: Iterable[str]) -> list[str]:
        return dynamodb.claim_senders(fleet_id, phones)

    def fleet_for(self, phone: str) -> str | None:
        return dynamodb.fleet_for_sender(phone)


class _Registrations:
    def add(self, token: str, fleet_id: str, driver_id: str, expires_at: datetime) -> None:
        dynamodb.put_registration(token, fleet_id, driver_id, expires_at)

    def consume(self, token: str, fleet_id: str, now: datetime) -> str | None:
        return dynamodb.consume_registration(token, fleet_id, now)


class _Deliveries:
    def claim(self, source: str, delivery_id: str, expires_at: datetime) -> bool:
        return dynamodb.claim_delivery(source, delivery_id, expires_at)

    def release(self, source: str, delivery_id: str) -> None:
        dynamodb.release_delivery(source, delivery_id)


class _Matching:
    def start(self, ride_id: str, payload: dict[str, Any]) -> None:
        try:
            stepfunctions.start_matching(ride_id, payload)
        except ClientError as error:
            raise MatchingUnavailable(f"matching could not start: {type(error).__name__}") from error

    def complete_task(self, task_token: str, output: dict[str, Any]) -> bool:
        return stepfunctions.complete_task(task_token, output)

    def fail_task(self, task_token: str, error_name: str, cause: str) -> bool:
        return stepfunctions.fail_task(task_token, error_name, cause)


class _Secrets:
    def fleet_secrets(self, fleet_id: str) -> dict[str, str]:
        return secrets.fleet_secrets(fleet_id)

    def save_fleet_secrets(self, fleet_id: str, values: dict[str, str]) -> None:
        secrets.save_fleet_secrets(fleet_id, values)

    def root_key(self) -> str:
        return secrets.root_key()


class _Alerts:
    def publish(self, subject: str, message: str, attributes: dict[str, Any]) -> None:
        alerts.publish(subject, message, attributes)


@lru_cache(maxsize=1)
def ports() -> Ports:
    stores = Stores(
        fleets=_Fleets(),
        api_keys=_ApiKeys(),
        drivers=_Drivers(),
        rides=_Rides(),
        offers=_Offers(),
        senders=_Senders(),
        registrations=_Registrations(),
        deliveries=_Deliveries(),
    )
    return Ports(stores=stores, matching=_Matching(), secrets=_Secrets(), alerts=_Alerts(), channels=ProviderChannels())
