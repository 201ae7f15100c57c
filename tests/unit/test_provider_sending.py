"""The provider adapters over aiohttp (ridecast.adapters.channels): what Twilio and Telegram are sent, how their
refusals map to ChannelError, 429s honoured, pacing in order, and the pool dropped after a restore.

A scripted aiohttp server on a thread of its own stands in for both APIs (the local stand-ins answer like the
real services; this one answers whatever a test needs, such as a 429 with Retry-After)."""

import asyncio
import json
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from ridecast.adapters.channels import sending
from ridecast.adapters.channels.telegram import TelegramBotApi
from ridecast.adapters.channels.twilio import TwilioMessaging, form_body
from ridecast.domain.channels.ports import Button, MessageEdit, OutboundMessage, SendReceipt
from ridecast.domain.entities import TwilioSender
from ridecast.errors import ChannelError
from ridecast.settings import get_settings

SID = "AC" + "1" * 32
TOKEN = "123:bot-token"
# status, JSON body, headers
Answer = tuple[int, dict[str, Any], dict[str, str]]


@dataclass
class Received:
    path: str
    params: dict[str, Any]
    authorization: str | None
    at: float


@dataclass
class ScriptedProvider:
    base_url: str
    received: list[Received] = field(default_factory=list)
    # Answers to give, in order, before falling back to a success; a test pushes what it needs.
    script: list[Answer] = field(default_factory=list)

    def texts(self) -> list[str]:
        return [str(r.params.get("Body") or r.params.get("text")) for r in self.received]


