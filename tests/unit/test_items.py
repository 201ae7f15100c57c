"""Domain objects to DynamoDB items and back (ridecast.repositories.items): nothing lost, keys as documented."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import BaseModel

from ridecast.domain.entities import (
    AdminContact,
    Customer,
    Driver,
    Fleet,
    FleetSettings,
    Offer,
    Place,
    Ride,
    TelegramConfig,
    TwilioConfig,
    TwilioSender,
    Vehicle,
)
from ridecast.repositories import items

NOW = datetime(2025, 3, 14, 9, 30, 15, 123456, tzinfo=UTC)

FLEET = Fleet(
    fleet_id="f4x9k2m7q3t8w",
    name="Northside Cabs",
    timezone="Europe/London",
    language="fr",
    admin_contacts=[
        AdminContact(name="Priya", phone="+447700900001"),
        AdminContact(name="Desk", telegram_chat_id="-100"),
    ],
    settings=FleetSettings(driver_response_seconds=20, matching_timeout_seconds=120, low_availability_threshold=3),
    twilio=TwilioConfig(
        account_sid="AC" + "0123456789abcdef" * 2,
        senders=[TwilioSender(channel="sms", **{"from": "+15005550006"})],
    ),
    telegram=TelegramConfig(bot_username="northside_cabs_bot"),
    dispatch_paused=True,
    created_at=NOW,
    updated_at=NOW + timedelta(hours=1),
)
DRIVER = Driver(
    driver_id="d8h2n5r1v6z3c",
    fleet_id=FLEET.fleet_id,
    name="Amira Haddad",
    phone="+447700900456",
    channel="telegram",
    vehicle=Vehicle(type="Sedan", plate="RC21 XYZ"),
    rating=4.75,
    status="inactive",
    telegram_chat_id="734201958",
    last_seen_at=NOW,
    created_at=NOW,
    updated_at=NOW,
)
RIDE = Ride(
    ride_id="r5b7e2j9p4s6y",
    fleet_id=FLEET.fleet_id,
    code="R-7K3QX",
    version=3,
    customer=Customer(name="Dana Levi", phone="+447700900123"),
    pickup=Place(address="King's Cross", lat=51.5308, lng=-0.1238),
    dropoff=Place(address="Heathrow T5"),
    pickup_time=NOW + timedelta(minutes=30),
    price=62.5,
    notes="Two suitcases",
    created_at=NOW,
    deadline_at=NOW + timedelta(minutes=5),
    wave=2,
    drivers_notified=12,
    drivers_responded=3,
    drivers_declined=2,
    task_token="AQCEAAAAKgAAAA==",
    created_by="k1a2b3c4d5e6f",
)
OFFER = Offer(
    ride_id=RIDE.ride_id,
    driver_id=DRIVER.driver_id,
    fleet_id=FLEET.fleet_id,
    secret="Qm9vS2VlcC1PZmZlci0xMg",
    channel="telegram",
    status="rejected",
    wave=2,
    reminders=1,
    sent_at=NOW,
    responded_at=NOW + timedelta(seconds=7.25),
    response_seconds=7.25,
    provider_message_id="2741",
    provider_chat_id="734201958",
)


def _through_dynamodb(item: dict[str, Any]) -> dict[str, Any]:
    """What a GetItem gives back: the item as DynamoDB stores it (fails on floats, as boto3 would)."""
    serializer, deserializer = TypeSerializer(), TypeDeserializer()
    stored = {key: serializer.serialize(value) for key, value in item.items()}
    return {key: deserializer.deserialize(value) for key, value in stored.items()}


@pytest.mark.parametrize(
    ("model", "item_of"),
    [
        (FLEET, items.fleet_item),
        (DRIVER, items.driver_item),
        (RIDE, items.ride_item),
        (RIDE.model_copy(update={"status": "assigned", "driver_id": DRIVER.driver_id}), items.ride_item),
        (OFFER, items.offer_item),
    ],
    ids=["fleet", "driver", "searching ride", "assigned ride", "offer"],
)
def test_item_round_trip_gives_back_an_equal_model(model: BaseModel, item_of: Any) -> None:
    # Given a domain object with every optional field set
    # When it is written as an item, stored, read back and mapped to the model again
    read_back = items.from_item(type(model), _through_dynamodb(item_of(model)))
    # Then nothing was lost or changed
    assert read_back == model


def test_minimal_ride_round_trips_without_optional_fields() -> None:
    bare = Ride(
        ride_id="r1",
        fleet_id="f1",
        code="R-00001",
        customer=Customer(name="A", phone="+447700900123"),
        pickup=Place(address="a"),
        dropoff=Place(address="b"),
        created_at=NOW,
        deadline_at=NOW,
    )
    item = items.ride_item(bare)
    # None fields are left out instead of being written as NULLs
    assert "driver_id" not in item
    assert "price" not in item
    assert items.from_item(Ride, _through_dynamodb(item)) == bare


def test_keys_follow_the_single_table_layout() -> None:
    assert items.fleet_item(FLEET)["PK"] == "FLEET#f4x9k2m7q3t8w"
    assert items.fleet_item(FLEET)["SK"] == "META"
    driver = items.driver_item(DRIVER)
    assert (driver["PK"], driver["SK"]) == ("FLEET#f4x9k2m7q3t8w", "DRIVER#d8h2n5r1v6z3c")
    offer = items.offer_item(OFFER)
    assert (offer["PK"], offer["SK"]) == ("RIDE#r5b7e2j9p4s6y", "OFFER#d8h2n5r1v6z3c")
    assert (offer["GSI1PK"], offer["GSI1SK"]) == ("DRIVER#d8h2n5r1v6z3c#OFFERS", NOW.isoformat())
    ride = items.ride_item(RIDE)
    assert (ride["PK"], ride["SK"]) == ("RIDE#r5b7e2j9p4s6y", "META")
    assert ride["GSI1PK"] == "FLEET#f4x9k2m7q3t8w#RIDES"
    assert ride["GSI1SK"] == f"{NOW.isoformat()}#r5b7e2j9p4s6y"


def test_a_searching_ride_is_on_the_searching_index_by_deadline() -> None:
    item = items.ride_item(RIDE)
    assert item["GSI2PK"] == items.SEARCHING_INDEX_PK
    assert item["GSI2SK"] == RIDE.deadline_at.isoformat()


@pytest.mark.parametrize("status", ["assigned", "timed_out", "cancelled", "failed"])
def test_an_ended_ride_is_not_on_the_searching_index(status: str) -> None:
    # The sweeper reads GSI2: a settled ride there would be "settled" again every minute
    item = items.ride_item(RIDE.model_copy(update={"status": status}))
    assert "GSI2PK" not in item
    assert "GSI2SK" not in item


def test_floats_become_decimals_as_dynamodb_requires() -> None:
    attributes = items.to_attributes(RIDE)
    assert str(attributes["price"]) == "62.5"
    assert type(attributes["price"]).__name__ == "Decimal"
    assert type(attributes["pickup"]["lat"]).__name__ == "Decimal"


def test_twilio_sender_keeps_its_wire_name() -> None:
    # The API field is `from`; the item must store it under the same name so it reads back
    assert items.to_attributes(FLEET)["twilio"]["senders"] == [{"channel": "sms", "from": "+15005550006"}]
