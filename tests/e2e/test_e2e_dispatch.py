"""Smart dispatch over HTTP (SPEC §5, §3 `/dispatch/*`): platform channels, fallback and resend through the
local outage switch, offline after three failures, recovery by the probe and by a health check, modes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.stack import Driver, Fleet, StackClient, message_sid, unique_chat_id, unique_phone, wait_for
from tests.e2e.test_e2e_telegram import register

# local_stack.runtime.PLATFORM_CHANNELS
PLATFORM_SMS, PLATFORM_WHATSAPP = "+15550009000", "+15550009001"
PLATFORM_ACCOUNT, PLATFORM_TOKEN = "AC" + "0" * 31 + "9", "local-platform-twilio-token"


@contextmanager
def provider_down(stack: StackClient, provider: str) -> Iterator[None]:
    assert stack.post(f"/_local/providers/{provider}", json={"down": True}).status_code == 200
    try:
        yield
    finally:
        assert stack.post(f"/_local/providers/{provider}", json={"down": False}).status_code == 200


def dispatch(stack: StackClient, fleet: Fleet, action: str = "status", **body: Any) -> dict[str, Any]:
    if action == "status":
        answer = stack.get("/dispatch/status", headers=fleet.auth)
    else:
        answer = stack.post(f"/dispatch/{action}", headers=fleet.auth, json=body or None)
    assert answer.status_code == 200, answer.text
    status: dict[str, Any] = answer.json()
    return status


def telegram_driver(stack: StackClient, fleet: Fleet) -> tuple[Driver, int]:
    driver = stack.add_driver(fleet, channel="telegram")
    chat = unique_chat_id()
    register(stack, fleet, driver, chat)
    return driver, chat


def test_a_fleet_with_only_a_name_reaches_sms_whatsapp_and_telegram_drivers(stack: StackClient) -> None:
    # Given a fleet created with a name and an admin phone only
    admin = unique_phone()
    created = stack.post(
        "/fleets", headers=stack.root(), json={"name": "Night Owls", "admin_contacts": [{"name": "A", "phone": admin}]}
    )
    assert created.status_code == 201, created.text
    fleet = Fleet(fleet_id=created.json()["fleet_id"], api_key=created.json()["api_key"], admin_phone=admin)
    # When it registers drivers on every channel and a ride comes in
    drivers = [stack.add_driver(fleet, channel=c) for c in ("sms", "whatsapp", "telegram")]
    ride = stack.create_ride(fleet)
    # Then each driver gets the offer from the platform's senders (Telegram ones by SMS until they register)
    senders = {d.channel: stack.wait_for_offer(d.phone, ride)["from"] for d in drivers}
    assert senders == {"sms": PLATFORM_SMS, "whatsapp": PLATFORM_WHATSAPP, "telegram": PLATFORM_SMS}
    # And the router says whose channels those are
    channels = dispatch(stack, fleet)["channels"]
    assert (channels["telegram"]["source"], channels["twilio"]["source"]) == ("platform", "platform")
    # And the driver can win the ride through the link in the message
    token = stack.offer_token(drivers[0].phone, ride)
    assert stack.post(f"/offers/{token}/accept").json()["result"] == "assigned"


def test_a_whatsapp_sender_may_be_written_as_twilio_writes_it(stack: StackClient) -> None:
    number = unique_phone()
    twilio = {
        "account_sid": "AC" + "2" * 32,
        "auth_token": "wa-cabs-auth-token-0001",
        "senders": [{"channel": "whatsapp", "from": f"whatsapp:{number}"}],
    }
    created = stack.post("/fleets", headers=stack.root(), json={"name": "WA Cabs", "twilio": twilio})
    assert created.status_code == 201, created.text
    assert created.json()["twilio"]["senders"][0]["from"] == number


def test_with_telegram_down_the_offer_arrives_by_sms_and_the_driver_wins(stack: StackClient) -> None:
    # Given a registered Telegram driver of a fleet with its own bot and SMS sender
    fleet = stack.create_fleet(telegram=True, driver_response_seconds=5, matching_timeout_seconds=10)
    driver, _ = telegram_driver(stack, fleet)
    with provider_down(stack, "telegram"):
        # When a ride comes in while Telegram is down
        ride = stack.create_ride(fleet)
        # Then the same offer reaches the driver's phone by SMS, and the offer says so
        token = stack.offer_token(driver.phone, ride)
        assert stack.offer_of(stack.ride(fleet, ride["ride_id"]), driver)["channel"] == "sms"
        # And the driver can win the ride with it
        assert stack.post(f"/offers/{token}/accept").json()["result"] == "assigned"


def test_three_failures_take_telegram_offline_and_the_probe_brings_it_back(stack: StackClient) -> None:
    # Given three registered Telegram drivers
    fleet = stack.create_fleet(telegram=True, driver_response_seconds=5, matching_timeout_seconds=10)
    for _ in range(3):
        telegram_driver(stack, fleet)
    with provider_down(stack, "telegram"):
        stack.create_ride(fleet)
        # Then Telegram goes offline and the admins are told
        wait_for(lambda: dispatch(stack, fleet)["channels"]["telegram"]["status"] == "offline", "telegram offline")
        stack.wait_for_message(fleet.admin_phone, lambda m: "offline" in m["body"], "the offline alert")
    # When Telegram is back, the scheduled probe (every 2 s in the e2e stack) brings it back online
    wait_for(lambda: dispatch(stack, fleet)["channels"]["telegram"]["status"] == "online", "telegram online", 30)
    stack.wait_for_message(fleet.admin_phone, lambda m: "back online" in m["body"], "the recovery alert")


def test_health_check_sees_an_outage_and_the_recovery(stack: StackClient) -> None:
    fleet = stack.create_fleet(telegram=True)
    with provider_down(stack, "twilio"):
        assert dispatch(stack, fleet, "health-check")["channels"]["twilio"]["status"] == "offline"
    checked = dispatch(stack, fleet, "health-check")
    assert (checked["channels"]["twilio"]["status"], checked["channels"]["twilio"]["source"]) == ("online", "fleet")


def test_a_failed_receipt_resends_the_same_offer_by_sms(stack: StackClient) -> None:
    # Given a WhatsApp driver whose offer went out on WhatsApp
    fleet = stack.create_fleet(driver_response_seconds=5, matching_timeout_seconds=10)
    driver = stack.add_driver(fleet, channel="whatsapp")
    ride = stack.create_ride(fleet)
    first = stack.wait_for_offer(driver.phone, ride)
    assert first["channel"] == "whatsapp"
    # When Twilio reports that message undelivered
    query = f"ride_id={ride['ride_id']}&driver_id={driver.driver_id}"
    params = {
        "MessageSid": message_sid(),
        "AccountSid": (fleet.twilio or {})["account_sid"],
        "MessageStatus": "undelivered",
        "ErrorCode": "63016",
        "To": f"whatsapp:{driver.phone}",
        "From": f"whatsapp:{fleet.sender('whatsapp')}",
    }
    path = f"/webhooks/twilio/status?{query}"
    assert stack.twilio_webhook(fleet, params, path=path).status_code == 204
    # Then the same offer, with the same link, arrives by SMS, and the offer is still open on SMS
    again = stack.wait_for_message(
        driver.phone, lambda m: m["channel"] == "sms" and ride["code"] in m["body"], "the SMS resend"
    )
    assert again["body"].split("/offers/")[1] == first["body"].split("/offers/")[1]
    offer = stack.offer_of(stack.ride(fleet, ride["ride_id"]), driver)
    assert (offer["channel"], offer["status"]) == ("sms", "sent")


def test_modes_decide_which_channel_carries_driver_messages(stack: StackClient) -> None:
    fleet = stack.create_fleet(telegram=True, driver_response_seconds=5, matching_timeout_seconds=10)
    sms_driver = stack.add_driver(fleet, channel="sms")
    tg_driver, chat = telegram_driver(stack, fleet)
    # telegram-only: the SMS driver gets nothing and their offer failed
    assert dispatch(stack, fleet, "mode", mode="telegram-only")["mode"] == "telegram-only"
    ride = stack.create_ride(fleet)
    stack.wait_for_offer(chat, ride)
    sms_offer = wait_for(
        lambda: [o for o in stack.ride(fleet, ride["ride_id"])["offers"] if o["driver_id"] == sms_driver.driver_id],
        "the SMS driver's offer",
    )
    assert wait_for(
        lambda: stack.offer_of(stack.ride(fleet, ride["ride_id"]), sms_driver)["status"] == "failed", "failed"
    )
    assert sms_offer
    assert not [m for m in stack.outbox(sms_driver.phone) if ride["code"] in m["body"]]
    # twilio-only: the Telegram driver is reached on their phone
    assert dispatch(stack, fleet, "mode", mode="twilio-only")["mode"] == "twilio-only"
    customer = unique_phone()
    ride = stack.create_ride(fleet, customer_phone=customer)
    assert stack.wait_for_offer(tg_driver.phone, ride)["channel"] == "sms"
    # Once the wave is out (the customer's "searching" message is its last send), the counters reset to zero
    stack.wait_for_message(customer, lambda m: ride["code"] in m["body"], "the customer's searching message")
    assert dispatch(stack, fleet)["channels"]["twilio"]["attempts"] > 0
    assert dispatch(stack, fleet, "stats/reset")["channels"]["twilio"]["attempts"] == 0


def test_a_driver_answers_by_sms_to_the_platforms_number(stack: StackClient) -> None:
    # Given a fleet on the platform's channels whose SMS driver got an offer from the platform's number
    created = stack.post("/fleets", headers=stack.root(), json={"name": "Platform Cabs"})
    assert created.status_code == 201, created.text
    fleet = Fleet(fleet_id=created.json()["fleet_id"], api_key=created.json()["api_key"], admin_phone="")
    driver = stack.add_driver(fleet)
    ride = stack.create_ride(fleet)
    stack.wait_for_offer(driver.phone, ride)
    # When they text "1" back, as Twilio posts it for the platform's account
    params = {"MessageSid": message_sid(), "AccountSid": PLATFORM_ACCOUNT, "From": driver.phone, "To": PLATFORM_SMS}
    params |= {"Body": "1", "NumMedia": "0"}
    answer = stack.twilio_webhook(fleet, params, auth_token=PLATFORM_TOKEN)
    # Then the ride is theirs
    assert answer.status_code == 200, answer.text
    assigned = stack.wait_for_ride(fleet, ride["ride_id"], lambda r: r["status"] == "assigned", "the ride assigned")
    assert assigned["driver_id"] == driver.driver_id


def test_pause_holds_new_rides_and_resume_offers_them_in_order_with_a_fresh_deadline(stack: StackClient) -> None:
    # Given a paused fleet with one SMS driver and a 4 s matching timeout (one 4 s response window, so a
    # loaded machine still gets the accept in before the deadline)
    fleet = stack.create_fleet(driver_response_seconds=4, matching_timeout_seconds=4)
    driver = stack.add_driver(fleet)
    paused = dispatch(stack, fleet, "pause")
    assert (paused["paused"], paused["held_rides"]) == (True, 0)
    assert dispatch(stack, fleet, "pause")["paused"] is True  # pausing twice is fine
    stack.wait_for_message(fleet.admin_phone, lambda m: "dispatch is paused" in m["body"], "the pause notice")
    # When two rides come in
    first, second = stack.create_ride(fleet), stack.create_ride(fleet)
    assert (first["status"], second["status"]) == ("searching", "searching")
    # Then both are held: searching, no offer, nothing in the driver's outbox, even past their first deadline
    wait_for(lambda: dispatch(stack, fleet)["held_rides"] == 2, "both rides held")
    time.sleep(4.5)
    for ride in (first, second):
        held = stack.ride(fleet, ride["ride_id"])
        assert (held["status"], held["held"], held["offers"]) == ("searching", True, [])
    assert stack.outbox(driver.phone) == []

    # When dispatch resumes
    resumed_at = datetime.now(UTC)
    resumed = dispatch(stack, fleet, "resume")
    answered_at = datetime.now(UTC)

    # Then the offers go out, the older ride's first, and each deadline counts from the resume
    assert (resumed["paused"], resumed["held_rides"]) == (False, 0)
    offers = [stack.wait_for_offer(driver.phone, ride) for ride in (first, second)]
    assert offers[0]["sent_at"] <= offers[1]["sent_at"]
    for ride in (first, second):
        released = stack.ride(fleet, ride["ride_id"])
        assert released["held"] is False
        # The deadline is 4 s from the moment the resume released it, somewhere within the resume call
        counted_from = datetime.fromisoformat(released["deadline_at"]) - timedelta(seconds=4)
        assert resumed_at - timedelta(seconds=0.5) <= counted_from <= answered_at
    # And the driver can win the older ride
    token = stack.offer_token(driver.phone, first)
    assert stack.post(f"/offers/{token}/accept").json()["result"] == "assigned"
    stack.wait_for_message(fleet.admin_phone, lambda m: "dispatch resumed" in m["body"], "the resume notice")
    assert dispatch(stack, fleet, "resume")["paused"] is False  # resuming twice is fine


def test_a_held_ride_can_be_cancelled(stack: StackClient) -> None:
    # Given a held ride
    fleet = stack.create_fleet()
    driver = stack.add_driver(fleet)
    dispatch(stack, fleet, "pause")
    ride = stack.create_ride(fleet)
    stack.wait_for_ride(fleet, ride["ride_id"], lambda r: r["held"], "the ride held")
    # When it is cancelled
    answer = stack.post(f"/rides/{ride['ride_id']}/cancel", headers=fleet.auth, json={"reason": "customer left"})
    # Then it is cancelled, no longer held, and resuming offers it to nobody
    assert (answer.status_code, answer.json()["status"]) == (200, "cancelled")
    assert stack.ride(fleet, ride["ride_id"])["held"] is False
    assert dispatch(stack, fleet, "resume")["held_rides"] == 0
    time.sleep(1)
    assert stack.outbox(driver.phone) == []


def test_only_an_admin_may_pause_or_resume(stack: StackClient) -> None:
    fleet = stack.create_fleet()
    issued = stack.post(f"/fleets/{fleet.fleet_id}/api-keys", json={"role": "dispatcher"}, headers=fleet.auth)
    assert issued.status_code == 201, issued.text
    dispatcher = {"Authorization": f"Bearer {issued.json()['api_key']}"}
    for action in ("pause", "resume"):
        assert stack.post(f"/dispatch/{action}", headers=dispatcher).status_code == 403
        assert stack.post(f"/dispatch/{action}").status_code == 401
    assert dispatch(stack, fleet)["paused"] is False
