import json
import re
import threading
import time
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from local_stack.simulator import (
    AnswerResult,
    DriverPhones,
    DriverSimulator,
    SimulatedDriver,
    offers_in,
)
from local_stack.standins import Outbox

BASE = "http://127.0.0.1:3000"
AUTH_TOKEN = "test-auth-token"
ACCOUNT = "AC" + "0" * 31 + "9"
SECRET = "test-telegram-secret"
ANN = SimulatedDriver("d1", "Ann", "+15550001", "sms")
BO = SimulatedDriver("d2", "Bo", "+15550002", "whatsapp")
CY = SimulatedDriver("d3", "Cy", "+15550003", "telegram", "710000003", "https://t.me/demo_bot?start=Reg_Tok-1")


def telegram_offer(token, chat="710000003", message_id="7", body="New ride R-7K3QX"):
    markup = {
        "inline_keyboard": [
            [{"text": "Accept", "callback_data": f"a:{token}"}, {"text": "Reject", "callback_data": f"r:{token}"}]
        ]
    }
    return {
        "channel": "telegram",
        "to": chat,
        "body": body,
        "reply_markup": markup,
        "provider_message_id": message_id,
        "bot_id": "100000001",
    }


def test_offers_are_found_in_links_and_in_telegram_buttons():
    body = {"body": f"New ride. Accept: {BASE}/offers/r1.d1.AbC_-9. Thanks", "to": "+1"}
    assert [o.token for o in offers_in(body, BASE)] == ["r1.d1.AbC_-9"]
    assert offers_in(body, BASE)[0].url == f"{BASE}/offers/r1.d1.AbC_-9"
    buttons = {
        "body": "New ride",
        "reply_markup": {"inline_keyboard": [[{"text": "Open", "url": f"{BASE}/offers/t2"}]]},
    }
    assert [o.token for o in offers_in(buttons, BASE)] == ["t2"]
    template = {"body": "", "content_variables": {"1": f"{BASE}/offers/t3"}}
    assert [o.token for o in offers_in(template, BASE)] == ["t3"]
    assert offers_in({"body": "https://elsewhere.example/offers/t4"}, BASE) == []
    [tap] = offers_in(telegram_offer("r5.d3.sec"), BASE)
    assert (tap.token, tap.url, tap.accept_data, tap.reject_data) == ("r5.d3.sec", None, "a:r5.d3.sec", "r:r5.d3.sec")
    assert (tap.ride_id, tap.ride_code) == ("r5", "R-7K3QX")
    taken = {"channel": "telegram", "to": "710000003", "body": "Ride R-7K3QX has been taken", "reply_markup": None}
    assert offers_in(taken, BASE) == []


def test_offers_and_reminders_are_answered_and_nothing_else():
    outbox = Outbox()
    answered = []
    release = threading.Event()

    def answer(driver, offer, action):
        answered.append((driver.driver_id, offer.token))
        release.wait(5)  # the driver is still deciding while more messages arrive
        return AnswerResult("test", 200, action, "ok")

    simulator = DriverSimulator(
        outbox, [ANN, CY], BASE, answer=answer, accept_probability=1.0, delay_seconds=(0, 0), log=[].append
    )
    simulator.start()
    try:
        outbox.record({"channel": "sms", "to": "+15550001", "body": f"Ride R-AAAAA: {BASE}/offers/ra.d1.x"})
        outbox.record(telegram_offer("rb.d3.y"))
        _wait_until(lambda: len(answered) == 2)
        # While both answers are in flight: a reminder of the same offer, the news, strangers.
        outbox.record({"channel": "sms", "to": "+15550001", "body": f"Reminder: {BASE}/offers/ra.d1.x"})
        outbox.record({"channel": "sms", "to": "+15550001", "body": "Ride R-AAAAA has been taken by another driver."})
        outbox.record({"channel": "sms", "to": "+15559999", "body": f"Not ours: {BASE}/offers/rc.d9.z"})
        # Messages are taken in order: once this offer is being answered, the ones above were seen.
        outbox.record(telegram_offer("rz.d3.z", message_id="8"))
        _wait_until(lambda: len(answered) == 3)
        release.set()
        _wait_until(lambda: len(simulator.answers) == 3)
        # An edit of a Telegram offer (it now says "taken") is news, not a new offer.
        outbox.record({**telegram_offer("rb.d3.y"), "edited": True})
        # A reminder after the answer went through (it did not count) is answered again.
        outbox.record({"channel": "sms", "to": "+15550001", "body": f"Reminder: {BASE}/offers/ra.d1.x"})
        _wait_until(lambda: len(simulator.answers) == 4)
        time.sleep(0.3)  # room for a wrong extra answer to show up
    finally:
        simulator.stop()
    assert sorted(answered[:2]) == [("d1", "ra.d1.x"), ("d3", "rb.d3.y")]
    assert answered[2:] == [("d3", "rz.d3.z"), ("d1", "ra.d1.x")]
    assert [a.kind for a in simulator.answers if a.token == "ra.d1.x"] == ["offer", "reminder"]