def _success(path: str, params: dict[str, Any]) -> Answer:
    if path.endswith("/Messages.json"):
        return 201, {"sid": f"SM{len(params['To'])}{params['To'][-3:]}", "status": "queued"}, {}
    if path.endswith(f"/Accounts/{SID}.json"):
        return 200, {"sid": SID, "status": "active"}, {}
    message_id = int(params.get("chat_id", 0)) % 1000
    return 200, {"ok": True, "result": {"message_id": message_id, "chat": {"id": int(params.get("chat_id", 0))}}}, {}


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedProvider]:
    loop = asyncio.new_event_loop()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    scripted = ScriptedProvider(base_url=f"http://127.0.0.1:{port}")

    async def handle(request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            params = dict(await request.json())
        else:
            params = dict((await request.post()).items())
        scripted.received.append(Received(request.path, params, request.headers.get("Authorization"), time.monotonic()))
        status, body, headers = scripted.script.pop(0) if scripted.script else _success(request.path, params)
        return web.json_response(body, status=status, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("TABLE_NAME", "ridecast-test")
    monkeypatch.setenv("TWILIO_API_BASE_URL", scripted.base_url + "/twilio")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", scripted.base_url + "/telegram")
    monkeypatch.setenv("TELEGRAM_MESSAGES_PER_SECOND", "1000")
    get_settings.cache_clear()
    sending.drop_connections()
    yield scripted
    sending.drop_connections()
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()
    get_settings.cache_clear()


def twilio(*senders: tuple[str, str], per_second: float | None = None) -> TwilioMessaging:
    configured = [
        TwilioSender.model_validate({"channel": channel, "from": phone, "messages_per_second": per_second})
        for channel, phone in senders
    ]
    return TwilioMessaging(SID, "auth-token", configured)


def sms(to: str, body: str = "New ride R-1", **extra: Any) -> OutboundMessage:
    return OutboundMessage(channel="sms", to=to, body=body, **extra)


def chat(chat_id: str, body: str = "New ride R-1") -> OutboundMessage:
    return OutboundMessage(channel="telegram", to=chat_id, body=body, buttons=(Button("Accept", "a:t"),))


def test_a_twilio_batch_sends_what_the_sdk_sent_and_answers_in_order(provider: ScriptedProvider) -> None:
    # Given a fleet with two SMS senders and a WhatsApp sender
    adapter = twilio(("sms", "+15550000001"), ("sms", "+15550000002"), ("whatsapp", "+15550000003"))
    phones = ["+447700900001", "+447700900002", "+447700900003"]
    template = OutboundMessage(
        channel="whatsapp", to="+447700900004", body="New ride", content_sid="HX1", content_variables={"1": "R-1"}
    )
    # When a batch goes out: three SMS (one with a status callback) and a WhatsApp template
    outcomes = adapter.send_many(
        [sms(phones[0], status_callback="https://x/status"), sms(phones[1]), sms(phones[2]), template]
    )
    # Then every message was accepted, the receipts in the order given
    assert all(isinstance(o, SendReceipt) for o in outcomes)
    by_to = {r.params["To"]: r for r in provider.received}
    assert [o.provider_message_id for o in outcomes if isinstance(o, SendReceipt)] == [
        f"SM{len(to)}{to[-3:]}" for to in [*phones, "whatsapp:+447700900004"]
    ]
    # And each went to the Messages API with basic auth and the SDK's form fields
    assert {r.path for r in provider.received} == {f"/twilio/2010-04-01/Accounts/{SID}/Messages.json"}
    assert all(r.authorization and r.authorization.startswith("Basic ") for r in provider.received)
    assert by_to[phones[0]].params["StatusCallback"] == "https://x/status"
    assert by_to[phones[0]].params["Body"] == "New ride R-1"
    assert by_to["whatsapp:+447700900004"].params == {
        "To": "whatsapp:+447700900004",
        "From": "whatsapp:+15550000003",
        "ContentSid": "HX1",
        "ContentVariables": json.dumps({"1": "R-1"}),
    }
    # And each recipient hears from the sender its number picks, as with the SDK
    senders = ["+15550000001", "+15550000002"]
    for phone in phones:
        assert by_to[phone].params["From"] == senders[zlib.crc32(phone.encode()) % 2]


def test_twilio_refusals_map_to_channel_errors_like_the_sdks(provider: ScriptedProvider) -> None:
    # Given Twilio refusing one number, failing on the next, and a channel the fleet has no sender for
    provider.script += [
        (400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}, {}),
        (503, {"code": 20500, "message": "An internal server error has occurred", "status": 503}, {}),
    ]
    adapter = twilio(("sms", "+15550000001"))
    whatsapp = OutboundMessage(channel="whatsapp", to="+447700900009", body="x")
    # When the batch goes out (one message at a time, so the script meets them in order)
    refused, failed = (adapter.send_many([sms(to)])[0] for to in ("+447700900001", "+447700900002"))
    (no_sender,) = adapter.send_many([whatsapp])
    # Then a refusal is final, a server failure worth a retry, each with Twilio's code
    assert isinstance(refused, ChannelError)
    assert (refused.message, refused.retryable, refused.provider_code) == (
        "twilio: Unable to create record: Invalid 'To' Phone Number",
        False,
        "21211",
    )
    assert isinstance(failed, ChannelError)
    assert (failed.retryable, failed.provider_code) == (True, "20500")
    assert isinstance(no_sender, ChannelError)
    assert no_sender.code == "no_sender_for_channel"
    # And `send` raises what `send_many` answers
    provider.script.append((400, {"code": 21211, "message": "Invalid 'To' Phone Number"}, {}))
    with pytest.raises(ChannelError):
        adapter.send(sms("+447700900001"))


def test_an_unreachable_provider_is_a_retryable_failure(
    provider: ScriptedProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("TWILIO_API_BASE_URL", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"http://127.0.0.1:{closed_port}")
    get_settings.cache_clear()
    (unreachable,) = twilio(("sms", "+15550000001")).send_many([sms("+447700900001")])
    assert isinstance(unreachable, ChannelError)
    assert unreachable.retryable
    assert unreachable.message.startswith("twilio: ")
    with pytest.raises(ChannelError) as raised:
        TelegramBotApi(TOKEN).send(chat("42"))
    assert raised.value.retryable


def test_twilio_429_waits_for_retry_after_then_sends(provider: ScriptedProvider) -> None:
    # Given Twilio asking to slow down for 0.3 s once
    provider.script.append((429, {"code": 20429, "message": "Too Many Requests"}, {"Retry-After": "0.3"}))
    # When a message goes out
    started = time.monotonic()
    (outcome,) = twilio(("sms", "+15550000001")).send_many([sms("+447700900001")])
    # Then it was sent again after the wait, and accepted
    assert isinstance(outcome, SendReceipt)
    assert len(provider.received) == 2
    assert provider.received[1].at - provider.received[0].at >= 0.29
    assert time.monotonic() - started >= 0.29


def test_twilio_429_past_the_retries_fails_the_message_as_retryable(
    provider: ScriptedProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ridecast.adapters.channels import sending

    monkeypatch.setattr(sending, "MAX_RATE_LIMIT_RETRIES", 2)
    provider.script += [(429, {"code": 20429, "message": "Too Many Requests"}, {"Retry-After": "0"})] * 3
    (outcome,) = twilio(("sms", "+15550000001")).send_many([sms("+447700900001")])
    assert isinstance(outcome, ChannelError)
    assert (outcome.retryable, outcome.provider_code, len(provider.received)) == (True, "20429", 3)


def test_a_telegram_429_holds_the_whole_batch_for_retry_after(
    provider: ScriptedProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a bot paced at 10 messages a second that Telegram tells to wait 0.3 s at its first message
    monkeypatch.setenv("TELEGRAM_MESSAGES_PER_SECOND", "10")
    get_settings.cache_clear()
    provider.script.append(
        (
            429,
            {"ok": False, "error_code": 429, "description": "Too Many Requests", "parameters": {"retry_after": 0.3}},
            {},
        )
    )
    bot = TelegramBotApi(TOKEN)
    # When a batch of three goes out
    outcomes = bot.send_many([chat("101"), chat("102"), chat("103")])
    # Then every message was delivered, with its message id and chat
    assert [(o.provider_message_id, o.chat_id) for o in outcomes if isinstance(o, SendReceipt)] == [
        ("101", "101"),
        ("102", "102"),
        ("103", "103"),
    ]
    # And nothing went out during the hold, not even the messages queued behind the refused one (which goes
    # again behind them): the refused request, then three after 0.3 s
    first, *after = provider.received
    assert [r.params["chat_id"] for r in after] == ["102", "103", "101"]
    assert all(r.at - first.at >= 0.29 for r in after)
    assert after[0].params["reply_markup"] == {"inline_keyboard": [[{"text": "Accept", "callback_data": "a:t"}]]}


def test_telegram_refusals_map_to_channel_errors(provider: ScriptedProvider) -> None:
    provider.script += [
        (400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, {}),
        (503, {"ok": False, "error_code": 503, "description": "Service Unavailable"}, {}),
    ]
    bot = TelegramBotApi(TOKEN)
    refused, failed = (bot.send_many([chat(c)])[0] for c in ("1", "2"))
    assert isinstance(refused, ChannelError)
    assert (refused.message, refused.retryable, refused.provider_code) == (
        "telegram sendMessage: Bad Request: chat not found",
        False,
        "400",
    )
    assert isinstance(failed, ChannelError)
    assert (failed.retryable, failed.provider_code) == (True, "503")


def test_telegram_edits_go_in_one_batch_each_with_its_outcome(provider: ScriptedProvider) -> None:
    # Given a bot whose second edit Telegram refuses (the message is gone)
    provider.script += [
        (200, {"ok": True, "result": True}, {}),
        (400, {"ok": False, "error_code": 400, "description": "Bad Request: message to edit not found"}, {}),
    ]
    # When two offers are edited at once
    outcomes = TelegramBotApi(TOKEN).edit_many([MessageEdit("41", "7", "Taken"), MessageEdit("42", "8", "Taken")])
    # Then each edit reached editMessageText with its chat, message and text, the buttons gone
    assert sorted((r.path, r.params["chat_id"], r.params["message_id"]) for r in provider.received) == [
        (f"/telegram/bot{TOKEN}/editMessageText", "41", 7),
        (f"/telegram/bot{TOKEN}/editMessageText", "42", 8),
    ]
    assert all(r.params["text"] == "Taken" and "reply_markup" not in r.params for r in provider.received)
    # And the outcomes are in the order given: one done, one refused as a ChannelError (the caller sends instead)
    assert len(outcomes) == 2
    assert sum(o is None for o in outcomes) == 1
    refused = next(o for o in outcomes if o is not None)
    assert refused.message == "telegram editMessageText: Bad Request: message to edit not found"


def test_a_paced_bot_sends_in_the_order_given_at_its_rate(
    provider: ScriptedProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a bot paced at 20 messages a second
    monkeypatch.setenv("TELEGRAM_MESSAGES_PER_SECOND", "20")
    get_settings.cache_clear()
    bot = TelegramBotApi(TOKEN)
    chats = [str(200 + n) for n in range(8)]
    # When a batch of eight goes out, and meanwhile a single send from another thread
    started = time.monotonic()
    single = threading.Thread(target=lambda: bot.send(chat("999", "single")))
    single.start()
    bot.send_many([chat(c) for c in chats])
    single.join()
    # Then the batch reached Telegram in its order, and the nine requests (the single send shares the bot's
    # pacing, wherever it fell in the queue) took at least eight 50 ms slots. A lower bound only: a loaded
    # machine may deliver two paced requests closer together than they left, never all of them sooner.
    batch = [r.params["chat_id"] for r in provider.received if r.params["chat_id"] != "999"]
    assert batch == chats
    stamps = [r.at for r in provider.received]
    assert len(stamps) == 9
    assert max(stamps) - started >= 8 * 0.05 * 0.95


def test_twilio_senders_with_a_rate_are_paced_each_on_its_own(provider: ScriptedProvider) -> None:
    adapter = twilio(("sms", "+15550000001"), per_second=10)
    started = time.monotonic()
    outcomes = adapter.send_many([sms(f"+4477009000{n:02d}") for n in range(4)])
    assert all(isinstance(o, SendReceipt) for o in outcomes)
    assert time.monotonic() - started >= 0.29  # four messages at 10/s: three gaps of 100 ms


def test_the_probes_ask_the_account_and_the_bot(provider: ScriptedProvider) -> None:
    twilio(("sms", "+15550000001")).probe()
    TelegramBotApi(TOKEN).probe()
    assert [r.path for r in provider.received] == [
        f"/twilio/2010-04-01/Accounts/{SID}.json",
        f"/telegram/bot{TOKEN}/getMe",
    ]
    provider.script.append((200, {"sid": SID, "status": "suspended"}, {}))
    with pytest.raises(ChannelError, match="suspended"):
        twilio(("sms", "+15550000001")).probe()


def test_after_a_restore_the_next_send_opens_a_fresh_loop_and_pool(provider: ScriptedProvider) -> None:
    # Given connections pooled by a first send
    adapter = twilio(("sms", "+15550000001"))
    adapter.send(sms("+447700900001"))
    before = sending.sending_loop()
    # When the after-restore hook runs (SnapStart: restored copies must not share sockets)
    sending.drop_connections()
    # Then the old loop is closed, and the next send works on a new one
    assert before.loop.is_closed()
    assert isinstance(adapter.send_many([sms("+447700900002")])[0], SendReceipt)
    assert sending.sending_loop() is not before


def test_a_bug_in_a_batch_is_raised_not_returned_as_an_outcome(provider: ScriptedProvider) -> None:
    async def broken(message: OutboundMessage) -> SendReceipt:
        raise KeyError(message.to)

    send: Callable[[OutboundMessage], Any] = broken
    with pytest.raises(KeyError):
        sending.run(sending.each(send, [sms("+447700900001")]))


@settings(max_examples=300, deadline=None)
@given(form=st.dictionaries(st.sampled_from(["To", "From", "Body", "StatusCallback"]), st.text(), min_size=1))
def test_a_twilio_form_body_reads_back_as_the_form_and_as_urllib_encodes_it(form: dict[str, str]) -> None:
    # Given any form the adapter may send (any text: percent signs, plus signs, newlines, emoji)
    # When it is encoded as the request body
    body = form_body(form)
    # Then a form parser reads back exactly the form, as it reads urllib's encoding of it
    assert dict(parse_qsl(body.decode(), keep_blank_values=True)) == form
    assert parse_qsl(body.decode(), keep_blank_values=True) == parse_qsl(urlencode(form), keep_blank_values=True)
