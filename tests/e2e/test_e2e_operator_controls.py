"""Operators steer over HTTP (SPEC §6, §8): a message to the drivers on their own channels, admin alerts on
Telegram whose buttons rebroadcast a timed-out ride or cancel a searching one, the channel figures of
GET /stats as the router counted its sends, and "1 driver notified" in the singular."""

from __future__ import annotations

import time
from typing import Any

from tests.e2e.stack import Fleet, StackClient, unique_chat_id, wait_for
from tests.e2e.test_e2e_dispatch import provider_down, telegram_driver
from tests.e2e.test_e2e_telegram import buttons, callback_update, register


def test_a_message_to_the_drivers_reaches_sms_whatsapp_and_telegram_drivers(stack: StackClient) -> None:
    # Given a fleet with an SMS, a WhatsApp and a registered Telegram driver
    fleet = stack.create_fleet(telegram=True)
    sms, whatsapp, telegram = (stack.add_driver(fleet, channel=c) for c in ("sms", "whatsapp", "telegram"))
    chat_id = unique_chat_id()
    register(stack, fleet, telegram, chat_id)
    # When an admin messages every driver, over two lines
    started = time.monotonic()
    answer = stack.post("/drivers/message", json={"text": "Road works on the A1:\nuse the M1"}, headers=fleet.auth)
    # Then the answer is 202 at once, counting the three
    assert answer.status_code == 202, answer.text
    assert answer.json()["recipients"] == 3
    assert time.monotonic() - started < 5
    # And each driver gets it on their own channel, from the fleet's sender or bot
    expected = "Road works on the A1:\nuse the M1"
    for to, channel in ((sms.phone, "sms"), (whatsapp.phone, "whatsapp"), (chat_id, "telegram")):
        message = stack.wait_for_message(to, lambda m: expected in m["body"], f"the {channel} message")
        assert message["channel"] == channel
    assert stack.wait_for_message(sms.phone, lambda m: expected in m["body"])["from"] == fleet.sender("sms")


def test_a_message_to_listed_drivers_reaches_only_them_and_bad_ones_are_refused(stack: StackClient) -> None:
    fleet = stack.create_fleet()
    ann, bo = stack.add_driver(fleet), stack.add_driver(fleet)
    # An unknown driver is 404 naming them, a control character 422 naming it: nothing is sent
    unknown = stack.post("/drivers/message", json={"text": "hi", "driver_ids": ["dnosuchdriver"]}, headers=fleet.auth)
    assert (unknown.status_code, unknown.json()["driver_ids"]) == (404, ["dnosuchdriver"])
    bad = stack.post("/drivers/message", json={"text": "tab\there"}, headers=fleet.auth)
    assert bad.status_code == 422
    assert "U+0009" in bad.json()["message"]
    # When Ann alone is messaged, Then she gets it and Bo does not
    answer = stack.post(
        "/drivers/message", json={"text": "Call the desk", "driver_ids": [ann.driver_id]}, headers=fleet.auth
    )
    assert (answer.status_code, answer.json()["recipients"]) == (202, 1)
    stack.wait_for_message(ann.phone, lambda m: "Call the desk" in m["body"])
    # (both would go out in the same round: once Ann's is there, Bo's would be too)
    assert [m for m in stack.outbox(bo.phone) if "Call the desk" in m["body"]] == []


def _admin_fleet(stack: StackClient, matching_timeout_seconds: int) -> tuple[Fleet, int]:
    chat = unique_chat_id()
    fleet = stack.create_fleet(
        telegram=True,
        matching_timeout_seconds=matching_timeout_seconds,
        admin_contacts=[{"name": "E2E Admin", "telegram_chat_id": str(chat)}],
    )
    return fleet, chat


def _rides(stack: StackClient, fleet: Fleet) -> list[dict[str, Any]]:
    answer = stack.get("/rides", headers=fleet.auth)
    assert answer.status_code == 200, answer.text
    rides: list[dict[str, Any]] = answer.json()["rides"]
    return rides