class FakeWebhooks:
    """The two webhook routes, recording what arrives and answering like Ridecast does."""

    def __init__(self, outbox):
        self.outbox = outbox
        self.requests = []
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def _app(self, environ, start_response):
        request = Request(environ)
        self.requests.append((request.path, dict(request.headers), request.get_data(as_text=True)))
        if request.path == "/webhooks/twilio":
            params = dict(parse_qsl(request.get_data(as_text=True), keep_blank_values=True))
            url = f"{self.base_url}/webhooks/twilio"
            if not RequestValidator(AUTH_TOKEN).validate(url, params, request.headers.get("X-Twilio-Signature", "")):
                return Response("forbidden", 403)(environ, start_response)
            text = f"Got {params['Body']} &amp; thanks"
            twiml = f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{text}</Message></Response>'
            return Response(twiml, 200, content_type="text/xml")(environ, start_response)
        update = json.loads(request.get_data(as_text=True))
        query = update.get("callback_query")
        if query:  # the bot appends its answer to the offer message, as telegram_inbound does
            shown = query["message"]
            self.outbox.record(
                {
                    "channel": "telegram",
                    "to": str(shown["chat"]["id"]),
                    "body": f"{shown['text']}\n\nOK, ride R-7K3QX rejected.",
                    "provider_message_id": str(shown["message_id"]),
                    "edited": True,
                }
            )
        else:
            self.outbox.record(
                {"channel": "telegram", "to": str(update["message"]["chat"]["id"]), "body": "Welcome Cy!"}
            )
        return Response('{"ok": true}', 200, content_type="application/json")(environ, start_response)


@pytest.fixture
def webhooks():
    outbox = Outbox()
    with FakeWebhooks(outbox) as fake:
        yield fake


def phones_for(webhooks):
    fleet = {
        "fleet_id": "f1",
        "twilio": {
            "account_sid": ACCOUNT,
            "auth_token": AUTH_TOKEN,
            "senders": {"sms": "+15005550006", "whatsapp": "+15005550007"},
        },
        "telegram": {"bot_username": "demo_bot", "webhook_secret": SECRET},
    }
    return DriverPhones(webhooks.base_url, fleet, webhooks.outbox)


def test_sms_and_whatsapp_replies_are_signed_twilio_webhooks(webhooks):
    phones = phones_for(webhooks)
    base = webhooks.base_url
    sms = webhooks.outbox.record(
        {"channel": "sms", "to": "+15550001", "from": "+15005550006", "body": f"New ride R-AAAAA {base}/offers/ra.d1.x"}
    )
    whatsapp = webhooks.outbox.record(
        {
            "channel": "whatsapp",
            "to": "+15550002",
            "from": "+15005550007",
            "body": f"New ride R-BBBBB {base}/offers/rb.d2.y",
        }
    )
    accepted = phones(ANN, offers_in(sms, base)[0], "accept")
    rejected = phones(BO, offers_in(whatsapp, base)[0], "reject")

    assert accepted == AnswerResult("twilio:sms", 200, "1", "Got 1 & thanks")
    assert rejected == AnswerResult("twilio:whatsapp", 200, "2", "Got 2 & thanks")
    forms = [dict(parse_qsl(body)) for path, _, body in webhooks.requests]
    assert [(f["From"], f["To"], f["Body"]) for f in forms] == [
        ("+15550001", "+15005550006", "1"),
        ("whatsapp:+15550002", "whatsapp:+15005550007", "2"),
    ]
    for form in forms:
        assert re.fullmatch(r"SM[0-9a-f]{32}", form["MessageSid"])
        assert (form["AccountSid"], form["NumMedia"]) == (ACCOUNT, "0")
    assert forms[0]["MessageSid"] != forms[1]["MessageSid"]
    assert all(headers["Content-Type"] == "application/x-www-form-urlencoded" for _, headers, _ in webhooks.requests)


def test_a_reply_names_its_ride_when_another_ride_reached_the_same_number(webhooks):
    phones = phones_for(webhooks)
    base = webhooks.base_url
    first = webhooks.outbox.record(
        {"channel": "sms", "to": "+15550001", "body": f"New ride R-AAAAA {base}/offers/ra.d1.x"}
    )
    assert phones(ANN, offers_in(first, base)[0], "accept").sent == "1"
    webhooks.outbox.record({"channel": "sms", "to": "+15550001", "body": f"New ride R-BBBBB {base}/offers/rb.d1.y"})
    # A bare "1" would now answer ride B, the newest; this answer is meant for ride A.
    assert phones(ANN, offers_in(first, base)[0], "reject").sent == "2 R-AAAAA"


def test_telegram_taps_are_callback_queries_with_the_secret(webhooks):
    phones = phones_for(webhooks)
    offer = webhooks.outbox.record(telegram_offer("rb.d3.y"))
    result = phones(CY, offers_in(offer, webhooks.base_url)[0], "reject")

    assert result == AnswerResult("telegram:callback", 200, "r:rb.d3.y", "OK, ride R-7K3QX rejected.")
    [(path, headers, body)] = webhooks.requests
    assert path == "/webhooks/telegram/f1"
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == SECRET
    query = json.loads(body)["callback_query"]
    assert query["from"]["id"] == 710000003
    assert query["data"] == "r:rb.d3.y"
    assert query["message"]["message_id"] == 7
    assert query["message"]["chat"]["id"] == 710000003
    assert query["message"]["reply_markup"] == offer["reply_markup"]


def test_telegram_drivers_open_their_link_at_start(webhooks):
    phones = phones_for(webhooks)
    lines = []
    simulator = DriverSimulator(webhooks.outbox, [ANN, CY], webhooks.base_url, phones=phones, log=lines.append)
    simulator.start()
    simulator.stop()
    [(path, headers, body)] = webhooks.requests
    update = json.loads(body)
    assert (path, headers["X-Telegram-Bot-Api-Secret-Token"]) == ("/webhooks/telegram/f1", SECRET)
    assert update["message"]["text"] == "/start Reg_Tok-1"
    assert update["message"]["chat"]["id"] == update["message"]["from"]["id"] == 710000003
    assert any("Cy (telegram 710000003) opened their Telegram link" in line and "Welcome Cy!" in line for line in lines)


def _wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
