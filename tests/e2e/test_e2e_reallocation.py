"""Reassign and give back over HTTP on the local stack (SPEC §8): an admin moves an assigned ride to a named
driver or back to matching; the driver who holds a ride gives it back from the offer page, by SMS `cancel`
or with a Telegram button; `max_reallocations` caps how often a ride goes back."""

from __future__ import annotations

from typing import Any

import requests

from tests.e2e.stack import Driver, Fleet, StackClient, unique_chat_id, wait_for
from tests.e2e.test_e2e_telegram import buttons, callback_update, register
from tests.e2e.test_e2e_twilio import twiml_messages

# Long enough that no round lapses on a loaded machine before the test acts on it.
MATCHING_SECONDS = 30


def _fleet(stack: StackClient, **extra: Any) -> Fleet:
    return stack.create_fleet(driver_response_seconds=5, matching_timeout_seconds=MATCHING_SECONDS, **extra)


def _won_by(stack: StackClient, fleet: Fleet, winner: Driver, *others: Driver) -> tuple[dict[str, Any], str]:
    """A ride offered to everyone and accepted through the winner's link; returns it and the winner's token."""
    ride = stack.create_ride(fleet)
    token = stack.offer_token(winner.phone, ride)
    for other in others:
        stack.wait_for_offer(other.phone, ride)
    accepted = stack.post(f"/offers/{token}/accept")
    assert accepted.status_code == 200, accepted.text
    return stack.ride(fleet, ride["ride_id"]), token


def _reassign(stack: StackClient, fleet: Fleet, ride_id: str, **body: Any) -> requests.Response:
    return stack.post(f"/rides/{ride_id}/reassign", json=body, headers=fleet.auth)


def _offers_to(stack: StackClient, driver: Driver, ride: dict[str, Any]) -> int:
    return sum(1 for m in stack.outbox(driver.phone) if m["body"].startswith(f"New ride {ride['code']}"))


def test_an_admin_reassigns_a_ride_to_a_named_driver_and_everyone_is_told(stack: StackClient) -> None:
    # Given a ride Ann won, and a dispatcher key of the fleet
    fleet = _fleet(stack)
    ann, bo = stack.add_driver(fleet, name="Ann"), stack.add_driver(fleet, name="Bo")
    ride, _ = _won_by(stack, fleet, ann, bo)
    issued = stack.post(f"/fleets/{fleet.fleet_id}/api-keys", json={"role": "dispatcher"}, headers=fleet.auth)
    dispatcher = {"Authorization": f"Bearer {issued.json()['api_key']}"}
    # When the dispatcher tries to reassign it, Then that is the admin's call
    refused = stack.post(f"/rides/{ride['ride_id']}/reassign", json={"driver_id": bo.driver_id}, headers=dispatcher)
    assert refused.status_code == 403
    # When the admin reassigns it to Bo
    answer = _reassign(stack, fleet, ride["ride_id"], driver_id=bo.driver_id, reason="Ann is stuck in traffic")
    # Then the answer is the ride, now Bo's, counted as one reassignment, its offers as they stand
    assert answer.status_code == 200, answer.text
    moved = answer.json()
    assert (moved["status"], moved["driver_id"], moved["reassignments"]) == ("assigned", bo.driver_id, 1)
    assert {o["driver_id"]: o["status"] for o in moved["offers"]} == {
        ann.driver_id: "cancelled",
        bo.driver_id: "accepted",
    }
    # And Ann, the customer and Bo (with the ride's details and his link) are told
    stack.wait_for_message(ann.phone, lambda m: "reassigned to another driver" in m["body"], "Ann told")
    customer = ride["customer"]["phone"]
    stack.wait_for_message(customer, lambda m: "has changed: Bo" in m["body"], "the customer told")
    told_bo = stack.wait_for_message(bo.phone, lambda m: "is now yours" in m["body"], "Bo told")
    assert "2 Assert Avenue" in told_bo["body"]
    assert "/offers/" in told_bo["body"]


