"""Drivers answering by SMS and WhatsApp through signed Twilio webhooks (SPEC §3, §5; issue 5)."""

from __future__ import annotations

import base64
import secrets
from typing import Any
from xml.etree import ElementTree

import requests

from tests.e2e.stack import Driver, Fleet, StackClient, message_sid, wait_for

UNANSWERED = ("sent", "timeout")


def twiml_messages(answer: requests.Response) -> list[str]:
    """The texts of a TwiML <Response>; fails unless the answer is 200 TwiML."""
    assert answer.status_code == 200, f"{answer.status_code} {answer.text}"
    assert "xml" in answer.headers["content-type"], answer.headers["content-type"]
    # Bytes: the XML declaration says UTF-8, which requests would not assume for a text/xml body
    root = ElementTree.fromstring(answer.content)  # noqa: S314 - our own stack's answer
    assert root.tag == "Response", answer.text
    return [message.text or "" for message in root.iter("Message")]


def untouched(stack: StackClient, fleet: Fleet, ride: dict[str, Any], driver: Driver) -> None:
    """The driver has not answered and the ride is still looking for someone."""
    seen = stack.ride(fleet, ride["ride_id"])
    offer = stack.offer_of(seen, driver)
    assert seen["status"] == "searching", seen
    assert seen["driver_id"] is None
    assert seen["drivers_responded"] == 0
    assert offer["status"] in UNANSWERED, offer
    assert offer["responded_at"] is None


def test_an_sms_driver_wins_the_ride_by_replying_1(stack: StackClient) -> None:
    # Given a ride offered by SMS to two drivers, from the fleet's SMS sender
    fleet = stack.create_fleet()
    driver, other = stack.add_driver(fleet, "sms", "Sol"), stack.add_driver(fleet, "sms")
    ride = stack.create_ride(fleet)
    offer = stack.wait_for_offer(driver.phone, ride)
    assert offer["channel"] == "sms"
    assert offer["from"] == fleet.sender("sms")
    stack.wait_for_offer(other.phone, ride)
    # When the driver texts back "1"
    answer = stack.driver_reply(fleet, driver, "1")
    # Then Twilio is answered with TwiML telling the driver the ride is theirs
    [text] = twiml_messages(answer)
    assert ride["code"] in text
    assert "is yours" in text
    # And the ride is assigned to them, with their offer accepted
    seen = stack.ride(fleet, ride["ride_id"])
    assert seen["status"] == "assigned"
    assert seen["driver_id"] == driver.driver_id
    assert stack.offer_of(seen, driver)["status"] == "accepted"
    # And the other driver hears the ride is gone
    stack.wait_for_message(other.phone, lambda m: "taken" in m["body"] and ride["code"] in m["body"], "ride taken")


def test_a_whatsapp_drivers_2_is_recorded_as_rejected(stack: StackClient) -> None:
    # Given a ride offered on WhatsApp
    fleet = stack.create_fleet()
    driver = stack.add_driver(fleet, "whatsapp")
    ride = stack.create_ride(fleet)
    offer = stack.wait_for_offer(driver.phone, ride)
    assert offer["channel"] == "whatsapp"
    assert offer["from"] == fleet.sender("whatsapp")
    # When the driver answers "2" (To and From carry the whatsapp: prefix)
    answer = stack.driver_reply(fleet, driver, "2")
    # Then the reply confirms the rejection
    [text] = twiml_messages(answer)
    assert "rejected" in text
    assert ride["code"] in text
    # And the offer is rejected while the ride keeps searching for someone else
    seen = stack.ride(fleet, ride["ride_id"])
    assert stack.offer_of(seen, driver)["status"] == "rejected"
    assert stack.offer_of(seen, driver)["responded_at"] is not None
    assert seen["driver_id"] is None


def test_a_reply_with_a_ride_code_answers_that_ride(stack: StackClient) -> None:
    # Given a driver offered two rides, the second one newer
    fleet = stack.create_fleet()
    driver = stack.add_driver(fleet)
    older, newer = stack.create_ride(fleet), stack.create_ride(fleet)
    stack.wait_for_offer(driver.phone, older)
    stack.wait_for_offer(driver.phone, newer)
    # When they reply "1" with the older ride's code
    [text] = twiml_messages(stack.driver_reply(fleet, driver, f"1 {older['code']}"))
    # Then the older ride is theirs, and the newer one is still open
    assert older["code"] in text
    assert "is yours" in text
    assert stack.ride(fleet, older["ride_id"])["driver_id"] == driver.driver_id
    newer_now = stack.ride(fleet, newer["ride_id"])
    assert newer_now["driver_id"] is None
    assert stack.offer_of(newer_now, driver)["status"] in UNANSWERED


def test_text_that_is_no_answer_gets_help_and_a_stranger_is_told_they_are_not_registered(stack: StackClient) -> None:
    # Given a ride offered to a driver
    fleet = stack.create_fleet()
    driver = stack.add_driver(fleet)
    ride = stack.create_ride(fleet)
    stack.wait_for_offer(driver.phone, ride)
    # When the driver writes something that is neither yes nor no
    [help_text] = twiml_messages(stack.driver_reply(fleet, driver, "on my way in 5, is it far?"))
    # Then they are told how to answer, and nothing is decided
    assert "Reply 1" in help_text
    untouched(stack, fleet, ride, driver)
    # When a number the fleet does not know texts "1"
    stranger = Driver(driver_id="-", phone="+447700900444", channel="sms", name="Stranger")
    [stranger_text] = twiml_messages(stack.driver_reply(fleet, stranger, "1"))
    # Then it is told it is not registered, and the ride is still open
    assert "not registered" in stranger_text
    untouched(stack, fleet, ride, driver)


