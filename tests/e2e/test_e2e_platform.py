"""The platform's own channels over HTTP (SPEC §5, §10): a fleet created with nothing but a name has its Telegram
drivers register with the platform's bot and win rides with its buttons; admins with an e-mail address get
alerts by e-mail (SES on moto, captured in the outbox), and an SES outage leaves their other channel alone."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests

from tests.e2e.stack import Fleet, StackClient, text_update, unique_chat_id, unique_phone, wait_for
from tests.e2e.test_e2e_dispatch import provider_down
from tests.e2e.test_e2e_telegram import buttons, callback_update, registration_link, start_token

# local_stack.runtime.PLATFORM_CHANNELS
PLATFORM_BOT, PLATFORM_SECRET, PLATFORM_EMAIL = (
    "RidecastLocalBot",
    "local-platform-webhook-secret",
    "rides@ridecast.local",
)


def bare_fleet(stack: StackClient, **extra: Any) -> Fleet:
    created = stack.post("/fleets", headers=stack.root(), json={"name": "Night Owls", **extra})
    assert created.status_code == 201, created.text
    return Fleet(fleet_id=created.json()["fleet_id"], api_key=created.json()["api_key"], admin_phone="")


def platform_update(stack: StackClient, update: dict[str, Any], secret: str = PLATFORM_SECRET) -> requests.Response:
    return stack.post("/webhooks/telegram/platform", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret})


def test_a_fleet_with_only_a_name_has_its_telegram_driver_register_with_the_platform_bot(stack: StackClient) -> None:
    # Given a fleet created with only a name, and a Telegram driver whose deep link is the platform bot's
    fleet = bare_fleet(stack)
    driver = stack.add_driver(fleet, channel="telegram", name="Tova")
    link = registration_link(stack, fleet, driver)
    assert link.startswith(f"https://t.me/{PLATFORM_BOT}?start=")
    # When the driver opens it: Telegram posts /start <token> to the platform bot's webhook
    chat = unique_chat_id()
    assert platform_update(stack, text_update(chat, f"/start {start_token(link)}")).status_code == 200
    # Then the chat is bound and welcomed in the fleet's name
    stack.wait_for_message(chat, lambda m: "Welcome Tova" in m["body"] and "Night Owls" in m["body"], "the welcome")
    assert stack.driver(fleet, driver.driver_id)["telegram_registered"] is True
    # And /offline then /online through the platform bot set the driver's status
    assert platform_update(stack, text_update(chat, "/offline")).status_code == 200
    assert wait_for(lambda: stack.driver(fleet, driver.driver_id)["status"] == "inactive", "the driver offline")
    online = text_update(chat, "/online")
    assert platform_update(stack, online).status_code == 200
    assert wait_for(lambda: stack.driver(fleet, driver.driver_id)["status"] == "active", "the driver online")
    # And a replay of that update is answered 200 and processed once
    replies = len(stack.outbox(chat))
    assert platform_update(stack, online).status_code == 200
    assert len(stack.outbox(chat)) == replies
    # When a ride comes, the offer arrives on Telegram with buttons, and Accept wins it
    ride = stack.create_ride(fleet)
    offer = stack.wait_for_offer(chat, ride)
    assert offer["channel"] == "telegram"
    press = callback_update(chat, buttons(offer)["Accept"], offer)
    assert platform_update(stack, press).status_code == 200
    assigned = stack.wait_for_ride(fleet, ride["ride_id"], lambda r: r["status"] == "assigned", "the ride assigned")
    assert assigned["driver_id"] == driver.driver_id


def test_the_platform_bot_webhook_wants_the_platforms_secret(stack: StackClient) -> None:
    chat = unique_chat_id()
    for secret in ("", "not-the-secret"):
        assert platform_update(stack, text_update(chat, "/help"), secret).status_code == 403
    assert stack.outbox(chat) == []
    # A chat the platform bot knows nothing of is told how to register
    assert platform_update(stack, text_update(chat, "/help")).status_code == 200
    stack.wait_for_message(chat, lambda m: "not linked to a driver" in m["body"], "the registration hint")


def test_an_admin_with_an_email_gets_the_alert_by_email_and_by_sms(stack: StackClient) -> None:
    # Given a fleet whose admin has a phone and an e-mail address, and no driver at all
    phone, email = unique_phone(), f"admin{unique_phone()[1:]}@example.com"
    fleet = bare_fleet(stack, admin_contacts=[{"name": "Olu", "phone": phone, "email": email}])
    # When a ride comes in, the admins are alerted at once: by SMS and by e-mail from the platform's sender
    ride = stack.create_ride(fleet)
    mail = stack.wait_for_message(email, lambda m: ride["code"] in m["body"], "the e-mail alert")
    assert (mail["channel"], mail["from"], mail["attachments"]) == ("email", PLATFORM_EMAIL, [])
    assert ride["code"] in mail["subject"]
    stack.wait_for_message(phone, lambda m: ride["code"] in m["body"], "the SMS alert")
    # And with SES down, the SMS alert still goes out and no e-mail does
    with provider_down(stack, "email"):
        customer = unique_phone()
        second = stack.create_ride(fleet, customer_phone=customer)
        stack.wait_for_message(phone, lambda m: second["code"] in m["body"], "the SMS alert during the outage")
        # (the customer is told after the admins: by then the e-mail was tried, and failed)
        stack.wait_for_message(customer, lambda m: second["code"] in m["body"], "the customer told")
    assert not [m for m in stack.outbox(email) if second["code"] in m["body"]]


def zone_just_past_midnight() -> str:
    """An IANA zone where it is now about 01:00, so the hourly report is due there (Etc/GMT signs are inverted)."""
    offset = (1 - datetime.now(UTC).hour) % 24
    offset -= 24 if offset > 14 else 0
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")


def test_the_daily_report_reaches_the_admins_once_by_sms_and_email(stack: StackClient) -> None:
    # Given a French-speaking fleet whose local day has just begun, with an admin on SMS and e-mail
    phone, email = unique_phone(), f"report{unique_phone()[1:]}@example.com"
    admins = [{"name": "Olu", "phone": phone, "email": email}]
    zone = zone_just_past_midnight()
    bare_fleet(stack, timezone=zone, language="fr", admin_contacts=admins)
    yesterday = (datetime.now(ZoneInfo(zone)) - timedelta(days=1)).date().isoformat()
    # When the schedule ticks (every 2 s in the e2e stack)
    sms = stack.wait_for_message(phone, lambda m: "Courses" in m["body"], "the daily report by SMS")
    mail = stack.wait_for_message(email, lambda m: m["subject"].startswith("Night Owls : rapport quotidien"), "mail")
    # Then it is yesterday's report in French, the same by SMS and e-mail
    assert sms["body"].startswith(f"Night Owls, {yesterday}\nCourses : 0")
    assert "Taux d'acceptation : -" in sms["body"]
    assert mail["body"] == sms["body"]
    # And later ticks do not send it again
    time.sleep(5)
    assert len([m for m in stack.outbox(phone) if "Courses" in m["body"]]) == 1
    assert len(stack.outbox(email)) == 1


def test_a_driver_on_a_channel_neither_the_fleet_nor_the_platform_reaches_is_409(stack: StackClient) -> None:
    # Given a fleet whose own Twilio account has an SMS sender only: its own account wins over the platform's,
    # so nothing reaches WhatsApp drivers (the local stack always has platform channels)
    senders = [{"channel": "sms", "from": unique_phone()}]
    fleet = bare_fleet(
        stack, twilio={"account_sid": "AC" + "3" * 32, "auth_token": "sms-only-token-01", "senders": senders}
    )
    # When a WhatsApp driver is registered, Then 409 channel_not_configured naming the channel
    body = {"name": "Wanda", "phone": unique_phone(), "channel": "whatsapp"}
    refused = stack.post("/drivers", headers=fleet.auth, json=body)
    assert refused.status_code == 409, refused.text
    assert (refused.json()["error"], refused.json().get("field")) == ("channel_not_configured", "channel")
    # And SMS drivers (its own sender) and Telegram drivers (the platform's bot) are welcome
    for channel in ("sms", "telegram"):
        answer = stack.post("/drivers", headers=fleet.auth, json={**body, "phone": unique_phone(), "channel": channel})
        assert answer.status_code == 201, answer.text


def test_a_driver_gets_the_telegram_link_by_email_and_registers_with_it(stack: StackClient) -> None:
    # Given a fleet with only a name, a Telegram driver with an e-mail address and one without
    fleet = bare_fleet(stack)
    email = f"driver{unique_phone()[1:]}@example.com"
    created = stack.post(
        "/drivers",
        headers=fleet.auth,
        json={"name": "Tova", "phone": unique_phone(), "channel": "telegram", "email": email},
    )
    assert created.status_code == 201, created.text
    assert created.json()["email"] == email
    without = stack.add_driver(fleet, channel="telegram")
    # When the admin e-mails each their link
    sent = stack.post(f"/drivers/{created.json()['driver_id']}/telegram-link/email", headers=fleet.auth)
    refused = stack.post(f"/drivers/{without.driver_id}/telegram-link/email", headers=fleet.auth)
    # Then the first is 202 and the e-mail carries the platform bot's link and its QR code as a PNG
    assert (sent.status_code, sent.json()["sent_to"]) == (202, email), sent.text
    mail = stack.wait_for_message(email, lambda m: m["channel"] == "email", "the link by e-mail")
    assert mail["attachments"] == ["telegram-link.png"]
    [link] = [word for word in mail["body"].split() if word.startswith(f"https://t.me/{PLATFORM_BOT}?start=")]
    # And the second is 409: no e-mail address
    assert (refused.status_code, refused.json()["error"]) == (409, "driver_has_no_email")
    # And the link from the e-mail registers the driver with the platform's bot
    chat = unique_chat_id()
    assert platform_update(stack, text_update(chat, f"/start {start_token(link)}")).status_code == 200
    stack.wait_for_message(chat, lambda m: "Welcome Tova" in m["body"], "the welcome")
