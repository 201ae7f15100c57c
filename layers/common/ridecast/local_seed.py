"""The demo fleet of the local stack (SPEC §2), created through the same domain code as the API.

The credentials below are local stand-in values: they only ever reach the loopback fake providers.
"""

from typing import Any

from ridecast.domain import drivers, fleets
from ridecast.models.api import CreateDriverRequest, CreateFleetRequest, TelegramInput, TwilioInput
from ridecast.models.domain import AdminContact, FleetSettings, TwilioSender, Vehicle

DEMO_TWILIO_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEMO_TWILIO_AUTH_TOKEN = "local-twilio-auth-token"
DEMO_SMS_SENDER = "+15005550006"
DEMO_WHATSAPP_SENDER = "+15005550007"
DEMO_TELEGRAM_BOT_TOKEN = "100000001:LOCAL-demo-bot-token-not-real-xyz"
DEMO_TELEGRAM_WEBHOOK_SECRET = "local-telegram-webhook-secret"
DEMO_ADMIN_PHONE = "+15550009999"
VEHICLES = (
    ("Sedan", "RC-101"),
    ("Estate", "RC-202"),
    ("MPV", "RC-303"),
    ("Sedan", "RC-404"),
    ("EV", "RC-505"),
)


def demo_driver_phone(index: int) -> str:
    return f"+1555000{index:04d}"


def seed_demo_fleet(admin_key: str, drivers: int, settings: FleetSettings | None = None) -> dict[str, Any]:
    fleet, _ = fleets.create_fleet(
        CreateFleetRequest(
            name="Demo Cabs",
            timezone="UTC",
            admin_contacts=[AdminContact(name="Demo Admin", phone=DEMO_ADMIN_PHONE)],
            settings=settings or FleetSettings(),
            twilio=TwilioInput(
                account_sid=DEMO_TWILIO_ACCOUNT_SID,
                auth_token=DEMO_TWILIO_AUTH_TOKEN,
                senders=[
                    TwilioSender(channel="sms", **{"from": DEMO_SMS_SENDER}),
                    TwilioSender(channel="whatsapp", **{"from": DEMO_WHATSAPP_SENDER}),
                ],
            ),
            telegram=TelegramInput(
                bot_token=DEMO_TELEGRAM_BOT_TOKEN,
                bot_username="ridecast_demo_bot",
                webhook_secret=DEMO_TELEGRAM_WEBHOOK_SECRET,
            ),
        ),
        admin_key=admin_key,
    )
    created = []
    for index in range(1, drivers + 1):
        vehicle_type, plate = VEHICLES[(index - 1) % len(VEHICLES)]
        driver = _register(fleet.fleet_id, index, vehicle_type, plate)
        created.append(
            {
                "driver_id": driver.driver_id,
                "name": driver.name,
                "phone": driver.phone,
                "channel": driver.channel,
            }
        )
    return {"fleet_id": fleet.fleet_id, "drivers": created}


def _register(fleet_id: str, index: int, vehicle_type: str, plate: str) -> Any:
    return drivers.register_driver(
        fleet_id,
        CreateDriverRequest(
            name=f"Demo Driver {index}",
            phone=demo_driver_phone(index),
            channel="sms",
            vehicle=Vehicle(type=vehicle_type, plate=f"{plate}-{index}"),
            rating=4.5,
        ),
    )
