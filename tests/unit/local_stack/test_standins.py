import base64
import re
import threading

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.test import Client
from werkzeug.wrappers import Request

from local_stack.standins import StandIns

SID = "AC" + "0" * 31 + "1"
MESSAGES = f"/_local/twilio/2010-04-01/Accounts/{SID}/Messages.json"
BOT = "/_local/telegram/bot100000001:secret-token"
KEYBOARD = {
    "inline_keyboard": [[{"text": "Accept", "callback_data": "a:r1"}, {"text": "Reject", "callback_data": "r:r1"}]]
}


def basic(user=SID, password="token"):  # noqa: S107 - a stand-in credential
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def standins():
    stand_ins = StandIns(twilio_status_callbacks=False)
    yield stand_ins
    stand_ins.close()


@pytest.fixture
def client(standins):
    def app(environ, start_response):
        return standins.handle(Request(environ))(environ, start_response)

    return Client(app)


class TestTwilio:
    def test_created_message_looks_like_twilios(self, client, standins):
        response = client.post(
            MESSAGES, data={"To": "+15550001", "From": "+15005550006", "Body": "hello"}, headers=basic()
        )
        assert response.status_code == 201
        message = response.json
        assert re.fullmatch(r"SM[0-9a-f]{32}", message["sid"])
        assert message["account_sid"] == SID
        assert (message["to"], message["from"], message["body"]) == ("+15550001", "+15005550006", "hello")
        assert message["status"] == "queued"
        assert message["error_code"] is None
        assert message["num_segments"] == "1"
        assert message["uri"] == f"/2010-04-01/Accounts/{SID}/Messages/{message['sid']}.json"
        (sent,) = standins.outbox.messages()
        assert sent["channel"] == "sms"
        assert sent["provider_message_id"] == message["sid"]
        assert sent["from"] == "+15005550006"

    def test_whatsapp_is_its_own_channel_and_keeps_template_variables(self, client, standins):
        response = client.post(
            MESSAGES,
            data={
                "To": "whatsapp:+15550001",
                "From": "whatsapp:+15005550007",
                "ContentSid": "HX123",
                "ContentVariables": '{"1": "R-7K3Q", "2": "http://x/offers/t"}',
            },
            headers=basic(),
        )
        assert response.status_code == 201
        (sent,) = standins.outbox.messages()
        assert (sent["channel"], sent["to"], sent["from"]) == ("whatsapp", "+15550001", "+15005550007")
        assert sent["content_sid"] == "HX123"
        assert sent["content_variables"] == {"1": "R-7K3Q", "2": "http://x/offers/t"}
        assert "http://x/offers/t" in sent["body"]

    @pytest.mark.parametrize(
        ("data", "code"),
        [
            ({"From": "+15005550006", "Body": "x"}, 21604),
            ({"To": "+15550001", "Body": "x"}, 21603),
            ({"To": "+15550001", "From": "+15005550006"}, 21602),
            ({"To": "not-a-phone", "From": "+15005550006", "Body": "x"}, 21211),
        ],
    )
    def test_invalid_requests_get_twilio_error_codes(self, client, standins, data, code):
        response = client.post(MESSAGES, data=data, headers=basic())
        assert response.status_code == 400
        assert response.json == {
            "code": code,
            "message": response.json["message"],
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": 400,
        }
        assert standins.outbox.messages() == []

    def test_basic_auth_is_required(self, client):
        assert client.post(MESSAGES, data={"To": "+1555", "From": "+1555", "Body": "x"}).status_code == 401
        wrong_account = client.post(MESSAGES, data={"To": "+1555", "Body": "x"}, headers=basic(user="AC" + "9" * 32))
        assert wrong_account.json["code"] == 20003

    def test_a_provider_that_is_down_answers_500(self, client, standins):
        standins.set_down("twilio", True)
        response = client.post(MESSAGES, data={"To": "+15550001", "From": "+15005550006", "Body": "x"}, headers=basic())
        assert (response.status_code, response.json["code"]) == (500, 20500)
        standins.set_down("twilio", False)
        assert (
            client.post(MESSAGES, data={"To": "+15550001", "From": "+1500", "Body": "x"}, headers=basic()).status_code
            == 201
        )


