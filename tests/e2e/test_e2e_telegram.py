"""Drivers on the fleet's Telegram bot: registration deep link, offers with buttons, /online and /offline,
and the webhook's secret and replay protection (SPEC §3, §5; issue 5)."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.e2e.stack import (
    Driver,
    Fleet,
    StackClient,
    text_update,
    unique_chat_id,
    unique_update_id,
    wait_for,
)

START_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def registration_link(stack: StackClient, fleet: Fleet, driver: Driver) -> str:
    answer = stack.get(f"/drivers/{driver.driver_id}/telegram-link", headers=fleet.auth)
    assert answer.status_code == 200, answer.text
    url: str = answer.json()["url"]
    return url


def start_token(url: str) -> str:
    [token] = parse_qs(urlparse(url).query)["start"]
    return token


def register(stack: StackClient, fleet: Fleet, driver: Driver, chat_id: int) -> None:
    token = start_token(registration_link(stack, fleet, driver))
    answer = stack.telegram_text(fleet, chat_id, f"/start {token}")
    assert answer.status_code == 200, answer.text
    stack.wait_for_message(chat_id, lambda m: "Welcome" in m["body"], "the welcome message")
    assert stack.driver(fleet, driver.driver_id)["telegram_registered"] is True


def callback_update(chat_id: int, data: str, message: dict[str, Any], from_id: int | None = None) -> dict[str, Any]:
    return {
        "update_id": unique_update_id(),
        "callback_query": {
            "id": f"cb{secrets.token_hex(4)}",
            "from": {"id": from_id if from_id is not None else chat_id, "is_bot": False, "first_name": "D"},
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": int(message["provider_message_id"]),
                "chat": {"id": chat_id, "type": "private"},
                "date": 0,
                "text": message["body"],
            },
        },
    }


def buttons(offer: dict[str, Any]) -> dict[str, str]:
    """Button text → callback_data of a Telegram offer's inline keyboard."""
    markup = offer.get("reply_markup")
    assert markup, f"the offer has no reply_markup: {offer}"
    return {button["text"]: button["callback_data"] for row in markup["inline_keyboard"] for button in row}


def test_a_driver_registers_by_deep_link_and_wins_a_ride_with_one_tap(stack: StackClient) -> None:
    # Given a fleet with a Telegram bot and a Telegram driver
    fleet = stack.create_fleet(telegram=True)
    assert fleet.telegram is not None
    driver = stack.add_driver(fleet, "telegram", "Tova")
    assert stack.driver(fleet, driver.driver_id)["telegram_registered"] is False

    # When the admin asks for the driver's registration link
    link = stack.get(f"/drivers/{driver.driver_id}/telegram-link", headers=fleet.auth)
    # Then it is the bot's t.me deep link, with its QR code as SVG
    assert link.status_code == 200, link.text
    url = link.json()["url"]
    assert url.startswith(f"https://t.me/{fleet.telegram['bot_username']}?start=")
    token = start_token(url)
    assert START_TOKEN.match(token)
    assert link.json()["qr_svg"].lstrip().startswith("<svg")

    # When the driver opens it: Telegram sends "/start <token>" from their chat
    chat = 777
    answer = stack.telegram_text(fleet, chat, f"/start {token}")
    # Then their chat is bound and the bot welcomes them there
    assert answer.status_code == 200, answer.text
    welcome = stack.wait_for_message(chat, lambda m: "Welcome" in m["body"], "the welcome")
    assert welcome["channel"] == "telegram"
    assert "Tova" in welcome["body"]
    assert stack.driver(fleet, driver.driver_id)["telegram_registered"] is True

    # When someone else opens the same link later
    intruder = unique_chat_id()
    assert stack.telegram_text(fleet, intruder, f"/start {token}").status_code == 200
    # Then it is refused: the link works once
    refused = stack.wait_for_message(intruder, what="the intruder's answer")
    assert "invalid" in refused["body"]
    assert "Welcome" not in refused["body"]

    # When a ride comes in
    ride = stack.create_ride(fleet)
    # Then the offer reaches the driver's chat (not the intruder's, not SMS) with Accept / Reject buttons
    offer = stack.wait_for_offer(chat, ride)
    assert offer["channel"] == "telegram"
    keyboard = buttons(offer)
    assert set(keyboard) == {"Accept", "Reject"}
    assert keyboard["Accept"].startswith("a:")
    assert keyboard["Reject"].startswith("r:")
    assert not any(ride["code"] in m["body"] for m in stack.outbox(intruder))
    assert not any(ride["code"] in m["body"] for m in stack.outbox(driver.phone))
    assert stack.offer_of(stack.ride(fleet, ride["ride_id"]), driver)["channel"] == "telegram"

    # When the driver taps Accept
    tapped = stack.telegram_update(fleet, callback_update(chat, keyboard["Accept"], offer))
    # Then the ride is theirs
    assert tapped.status_code == 200, tapped.text
    seen = stack.ride(fleet, ride["ride_id"])
    assert seen["status"] == "assigned"
    assert seen["driver_id"] == driver.driver_id
    assert stack.offer_of(seen, driver)["status"] == "accepted"
    # And the offer message itself now says so (edited in place)
    edited = stack.wait_for_message(
        chat,
        lambda m: m.get("edited") and m["provider_message_id"] == offer["provider_message_id"],
        "the offer edited with the answer",
    )
    assert "is yours" in edited["body"]


