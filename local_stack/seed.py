"""The demo fleet of the local stack (SPEC §2), created through the same domain code as the API. Local-only,
so not in the layer; its layer imports sit in the function (the layer is on the path only while a stack runs).
The credentials are stand-in values: they only ever reach the loopback fake providers."""

from typing import Any

DEMO_ADMIN_KEY = "demo-admin-key"
# The demo fleet's provider accounts, as the fleet is created with them and as Twilio and Telegram know them.
DEMO_TWILIO = {"account_sid": "AC" + "0" * 31 + "1", "auth_token": "local-twilio-auth-token"}
DEMO_SENDERS = {"sms": "+15005550006", "whatsapp": "+15005550007"}
DEMO_TELEGRAM = {"bot_token": "100000001:LOCAL-demo-bot-token-not-real-xyz", "bot_username": "ridecast_demo_bot"}
DEMO_TELEGRAM["webhook_secret"] = "local-telegram-webhook-secret"
DEMO_ADMIN_PHONE = "+15550009999"
# Round-robin, so even the smallest demo shows every channel answering through its own webhook.
DEMO_CHANNELS = ("sms", "whatsapp", "telegram")
VEHICLES = (("Sedan", "RC-101"), ("Estate", "RC-202"), ("MPV", "RC-303"), ("Sedan", "RC-404"), ("EV", "RC-505"))


def seed_demo_fleet(drivers: int) -> dict[str, Any]:
    """The demo fleet as `POST /fleets` creates it, with its known admin key (written by the api-key repository: the
    domain never picks keys), and `drivers` drivers on sms, whatsapp, telegram in turn as `POST /drivers` registers
    them; a Telegram driver's chat is bound when `/start <token>` from their `telegram_link` arrives from their
    `telegram_chat_id`. `twilio` and `telegram`: what those providers know, to sign the fleet's webhooks."""
    from ridecast.domain.clock import utcnow
    from ridecast.domain.drivers.commands import NewDriver
    from ridecast.domain.drivers.roster import register_driver
    from ridecast.domain.drivers.telegram_registration import telegram_link
    from ridecast.domain.entities import AdminContact, ApiKey, TwilioSender, Vehicle
    from ridecast.domain.fleets.accounts import create_fleet
    from ridecast.domain.fleets.commands import NewFleet, TelegramBotAccount, TwilioAccount
    from ridecast.ids import hash_api_key, new_id
    from ridecast.wiring import ports

    senders = [TwilioSender(channel=channel, **{"from": phone}) for channel, phone in DEMO_SENDERS.items()]
    new_fleet = NewFleet(
        name="Demo Cabs",
        timezone="UTC",
        admin_contacts=[AdminContact(name="Demo Admin", phone=DEMO_ADMIN_PHONE)],
        twilio=TwilioAccount(**DEMO_TWILIO, senders=senders),
        telegram=TelegramBotAccount(**DEMO_TELEGRAM),
    )
    fleet_id = create_fleet(ports(), new_fleet)[0].fleet_id
    key = ApiKey(key_id=new_id("k"), fleet_id=fleet_id, role="admin", label="demo admin key", created_at=utcnow())
    ports().stores.api_keys.add(key, hash_api_key(DEMO_ADMIN_KEY))
    created = []
    for index in range(1, drivers + 1):
        channel, (vehicle, plate) = DEMO_CHANNELS[(index - 1) % 3], VEHICLES[(index - 1) % len(VEHICLES)]
        driver = {"name": f"Demo Driver {index}", "phone": f"+1555000{index:04d}", "channel": channel}
        new = NewDriver(**driver, vehicle=Vehicle(type=vehicle, plate=f"{plate}-{index}"), rating=4.5)
        driver["driver_id"] = register_driver(ports(), fleet_id, new).driver_id
        if channel == "telegram":  # the private chat (= Telegram user id) the driver talks to the bot from
            link = str(telegram_link(ports(), fleet_id, driver["driver_id"]).url)
            driver.update(telegram_chat_id=str(710_000_000 + index), telegram_link=link)
        created.append(driver)
    twilio = DEMO_TWILIO | {"senders": DEMO_SENDERS}
    return {"fleet_id": fleet_id, "drivers": created, "twilio": twilio, "telegram": dict(DEMO_TELEGRAM)}