class TestTelegram:
    def test_send_message_answers_a_message_and_records_the_keyboard(self, client, standins):
        response = client.post(
            f"{BOT}/sendMessage", json={"chat_id": 4242, "text": "New ride", "reply_markup": KEYBOARD}
        )
        assert response.status_code == 200
        body = response.json
        assert body["ok"] is True
        message = body["result"]
        assert message["message_id"] == 1
        assert message["chat"] == {"id": 4242, "type": "private"}
        assert message["from"]["is_bot"] is True
        assert message["text"] == "New ride"
        assert message["reply_markup"] == KEYBOARD
        (sent,) = standins.outbox.messages()
        assert (sent["channel"], sent["to"], sent["body"]) == ("telegram", "4242", "New ride")
        assert sent["reply_markup"] == KEYBOARD
        assert sent["provider_message_id"] == "1"

    def test_form_encoded_parameters_work_too(self, client):
        response = client.post(
            f"{BOT}/sendMessage", data={"chat_id": "7", "text": "hi", "reply_markup": '{"inline_keyboard": []}'}
        )
        assert response.json["result"]["reply_markup"] == {"inline_keyboard": []}

    def test_edits_are_recorded_next_to_the_original(self, client, standins):
        client.post(f"{BOT}/sendMessage", json={"chat_id": 4242, "text": "New ride", "reply_markup": KEYBOARD})
        edited = client.post(f"{BOT}/editMessageText", json={"chat_id": 4242, "message_id": 1, "text": "Ride taken"})
        assert edited.json["ok"] is True
        assert "edit_date" in edited.json["result"]
        original, edit = standins.outbox.messages(to="4242")
        assert (original["body"], original.get("edited")) == ("New ride", None)
        assert (edit["body"], edit["edited"], edit["provider_message_id"]) == ("Ride taken", True, "1")

    def test_telegram_refuses_what_telegram_refuses(self, client):
        client.post(f"{BOT}/sendMessage", json={"chat_id": 1, "text": "same"})
        same = client.post(f"{BOT}/editMessageText", json={"chat_id": 1, "message_id": 1, "text": "same"})
        assert same.status_code == 400
        assert same.json["description"].startswith("Bad Request: message is not modified")
        missing = client.post(f"{BOT}/editMessageText", json={"chat_id": 1, "message_id": 99, "text": "x"})
        assert missing.json["description"] == "Bad Request: message to edit not found"
        empty = client.post(f"{BOT}/sendMessage", json={"chat_id": 1, "text": ""})
        assert (empty.status_code, empty.json["description"]) == (400, "Bad Request: message text is empty")
        long_data = {"inline_keyboard": [[{"text": "A", "callback_data": "x" * 65}]]}
        too_long = client.post(f"{BOT}/sendMessage", json={"chat_id": 1, "text": "t", "reply_markup": long_data})
        assert too_long.json["description"] == "Bad Request: BUTTON_DATA_INVALID"

    def test_unknown_method_is_404(self, client):
        response = client.post(f"{BOT}/sendCarrierPigeon", json={})
        assert (response.status_code, response.json) == (
            404,
            {"ok": False, "error_code": 404, "description": "Not Found"},
        )

    def test_get_me_and_callback_answers(self, client):
        me = client.get(f"{BOT}/getMe").json["result"]
        assert (me["id"], me["is_bot"]) == (100000001, True)
        assert me["username"].endswith("_bot")
        assert client.post(f"{BOT}/answerCallbackQuery", json={"callback_query_id": "q1"}).json == {
            "ok": True,
            "result": True,
        }

    def test_rate_limit_answers_429_with_retry_after(self, client, standins):
        standins.telegram_rate_limit = 3
        answers = [client.post(f"{BOT}/sendMessage", json={"chat_id": 1, "text": f"m{i}"}) for i in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[3].json == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }
        assert len(standins.outbox.messages()) == 3
        other_bot = client.post("/_local/telegram/bot2:other/sendMessage", json={"chat_id": 1, "text": "x"})
        assert other_bot.status_code == 200  # the limit is per bot

    def test_a_provider_that_is_down_answers_503(self, client, standins):
        standins.set_down("telegram", True)
        response = client.post(f"{BOT}/sendMessage", json={"chat_id": 1, "text": "x"})
        assert (response.status_code, response.json["ok"]) == (503, False)


class TestOutbox:
    def test_outbox_is_ordered_and_filtered_by_recipient(self, client):
        client.post(MESSAGES, data={"To": "+15550001", "From": "+15005550006", "Body": "sms"}, headers=basic())
        client.post(f"{BOT}/sendMessage", json={"chat_id": 4242, "text": "tg"})
        client.post(
            MESSAGES, data={"To": "whatsapp:+15550001", "From": "whatsapp:+15005550007", "Body": "wa"}, headers=basic()
        )
        client.post(MESSAGES, data={"To": "+15550002", "From": "+15005550006", "Body": "other"}, headers=basic())
        everything = client.get("/_local/outbox").json["messages"]
        assert [m["body"] for m in everything] == ["sms", "tg", "wa", "other"]
        assert all({"channel", "to", "body", "sent_at"} <= set(m) for m in everything)
        assert everything[0]["sent_at"].endswith("Z")
        to_phone = client.get("/_local/outbox", query_string={"to": "+15550001"}).json["messages"]
        assert [(m["channel"], m["body"]) for m in to_phone] == [("sms", "sms"), ("whatsapp", "wa")]
        to_chat = client.get("/_local/outbox", query_string={"to": "4242"}).json["messages"]
        assert [m["body"] for m in to_chat] == ["tg"]
        assert client.get("/_local/outbox", query_string={"to": "+19999"}).json == {"messages": []}