def test_offline_and_online_set_the_drivers_availability(stack: StackClient) -> None:
    # Given a registered Telegram driver, the fleet's only driver
    fleet = stack.create_fleet(telegram=True)
    driver = stack.add_driver(fleet, "telegram")
    chat = unique_chat_id()
    register(stack, fleet, driver, chat)

    # When they send /offline
    assert stack.telegram_text(fleet, chat, "/offline").status_code == 200
    # Then they are inactive, and told so
    assert stack.driver(fleet, driver.driver_id)["status"] == "inactive"
    stack.wait_for_message(chat, lambda m: m["body"].startswith("You are offline"), "the offline confirmation")
    # And a ride meanwhile finds no eligible driver
    ride = stack.create_ride(fleet)
    ended = stack.wait_for_ride(fleet, ride["ride_id"], lambda r: r["status"] != "searching", "the ride to end")
    assert ended["status"] == "timed_out"
    assert ended["offers"] == []

    # When they send /online
    assert stack.telegram_text(fleet, chat, "/online").status_code == 200
    # Then they are active again and the next ride is offered to them
    assert stack.driver(fleet, driver.driver_id)["status"] == "active"
    stack.wait_for_offer(chat, stack.create_ride(fleet))


def test_a_wrong_secret_is_403_and_changes_nothing(stack: StackClient) -> None:
    # Given a registered driver, and a Telegram driver still holding an unused registration link
    fleet, other_fleet = stack.create_fleet(telegram=True), stack.create_fleet(telegram=True)
    assert other_fleet.telegram is not None
    driver, newcomer = stack.add_driver(fleet, "telegram"), stack.add_driver(fleet, "telegram")
    chat, newcomer_chat = unique_chat_id(), unique_chat_id()
    register(stack, fleet, driver, chat)
    token = start_token(registration_link(stack, fleet, newcomer))
    messages_before = len(stack.outbox(chat))

    # When updates arrive without the fleet's secret
    for secret in ("", "wrong-secret-0123456789", other_fleet.telegram["webhook_secret"]):
        for update in (text_update(chat, "/offline"), text_update(newcomer_chat, f"/start {token}")):
            answer = stack.telegram_update(fleet, update, secret=secret)
            # Then they are refused
            assert answer.status_code == 403, f"{secret!r}: {answer.status_code} {answer.text}"
            assert "secret" in answer.json()["message"].lower()
    no_header = stack.post(f"/webhooks/telegram/{fleet.fleet_id}", json=text_update(chat, "/offline"))
    assert no_header.status_code == 403

    # And nothing changed: still active, nobody told anything, the link not used up
    assert stack.driver(fleet, driver.driver_id)["status"] == "active"
    assert len(stack.outbox(chat)) == messages_before
    assert stack.outbox(newcomer_chat) == []
    assert stack.driver(fleet, newcomer.driver_id)["telegram_registered"] is False
    assert stack.telegram_text(fleet, newcomer_chat, f"/start {token}").status_code == 200
    assert stack.driver(fleet, newcomer.driver_id)["telegram_registered"] is True


