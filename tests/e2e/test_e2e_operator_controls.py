"""Operators steer over HTTP (SPEC §8): a message to the drivers on their own channels, and admin alerts on
Telegram whose buttons rebroadcast a timed-out ride or cancel a searching one."""

from __future__ import annotations

import time

from tests.e2e.stack import StackClient, unique_chat_id, wait_for
from tests.e2e.test_e2e_telegram import register


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
    wait_for(lambda: stack.outbox(ann.phone), "Ann's message")
    assert [m for m in stack.outbox(bo.phone) if "Call the desk" in m["body"] or m["body"] == "hi"] == []
