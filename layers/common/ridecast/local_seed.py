"""The demo fleet of the local stack (SPEC §2), created through the same domain code as the API.

The credentials below are local stand-in values: they only ever reach the loopback fake providers.
"""

from typing import Any

from ridecast.domain.clock import utcnow
from ridecast.domain.drivers.commands import NewDriver
from ridecast.domain.drivers.roster import register_driver
from ridecast.domain.drivers.telegram_registration import issue_link
from ridecast.domain.entities import AdminContact, ApiKey, Driver, Fleet, FleetSettings, TwilioSender, Vehicle
from ridecast.domain.fleets.accounts import create_fleet
from ridecast.domain.fleets.commands import NewFleet, TelegramBotAccount, TwilioAccount
from ridecast.domain.ports import Ports
from ridecast.domain.types import DriverChannel
from ridecast.ids import hash_api_key, new_id
from ridecast.wiring import ports

DEMO_TWILIO_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEMO_TWILIO_AUTH_TOKEN = "local-twilio-auth-token"
DEMO_SMS_SENDER = "+15005550006"
DEMO_WHATSAPP_SENDER = "+15005550007"
DEMO_TELEGRAM_BOT_TOKEN = "100000001:LOCAL-demo-bot-token-not-real-xyz"
DEMO_TELEGRAM_BOT_USERNAME = "ridecast_demo_bot"
DEMO_TELEGRAM_WEBHOOK_SECRET = "local-telegram-webhook-secret"
DEMO_ADMIN_PHONE = "+15550009999"
# Round-robin, so even the smallest demo shows every channel answering through its own webhook.
DEMO_CHANNELS: tuple[DriverChannel, ...] = ("sms", "whatsapp", "telegram")
VEHICLES = (
    ("Sedan", "RC-101"),
    ("Estate", "RC-202"),
    ("MPV", "RC-303"),
    ("Sedan", "RC-404"),
    ("EV", "RC-505"),
)


def demo_driver_phone(index: int) -> str:
    return f"+1555000{index:04d}"


def demo_driver_channel(index: int) -> DriverChannel:
    return DEMO_CHANNELS[(index - 1) % len(DEMO_CHANNELS)]


def demo_telegram_chat_id(index: int) -> str:
    """The private chat (= Telegram user id) a demo driver talks to the bot from."""
    return str(710_000_000 + index)


def seed_demo_fleet(admin_key: str, drivers: int, settings: FleetSettings | None = None) -> dict[str, Any]:
    """The demo fleet and `drivers` drivers on sms, whatsapp, telegram in turn.

    Telegram drivers come with `telegram_chat_id` and a fresh registration link (`telegram_link`): their chat
    is bound when `/start <token>` arrives from that chat on the fleet's webhook, as for a real driver. The
    `twilio` and `telegram` blocks are what those providers know about the fleet, to sign its webhooks.
    """
    fleet, _ = create_fleet(
        ports(),
        NewFleet(
            name="Demo Cabs",
            timezone="UTC",
            admin_contacts=[AdminContact(name="Demo Admin", phone=DEMO_ADMIN_PHONE)],
            settings=settings or FleetSettings(),
            twilio=TwilioAccount(
                account_sid=DEMO_TWILIO_ACCOUNT_SID,
                auth_token=DEMO_TWILIO_AUTH_TOKEN,
                senders=[
                    TwilioSender(channel="sms", **{"from": DEMO_SMS_SENDER}),
                    TwilioSender(channel="whatsapp", **{"from": DEMO_WHATSAPP_SENDER}),
                ],
            ),
            telegram=TelegramBotAccount(
                bot_token=DEMO_TELEGRAM_BOT_TOKEN,
                bot_username=DEMO_TELEGRAM_BOT_USERNAME,
                webhook_secret=DEMO_TELEGRAM_WEBHOOK_SECRET,
            ),
        ),
    )
    # The demo's admin key is a fixed local value (SPEC §2), added beside the one create_fleet issued.
    demo_key = ApiKey(key_id=new_id("k"), fleet_id=fleet.fleet_id, role="admin", label="demo", created_at=utcnow())
    ports().stores.api_keys.add(demo_key, hash_api_key(admin_key))
    created = [_demo_driver(ports(), fleet, index) for index in range(1, drivers + 1)]
    return {
        "fleet_id": fleet.fleet_id,
        "drivers": created,
        "twilio": {
            "account_sid": DEMO_TWILIO_ACCOUNT_SID,
            "auth_token": DEMO_TWILIO_AUTH_TOKEN,
            "senders": {"sms": DEMO_SMS_SENDER, "whatsapp": DEMO_WHATSAPP_SENDER},
        },
        "telegram": {"bot_username": DEMO_TELEGRAM_BOT_USERNAME, "webhook_secret": DEMO_TELEGRAM_WEBHOOK_SECRET},
    }


def _demo_driver(ports: Ports, fleet: Fleet, index: int) -> dict[str, Any]:
    vehicle_type, plate = VEHICLES[(index - 1) % len(VEHICLES)]
    driver = _register(ports, fleet.fleet_id, index, demo_driver_channel(index), vehicle_type, plate)
    entry: dict[str, Any] = {
        "driver_id": driver.driver_id,
        "name": driver.name,
        "phone": driver.phone,
        "channel": driver.channel,
    }
    if driver.channel == "telegram":
        entry["telegram_chat_id"] = demo_telegram_chat_id(index)
        entry["telegram_link"] = issue_link(ports.stores.registrations, fleet, driver).url
    return entry


def _register(ports: Ports, fleet_id: str, index: int, channel: DriverChannel, vehicle_type: str, plate: str) -> Driver:
    return register_driver(
        ports,
        fleet_id,
        NewDriver(
            name=f"Demo Driver {index}",
            phone=demo_driver_phone(index),
            channel=channel,
            vehicle=Vehicle(type=vehicle_type, plate=f"{plate}-{index}"),
            rating=4.5,
        ),
    )