def test_a_replayed_update_is_processed_once(stack: StackClient) -> None:
    # Given a driver who went /offline (update n1) and then /online (update n2)
    fleet = stack.create_fleet(telegram=True)
    driver = stack.add_driver(fleet, "telegram")
    chat = unique_chat_id()
    register(stack, fleet, driver, chat)
    offline = text_update(chat, "/offline")
    assert stack.telegram_update(fleet, offline).status_code == 200
    assert stack.telegram_text(fleet, chat, "/online").status_code == 200
    assert stack.driver(fleet, driver.driver_id)["status"] == "active"
    confirmations = len([m for m in stack.outbox(chat) if m["body"].startswith("You are offline")])

    # When Telegram redelivers update n1
    again = stack.telegram_update(fleet, offline)
    # Then it is acknowledged but not acted on again
    assert again.status_code == 200
    assert stack.driver(fleet, driver.driver_id)["status"] == "active"
    assert len([m for m in stack.outbox(chat) if m["body"].startswith("You are offline")]) == confirmations == 1


def test_an_unregistered_telegram_driver_gets_the_offer_by_sms_with_a_registration_link(stack: StackClient) -> None:
    # Given a Telegram driver who has not opened their deep link yet
    fleet = stack.create_fleet(telegram=True)
    assert fleet.telegram is not None
    driver = stack.add_driver(fleet, "telegram")
    # When a ride comes in
    ride = stack.create_ride(fleet)
    # Then the offer arrives by SMS, with the offer link and a t.me registration link
    offer = stack.wait_for_offer(driver.phone, ride)
    assert offer["channel"] == "sms"
    assert f"{stack.base_url}/offers/" in offer["body"]
    found = re.search(rf"https://t\.me/{fleet.telegram['bot_username']}\?start=([A-Za-z0-9_-]+)", offer["body"])
    assert found, offer["body"]
    # And that link registers them
    chat = unique_chat_id()
    assert stack.telegram_text(fleet, chat, f"/start {found.group(1)}").status_code == 200
    wait_for(lambda: stack.driver(fleet, driver.driver_id)["telegram_registered"], "the driver registered")


def test_a_button_pressed_from_another_chat_does_not_answer_the_offer(stack: StackClient) -> None:
    # Given a Telegram offer to a registered driver
    fleet = stack.create_fleet(telegram=True)
    driver = stack.add_driver(fleet, "telegram")
    chat, stranger = unique_chat_id(), unique_chat_id()
    register(stack, fleet, driver, chat)
    ride = stack.create_ride(fleet)
    offer = stack.wait_for_offer(chat, ride)
    keyboard = buttons(offer)
    # When someone else (the message was forwarded) taps Accept
    answer = stack.telegram_update(fleet, callback_update(chat, keyboard["Accept"], offer, from_id=stranger))
    # Then nothing is decided
    assert answer.status_code == 200
    seen = stack.ride(fleet, ride["ride_id"])
    assert seen["driver_id"] is None
    assert stack.offer_of(seen, driver)["responded_at"] is None
    # When the driver taps Reject
    assert stack.telegram_update(fleet, callback_update(chat, keyboard["Reject"], offer)).status_code == 200
    # Then their offer is rejected
    assert stack.offer_of(stack.ride(fleet, ride["ride_id"]), driver)["status"] == "rejected"