def test_a_reassign_back_to_matching_is_won_by_another_driver(stack: StackClient) -> None:
    # Given a ride Ann won from Ann and Bo
    fleet = _fleet(stack)
    ann, bo = stack.add_driver(fleet, name="Ann"), stack.add_driver(fleet, name="Bo")
    ride, ann_token = _won_by(stack, fleet, ann, bo)
    # When the admin sends it back to matching
    answer = _reassign(stack, fleet, ride["ride_id"])
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["matching_round"]) == ("searching", 2)
    # Then Bo is offered it again and Ann is not; Ann's old link cannot win it back
    wait_for(lambda: _offers_to(stack, bo, ride) == 2, "Bo's second offer")
    assert _offers_to(stack, ann, ride) == 1
    again = stack.post(f"/offers/{ann_token}/accept")
    assert (again.status_code, again.json()["result"]) == (409, "expired")
    # When Bo accepts through his link, Then the ride is his
    bo_token = stack.offer_token(bo.phone, ride)
    assert stack.post(f"/offers/{bo_token}/accept").json()["result"] == "assigned"
    seen = stack.ride(fleet, ride["ride_id"])
    assert (seen["status"], seen["driver_id"], seen["reassignments"], seen["reallocations"]) == (
        "assigned",
        bo.driver_id,
        1,
        1,
    )
    stack.wait_for_message(ride["customer"]["phone"], lambda m: "Your driver" in m["body"] and "Bo" in m["body"], "Bo")


def test_reassign_answers_409_and_404_for_what_cannot_be_reassigned(stack: StackClient) -> None:
    fleet = _fleet(stack)
    ann = stack.add_driver(fleet, name="Ann")
    other_fleet = _fleet(stack)
    stranger = stack.add_driver(other_fleet, name="Stranger")
    searching = stack.create_ride(fleet)
    # A ride still matching, or ended, is 409 naming its status
    refused = _reassign(stack, fleet, searching["ride_id"])
    assert (refused.status_code, refused.json()["error"], refused.json()["status"]) == (
        409,
        "not_reassignable",
        "searching",
    )
    assert stack.post(f"/rides/{searching['ride_id']}/cancel", json={}, headers=fleet.auth).status_code == 200
    assert _reassign(stack, fleet, searching["ride_id"]).status_code == 409
    # An unknown ride, another fleet's ride, another fleet's driver or an inactive driver is 404
    ride, _ = _won_by(stack, fleet, ann)
    assert _reassign(stack, fleet, "rnosuchride").status_code == 404
    assert _reassign(stack, other_fleet, ride["ride_id"]).status_code == 404
    assert _reassign(stack, fleet, ride["ride_id"], driver_id=stranger.driver_id).status_code == 404
    bo = stack.add_driver(fleet, name="Bo")
    stack.patch(f"/drivers/{bo.driver_id}", json={"status": "inactive"}, headers=fleet.auth)
    assert _reassign(stack, fleet, ride["ride_id"], driver_id=bo.driver_id).status_code == 404
    # A malformed body is 422 naming the field
    bad = _reassign(stack, fleet, ride["ride_id"], driver_id="no spaces allowed")
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "driver_id")
    assert stack.ride(fleet, ride["ride_id"])["driver_id"] == ann.driver_id


def test_the_winner_gives_the_ride_back_from_the_offer_page(stack: StackClient) -> None:
    # Given a ride Ann won from Ann and Bo
    fleet = _fleet(stack)
    ann, bo = stack.add_driver(fleet, name="Ann"), stack.add_driver(fleet, name="Bo")
    ride, ann_token = _won_by(stack, fleet, ann, bo)
    bo_token = stack.offer_token(bo.phone, ride)
    # Then her page offers Give back, Bo's does not
    assert '<div id="give-back">' in stack.get(f"/offers/{ann_token}").text
    assert '<div id="give-back" hidden>' in stack.get(f"/offers/{bo_token}").text
    # When Bo tries to give it back, or a bad token does, Then 409 and 404
    not_his = stack.post(f"/offers/{bo_token}/release")
    assert (not_his.status_code, not_his.json()["result"]) == (409, "not_assigned_to_you")
    assert stack.post(f"/offers/{ann_token[:-3]}xyz/release").status_code == 404
    # When Ann gives it back, twice
    released = stack.post(f"/offers/{ann_token}/release")
    twice = stack.post(f"/offers/{ann_token}/release")
    # Then the first is released and the second is refused; the ride matches again without her
    assert (released.status_code, released.json()["result"]) == (200, "released")
    assert (twice.status_code, twice.json()["result"]) == (409, "not_assigned_to_you")
    seen = stack.ride(fleet, ride["ride_id"])
    assert (seen["status"], seen["excluded_driver_ids"]) == ("searching", [ann.driver_id])
    assert stack.offer_of(seen, ann)["status"] == "released"
    # And the customer and the admins are told, and Bo is offered the ride again
    stack.wait_for_message(ride["customer"]["phone"], lambda m: "cannot make it" in m["body"], "the customer told")
    stack.wait_for_message(fleet.admin_phone, lambda m: "gave it back" in m["body"], "the admins told")
    wait_for(lambda: _offers_to(stack, bo, ride) == 2, "Bo's second offer")


