"""Domain objects for repository tests, numbered so a test can make many that differ."""

from datetime import UTC, datetime, timedelta
from typing import Any

from ridecast.domain.entities import ApiKey, Customer, Driver, Fleet, Offer, Place, Ride

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def a_fleet(fleet_id: str = "f1", **fields: Any) -> Fleet:
    return Fleet.model_validate(
        {"fleet_id": fleet_id, "name": "Northside Cabs", "created_at": NOW, "updated_at": NOW} | fields
    )


def an_api_key(fleet_id: str, key_id: str = "k1", role: str = "admin") -> ApiKey:
    return ApiKey.model_validate({"key_id": key_id, "fleet_id": fleet_id, "role": role, "created_at": NOW})


def a_driver(fleet_id: str, number: int, phone: str | None = None) -> Driver:
    return Driver(
        driver_id=f"d{number:012d}",
        fleet_id=fleet_id,
        name=f"Driver {number}",
        phone=phone or f"+4477009{number:05d}",
        channel="sms",
        created_at=NOW,
        updated_at=NOW,
    )


def a_ride(fleet_id: str, number: int, *, status: str = "searching", created_at: datetime = NOW, **fields: Any) -> Ride:
    values: dict[str, Any] = {
        "ride_id": f"r{fleet_id[-4:]}{number:08d}",
        "fleet_id": fleet_id,
        "code": f"R-{number:05d}",
        "status": status,
        "customer": Customer(name="Dana", phone="+447700900123"),
        "pickup": Place(address="A"),
        "dropoff": Place(address="B"),
        "created_at": created_at,
        "deadline_at": created_at + timedelta(minutes=5),
    }
    return Ride.model_validate(values | fields)


def an_offer(ride: Ride, driver_id: str, status: str = "sent", sent_at: datetime = NOW) -> Offer:
    return Offer.model_validate(
        {
            "ride_id": ride.ride_id,
            "driver_id": driver_id,
            "fleet_id": ride.fleet_id,
            "secret": "s3cr3t-s3cr3t-s3cr3t",
            "channel": "sms",
            "status": status,
            "sent_at": sent_at,
        }
    )