def test_rebroadcast_from_a_timed_out_alert_creates_the_ride_again_once(stack: StackClient) -> None:
    # Given a fleet whose admin is on Telegram, and a ride nobody takes
    fleet, chat = _admin_fleet(stack, matching_timeout_seconds=3)
    stack.add_driver(fleet)
    ride = stack.create_ride(fleet)
    stack.wait_for_ride(fleet, ride["ride_id"], lambda r: r["status"] == "timed_out", "the ride timed out")
    # Then the admin's alert carries a Rebroadcast button
    alert = stack.wait_for_message(chat, lambda m: "timed out" in m["body"] and ride["code"] in m["body"], "the alert")
    keyboard = buttons(alert)
    assert list(keyboard) == ["Rebroadcast"]
    # When a chat that is not the admin's presses it, Then it is refused and nothing is created
    stranger = unique_chat_id()
    refused = stack.telegram_update(fleet, callback_update(stranger, keyboard["Rebroadcast"], alert))
    assert refused.status_code == 200
    assert len(_rides(stack, fleet)) == 1
    # When the admin presses it, twice
    for _ in range(2):
        assert stack.telegram_update(fleet, callback_update(chat, keyboard["Rebroadcast"], alert)).status_code == 200
    # Then one new ride with the same customer and places exists, and the alert says which
    rides = _rides(stack, fleet)
    assert len(rides) == 2
    (again,) = [r for r in rides if r["ride_id"] != ride["ride_id"]]
    assert (again["customer"], again["pickup"], again["dropoff"]) == (ride["customer"], ride["pickup"], ride["dropoff"])
    edited = stack.wait_for_message(
        chat,
        lambda m: m.get("edited") and m["provider_message_id"] == alert["provider_message_id"],
        "the alert edited with the result",
    )
    assert f"Rebroadcast as ride {again['code']}" in edited["body"]
    assert not edited.get("reply_markup")


def test_cancel_from_an_escalation_alert_cancels_the_searching_ride(stack: StackClient) -> None:
    # Given a searching ride whose only driver rejected it: the admins are alerted early, with a Cancel button
    fleet, chat = _admin_fleet(stack, matching_timeout_seconds=60)
    driver = stack.add_driver(fleet)
    ride = stack.create_ride(fleet)
    stack.wait_for_offer(driver.phone, ride)
    assert stack.driver_reply(fleet, driver, "2").status_code == 200
    alert = stack.wait_for_message(chat, lambda m: "needs attention" in m["body"], "the escalation")
    keyboard = buttons(alert)
    assert list(keyboard) == ["Cancel ride"]
    # When the admin presses Cancel
    assert stack.telegram_update(fleet, callback_update(chat, keyboard["Cancel ride"], alert)).status_code == 200
    # Then the ride is cancelled and the alert says so
    stack.wait_for_ride(fleet, ride["ride_id"], lambda r: r["status"] == "cancelled", "the ride cancelled")
    edited = stack.wait_for_message(chat, lambda m: bool(m.get("edited")), "the alert edited")
    assert f"Ride {ride['code']} was cancelled." in edited["body"]


def _stats(stack: StackClient, fleet: Fleet) -> dict[str, Any]:
    answer = stack.get("/stats", headers=fleet.auth)
    assert answer.status_code == 200, answer.text
    stats: dict[str, Any] = answer.json()
    return stats


def test_stats_count_a_failed_telegram_send_and_the_sms_that_replaced_it(stack: StackClient) -> None:
    # Given a registered Telegram driver (the welcome went out on Telegram), windows long enough for no reminder
    fleet = stack.create_fleet(telegram=True, driver_response_seconds=60, matching_timeout_seconds=120)
    driver, _ = telegram_driver(stack, fleet)
    # When a ride is offered while Telegram is down: the offer fails there and goes by SMS at once
    with provider_down(stack, "telegram"):
        ride = stack.create_ride(fleet)
        stack.wait_for_offer(driver.phone, ride)
        stack.wait_for_message(ride["customer"]["phone"], lambda m: "1 driver notified" in m["body"])

    # Then GET /stats shows the Telegram attempt that failed, beside the welcome that succeeded
    def settled() -> dict[str, Any] | None:
        channels: dict[str, Any] = _stats(stack, fleet)["channels"]
        return channels if channels["telegram"]["failures"] and channels["sms"]["attempts"] >= 2 else None

    channels = wait_for(settled, "the failed send in the stats")
    telegram, sms = channels["telegram"], channels["sms"]
    assert (telegram["attempts"], telegram["successes"], telegram["failures"]) == (2, 1, 1)
    assert telegram["success_rate"] == 0.5
    # And every SMS the fleet's sender sent (the offer's fallback and the customer's news) as a success
    sent = [m for m in stack.outbox() if m["channel"] == "sms" and m.get("from") == fleet.sender("sms")]
    assert (sms["attempts"], sms["successes"], sms["failures"]) == (len(sent), len(sent), 0)
    assert sms["mean_latency_ms"] is not None


def test_an_arabic_fleets_customer_reads_the_dual_for_two_drivers(stack: StackClient) -> None:
    # Given an Arabic-speaking fleet with two drivers
    fleet = stack.create_fleet(language="ar", driver_response_seconds=60, matching_timeout_seconds=120)
    for _ in range(2):
        stack.add_driver(fleet)
    # When a ride goes out, Then the customer reads "two drivers notified" in the dual form, not a plural
    ride = stack.create_ride(fleet)
    searching = stack.wait_for_message(ride["customer"]["phone"], lambda m: ride["code"] in m["body"])
    assert "تم إبلاغ سائقَين" in searching["body"]
