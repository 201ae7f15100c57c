"""Fleets, drivers and rides for the benchmarks, whichever AWS the process's boto3 reaches (the local stack's
in-process moto, or the emulator in its own process). Imports nothing of local_stack or moto: the broadcast
worker uses it too, and must not carry their botocore hooks."""

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when called: the local stack re-imports ridecast afresh for each runtime
    from ridecast.domain.entities import Driver


class Numbers:
    """Phone numbers and Twilio sender numbers no other fleet or driver of the run has."""

    def __init__(self) -> None:
        self._phones: Iterator[int] = iter(range(10_000_000, 99_999_999))
        self._senders: Iterator[int] = iter(range(1000, 9999))

    def phone(self) -> str:
        return f"+4477{next(self._phones)}"

    def sender(self) -> int:
        return next(self._senders)


def fleet_body(
    numbers: Numbers, response_seconds: int = 30, timeout_seconds: int = 300, telegram: bool = False
) -> dict[str, Any]:
    """A fleet as POST /fleets takes it: its own Twilio account with an SMS and a WhatsApp sender, and a
    Telegram bot if asked."""
    sender = numbers.sender()
    body: dict[str, Any] = {
        "name": f"Bench fleet {sender}",
        "admin_contacts": [{"name": "Ops", "phone": numbers.phone()}],
        "settings": {
            "driver_response_seconds": response_seconds,
            "matching_timeout_seconds": timeout_seconds,
            # Load tests book far beyond a real desk's 60 rides a minute (SPEC §11 default).
            "max_rides_per_minute": 100000,
        },
        "twilio": {
            "account_sid": "AC" + f"{sender:032x}",
            "auth_token": "bench-auth-token-0123456789",
            "senders": [
                {"channel": "sms", "from": f"+1500555{sender:04d}"},
                {"channel": "whatsapp", "from": f"+1500666{sender:04d}"},
            ],
        },
    }
    if telegram:
        body["telegram"] = {
            "bot_token": f"{sender}00:bench-bot-token-abcdefghijklmnop",
            "bot_username": f"bench{sender}_bot",
            "webhook_secret": "bench-webhook-secret-0123",
        }
    return body


def write_drivers(numbers: Numbers, fleet_id: str, count: int, channels: tuple[str, ...] = ("sms",)) -> list["Driver"]:
    """Written straight to the table in batches, channels taken in turn: setting up thousands of drivers is not
    what is measured (moto copies the table for every transaction, so the API's transactional create slows
    with size)."""
    from ridecast.domain.clock import utcnow
    from ridecast.domain.entities import Driver
    from ridecast.ids import new_id
    from ridecast.repositories.items import driver_item, fleet_pk, phone_sk, telegram_chat_sk
    from ridecast.repositories.table import table

    now = utcnow()
    made = []
    with table().batch_writer() as batch:
        for index in range(count):
            channel = channels[index % len(channels)]
            chat_id = str(900_000_000 + index) if channel == "telegram" else None
            driver = Driver(
                driver_id=new_id("d"),
                fleet_id=fleet_id,
                name=f"Driver {index}",
                phone=numbers.phone(),
                channel=channel,
                telegram_chat_id=chat_id,
                created_at=now,
                updated_at=now,
                last_seen_at=now,
            )
            batch.put_item(Item=driver_item(driver))
            batch.put_item(Item={"PK": fleet_pk(fleet_id), "SK": phone_sk(driver.phone), "driver_id": driver.driver_id})
            if chat_id:
                guard = {"PK": fleet_pk(fleet_id), "SK": telegram_chat_sk(chat_id), "driver_id": driver.driver_id}
                batch.put_item(Item=guard)
            made.append(driver)
    return made


def searching_ride(numbers: Numbers, fleet_id: str) -> str:
    """A searching ride whose execution is not started: the caller runs the matching task itself."""
    from ridecast.domain.clock import utcnow
    from ridecast.domain.entities import Customer, Place, Ride
    from ridecast.ids import new_id, ride_code
    from ridecast.wiring import stores

    now = utcnow()
    ride = Ride(
        ride_id=new_id("r"),
        fleet_id=fleet_id,
        code=ride_code(stores().fleets.next_ride_sequence(fleet_id)),
        customer=Customer(name="Bench", phone=numbers.phone()),
        pickup=Place(address="1 Bench St"),
        dropoff=Place(address="2 Bench St"),
        created_at=now,
        deadline_at=now + timedelta(minutes=5),
    )
    stores().rides.add(ride)
    return ride.ride_id