def test_the_winner_gives_the_ride_back_by_replying_cancel(stack: StackClient) -> None:
    # Given a French fleet's ride Ann won by SMS
    fleet = _fleet(stack, language="fr")
    ann, bo = stack.add_driver(fleet, name="Ann"), stack.add_driver(fleet, name="Bo")
    ride = stack.create_ride(fleet)
    for driver in (ann, bo):  # French offers do not start "New ride"
        stack.wait_for_message(driver.phone, lambda m: ride["code"] in m["body"], "the offer")
    assert "est à vous" in twiml_messages(stack.driver_reply(fleet, ann, "1"))[0]
    # When Bo replies "cancel" he has nothing to give back; when Ann replies "annuler <code>" she gives it back
    assert twiml_messages(stack.driver_reply(fleet, bo, "cancel")) == [
        "Vous n'avez aucune course à rendre pour le moment."
    ]
    [text] = twiml_messages(stack.driver_reply(fleet, ann, f"annuler {ride['code']}"))
    assert text == f"D'accord, vous avez rendu la course {ride['code']}. Merci de nous avoir prévenus."
    seen = stack.ride(fleet, ride["ride_id"])
    assert (seen["status"], stack.offer_of(seen, ann)["status"]) == ("searching", "released")


def test_a_telegram_driver_gives_the_ride_back_with_the_button(stack: StackClient) -> None:
    # Given a Telegram driver who won a ride with one tap
    fleet = _fleet(stack, telegram=True)
    driver = stack.add_driver(fleet, "telegram", "Tova")
    chat = unique_chat_id()
    register(stack, fleet, driver, chat)
    ride = stack.create_ride(fleet)
    offer = stack.wait_for_offer(chat, ride)
    assert stack.telegram_update(fleet, callback_update(chat, buttons(offer)["Accept"], offer)).status_code == 200
    # Then the "ride is yours" message carries a Give back button
    yours = stack.wait_for_message(
        chat, lambda m: "is yours" in m["body"] and not m.get("edited") and m.get("reply_markup"), "the yours message"
    )
    give_back = buttons(yours)["Give back"]
    assert give_back.startswith("g:")
    # When someone else presses it, nothing changes; when the driver does, the ride goes back to matching
    intruder = stack.telegram_update(fleet, callback_update(chat, give_back, yours, from_id=unique_chat_id()))
    assert intruder.status_code == 200
    assert stack.ride(fleet, ride["ride_id"])["status"] == "assigned"
    assert stack.telegram_update(fleet, callback_update(chat, give_back, yours)).status_code == 200
    # Nobody else is in the fleet: the new round finds no driver and the ride times out with an alert
    stack.wait_for_ride(fleet, ride["ride_id"], lambda r: r["status"] == "timed_out", "the ride timed out")
    seen = stack.ride(fleet, ride["ride_id"])
    assert (seen["matching_round"], stack.offer_of(seen, driver)["status"]) == (2, "released")


def test_past_max_reallocations_a_give_back_times_the_ride_out_with_an_alert(stack: StackClient) -> None:
    # Given a fleet that lets a ride go back to matching once
    fleet = _fleet(stack)
    patched = stack.patch(f"/fleets/{fleet.fleet_id}", json={"settings": {"max_reallocations": 1}}, headers=fleet.auth)
    assert (patched.status_code, patched.json()["settings"]["max_reallocations"]) == (200, 1)
    out_of_range = stack.patch(
        f"/fleets/{fleet.fleet_id}", json={"settings": {"max_reallocations": 11}}, headers=fleet.auth
    )
    assert out_of_range.status_code == 422
    ann, bo = stack.add_driver(fleet, name="Ann"), stack.add_driver(fleet, name="Bo")
    ride, ann_token = _won_by(stack, fleet, ann, bo)
    # When Ann gives it back, Bo wins the second round and gives it back too
    assert stack.post(f"/offers/{ann_token}/release").status_code == 200
    wait_for(lambda: _offers_to(stack, bo, ride) == 2, "Bo's second offer")
    bo_token = stack.offer_token(bo.phone, ride)
    assert stack.post(f"/offers/{bo_token}/accept").status_code == 200
    released = stack.post(f"/offers/{bo_token}/release")
    # Then his give back is taken, but the ride times out instead of matching a third time; admins are alerted
    assert released.status_code == 200
    seen = stack.ride(fleet, ride["ride_id"])
    assert (seen["status"], seen["driver_id"], seen["end_reason"]) == ("timed_out", None, "max_reallocations reached")
    stack.wait_for_message(fleet.admin_phone, lambda m: "went back to matching 1 times" in m["body"], "the alert")
    assert _offers_to(stack, ann, ride) == 1