def test_unauthenticated_twilio_deliveries_are_403_and_change_nothing(stack: StackClient) -> None:
    # Given a ride offered to an SMS driver, and one MessageSid for every attempt below
    fleet = stack.create_fleet()
    assert fleet.twilio is not None
    driver = stack.add_driver(fleet)
    ride = stack.create_ride(fleet)
    stack.wait_for_offer(driver.phone, ride)
    sid = message_sid()
    params = {
        "MessageSid": sid,
        "AccountSid": fleet.twilio["account_sid"],
        "From": driver.phone,
        "To": fleet.sender("sms"),
        "Body": "1",
    }
    forged_signature = base64.b64encode(secrets.token_bytes(20)).decode()
    attempts = {
        "forged signature": stack.twilio_webhook(fleet, params, signature=forged_signature),
        "wrong auth token": stack.twilio_webhook(fleet, params, auth_token=secrets.token_urlsafe(24)),
        "no signature": stack.twilio_webhook(fleet, params, signature=None),
        "empty signature": stack.twilio_webhook(fleet, params, signature=""),
        "signed for another body": stack.twilio_webhook(fleet, params, sign_params={**params, "Body": "2"}),
        "another account": stack.twilio_webhook(fleet, {**params, "AccountSid": "AC" + "0" * 32}),
        "signed for another URL": stack.twilio_webhook(fleet, params, sign_url="http://localhost/webhooks/twilio"),
    }
    # Then every one is refused
    for what, answer in attempts.items():
        assert answer.status_code == 403, f"{what}: {answer.status_code} {answer.text}"
    # And nothing changed: the offer is unanswered, the ride still searching
    untouched(stack, fleet, ride, driver)
    # And the same delivery, properly signed, is processed (the refusals did not use up its MessageSid)
    [text] = twiml_messages(stack.twilio_webhook(fleet, params))
    assert "is yours" in text
    assert stack.ride(fleet, ride["ride_id"])["driver_id"] == driver.driver_id


def test_a_replayed_delivery_is_processed_once(stack: StackClient) -> None:
    # Given a driver whose "2" was delivered and processed
    fleet = stack.create_fleet()
    driver = stack.add_driver(fleet)
    ride = stack.create_ride(fleet)
    stack.wait_for_offer(driver.phone, ride)
    sid = message_sid()
    [first] = twiml_messages(stack.driver_reply(fleet, driver, "2", sid=sid))
    assert "rejected" in first
    before = stack.ride(fleet, ride["ride_id"])
    # When Twilio delivers the very same message again
    again = stack.driver_reply(fleet, driver, "2", sid=sid)
    # Then it is acknowledged with an empty TwiML answer
    assert twiml_messages(again) == []
    # And nothing moved a second time
    after = stack.ride(fleet, ride["ride_id"])
    assert after["drivers_responded"] == before["drivers_responded"] == 1
    assert stack.offer_of(after, driver) == stack.offer_of(before, driver)
    # And a new message (new MessageSid) is still answered
    assert twiml_messages(stack.driver_reply(fleet, driver, "hello?")) != []


def test_a_failed_delivery_callback_marks_the_offer_failed_and_a_forged_one_is_403(stack: StackClient) -> None:
    # Given an SMS offer just sent
    fleet = stack.create_fleet()
    assert fleet.twilio is not None
    driver = stack.add_driver(fleet)
    ride = stack.create_ride(fleet)
    offer = stack.wait_for_offer(driver.phone, ride)
    # The callback URL names the offer; Twilio signs it with its query string
    path = f"/webhooks/twilio/status?ride_id={ride['ride_id']}&driver_id={driver.driver_id}"
    assert offer.get("status_callback") == stack.url(path)
    params = {
        "MessageSid": offer["provider_message_id"],
        "MessageStatus": "failed",
        "ErrorCode": "30003",
        "AccountSid": fleet.twilio["account_sid"],
        "From": fleet.sender("sms"),
        "To": driver.phone,
    }
    # When forged callbacks say it failed
    forged = {
        "wrong auth token": stack.twilio_webhook(fleet, params, path=path, auth_token=secrets.token_urlsafe(24)),
        "signed without the query": stack.twilio_webhook(
            fleet, params, path=path, sign_url=stack.url("/webhooks/twilio/status")
        ),
        "signed for another driver": stack.twilio_webhook(
            fleet, params, path=path, sign_url=stack.url(path.replace(driver.driver_id, "dsomeoneelse0"))
        ),
        "no signature": stack.twilio_webhook(fleet, params, path=path, signature=None),
    }
    # Then they are refused and the offer is not failed
    for what, refused in forged.items():
        assert refused.status_code == 403, f"{what}: {refused.status_code} {refused.text}"
    assert stack.offer_of(stack.ride(fleet, ride["ride_id"]), driver)["status"] != "failed"
    # When Twilio's real callback says the message failed
    answer = stack.twilio_webhook(fleet, params, path=path)
    # Then it is accepted and the offer is failed, with Twilio's error
    assert answer.status_code < 300, answer.text
    failed = wait_for(
        lambda: (lambda o: o if o["status"] == "failed" else None)(
            stack.offer_of(stack.ride(fleet, ride["ride_id"]), driver)
        ),
        "the offer marked failed",
    )
    assert "30003" in (failed["error"] or "")