class TestProviderSwitch:
    @pytest.mark.parametrize("provider", ["telegram", "twilio", "email"])
    def test_a_provider_goes_down_and_comes_back_over_http(self, client, standins, provider):
        # When a provider is switched off over HTTP (SPEC §2)
        answer = client.post(f"/_local/providers/{provider}", json={"down": True})
        # Then it is down until switched on again
        assert (answer.status_code, answer.json) == (200, {"provider": provider, "down": True})
        assert provider in standins.down
        client.post(f"/_local/providers/{provider}", json={"down": False})
        assert provider not in standins.down

    def test_down_stand_ins_fail_every_call(self, client):
        client.post("/_local/providers/telegram", json={"down": True})
        client.post("/_local/providers/twilio", json={"down": True})
        assert client.post(f"{BOT}/sendMessage", json={"chat_id": 1, "text": "x"}).status_code == 503
        sms = {"To": "+15550001", "From": "+15005550006", "Body": "x"}
        assert client.post(MESSAGES, data=sms, headers=basic()).status_code == 500

    def test_unknown_providers_and_bad_bodies_are_refused(self, client, standins):
        assert client.post("/_local/providers/pigeon", json={"down": True}).status_code == 404
        assert client.post("/_local/providers/twilio", json={"down": "yes"}).status_code == 422
        assert client.post("/_local/providers/twilio", data="down").status_code == 422
        assert standins.down == set()


def test_the_real_sdks_talk_to_the_stand_ins(standins):
    """The adapters use the Twilio SDK and requests; their parsing of our answers is what matters."""
    from twilio.rest import Client as TwilioClient

    def app(environ, start_response):
        return standins.handle(Request(environ))(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        twilio = TwilioClient(SID, "token")
        twilio.api.base_url = f"{base}/_local/twilio"
        created = twilio.messages.create(to="whatsapp:+15550001", from_="whatsapp:+15005550007", body="hi")
        assert created.sid.startswith("SM")
        assert created.status == "queued"
        assert created.date_created is not None
        from twilio.base.exceptions import TwilioRestException

        with pytest.raises(TwilioRestException) as refused:
            twilio.messages.create(to="+15550001", from_="+15005550006")
        assert refused.value.code == 21602
        answer = requests.post(f"{base}{BOT}/sendMessage", json={"chat_id": 5, "text": "hi"}, timeout=5).json()
        assert answer["result"]["chat"]["id"] == 5
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    assert [m["channel"] for m in standins.outbox.messages()] == ["whatsapp", "telegram"]


def test_status_callbacks_are_signed_like_twilios():
    from twilio.request_validator import RequestValidator

    received = []
    arrived = threading.Event()

    def webhook(environ, start_response):
        request = Request(environ)
        received.append((request.url, request.form.to_dict(), request.headers.get("X-Twilio-Signature")))
        if len(received) == 2:
            arrived.set()
        start_response("204 No Content", [])
        return [b""]

    server = make_server("127.0.0.1", 0, webhook, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    callback_url = f"http://127.0.0.1:{server.server_port}/webhooks/twilio/status"
    stand_ins = StandIns()

    def app(environ, start_response):
        return stand_ins.handle(Request(environ))(environ, start_response)

    try:
        Client(app).post(
            MESSAGES,
            data={"To": "+15550001", "From": "+15005550006", "Body": "x", "StatusCallback": callback_url},
            headers=basic(password="the-auth-token"),
        )
        assert arrived.wait(5)
    finally:
        stand_ins.close()
        server.shutdown()
        thread.join()
        server.server_close()
    assert stand_ins.outbox.messages()[0]["status_callback"] == callback_url
    assert [form["MessageStatus"] for _, form, _ in received] == ["sent", "delivered"]
    for url, form, signature in received:
        assert RequestValidator("the-auth-token").validate(url, form, signature)
        assert form["MessageSid"].startswith("SM")


def test_an_accepted_email_lands_in_the_outbox_with_subject_and_attachment_names():
    import json

    from ridecast.adapters.channels.email import mime_message
    from ridecast.domain.channels.ports import Attachment, OutboundEmail

    standins = StandIns()
    png = Attachment("qr.png", "image/png", b"\x89PNG", inline=True)
    message = OutboundEmail("ann@example.com", "Your link", "Open https://t.me/x", html="<p>x</p>", attachments=(png,))
    raw = base64.b64encode(mime_message("rides@ridecast.local", message).as_bytes()).decode()
    standins.record_email(json.dumps({"Content": {"Raw": {"Data": raw}}}).encode())
    [entry] = standins.outbox.messages(to="ann@example.com")
    assert (entry["channel"], entry["from"], entry["subject"]) == ("email", "rides@ridecast.local", "Your link")
    assert (entry["body"], entry["attachments"]) == ("Open https://t.me/x", ["qr.png"])
