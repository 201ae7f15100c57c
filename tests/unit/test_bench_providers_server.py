"""bench/providers_server.py: the benchmarks' stand-ins answer Twilio's and Telegram's API calls without the WSGI
round trip, exactly as the local stack's stand-ins answer them through werkzeug (same statuses, bodies, outbox
entries), and leave to werkzeug every request whose parameters they could read differently."""

import asyncio
import base64
import io
import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import RawTestServer
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import Client, EnvironBuilder, encode_multipart
from werkzeug.wrappers import Request
from yarl import URL

from bench.keep_alive import application
from bench.providers_server import body_params, shortcut
from local_stack.standins import StandIns

SID = "AC" + "0" * 31 + "1"
ACCOUNT = f"/_local/twilio/2010-04-01/Accounts/{SID}"
MESSAGES = f"{ACCOUNT}/Messages.json"
BOT = "/_local/telegram/bot100000001:secret-token"
FORM = "application/x-www-form-urlencoded"
KEYBOARD = {"inline_keyboard": [[{"text": "Accept", "callback_data": "a:r1"}]]}
SMS = {"To": "+15550001", "From": "+15005550006", "Body": "New ride: http://x/offers/t?a=1&b=2"}


def basic(user: str = SID, password: str = "token") -> dict[str, str]:  # noqa: S107 - a stand-in credential
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# The same request, byte for byte, for either server: method, path (as sent: escapes kept), headers, body.
type Call = tuple[str, str, dict[str, str], bytes]


def call(
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    *,
    form: dict[str, str] | None = None,
    body: Any = None,
    raw: bytes = b"",
    content_type: str | None = None,
) -> Call:
    headers = dict(headers or {})
    if form is not None:
        raw, content_type = urlencode(form).encode(), FORM
    if body is not None:
        raw, content_type = json.dumps(body).encode(), "application/json"
    return method, path, headers | ({"Content-Type": content_type} if content_type else {}), raw


def multipart(form: dict[str, str], file: bytes) -> Call:
    values = MultiDict({**form, "Attachment": FileStorage(io.BytesIO(file), "a.txt")})
    boundary, raw = encode_multipart(values)
    return call("POST", MESSAGES, basic(), raw=raw, content_type=f"multipart/form-data; boundary={boundary}")


CALLS: list[Call] = [
    call("POST", MESSAGES, basic(), form={**SMS, "StatusCallback": "http://x/status"}),
    call(
        "POST",
        MESSAGES,
        basic(),
        form={
            "To": "whatsapp:+15550001",
            "From": "whatsapp:+15005550007",
            "ContentSid": "HX1",
            "ContentVariables": '{"1": "R-7K3Q", "2": "é→"}',
        },
    ),
    call("POST", MESSAGES, basic(), form={**SMS, "ContentSid": "HX1", "ContentVariables": "{not json"}),
    call("POST", MESSAGES, basic(), form={"From": "+15005550006", "Body": "x"}),
    call("POST", MESSAGES, basic(), form={**SMS, "To": "not-a-phone"}),
    call("POST", MESSAGES, basic(), form={**SMS, "To": "whatsapp:+15550001"}),
    call("POST", MESSAGES, form=SMS),
    call("POST", MESSAGES, basic(user="AC" + "9" * 32), form=SMS),
    call("POST", MESSAGES, basic(user="SK123"), form=SMS),
    call("POST", MESSAGES, basic(password=""), form=SMS),
    call("POST", MESSAGES, {"Authorization": "Basic not base64!"}, form=SMS),
    call(
        "POST", MESSAGES, basic(), raw=b"To=%2B15550001&To=%2B2&From=%2B1500&Body=a+b%26c&Body=2&E=", content_type=FORM
    ),
    call("POST", MESSAGES, basic(), body=SMS),
    call("POST", MESSAGES, basic(), raw=b"To=%2B15550001", content_type="text/plain"),
    call("GET", f"{ACCOUNT}.json", basic()),
    call("POST", f"{BOT}/sendMessage", body={"chat_id": 4242, "text": "New ride", "reply_markup": KEYBOARD}),
    call("POST", f"{BOT}/sendMessage", form={"chat_id": "7", "text": "hi", "reply_markup": '{"inline_keyboard": []}'}),
    call("POST", f"{BOT}/editMessageText", body={"chat_id": 4242, "message_id": 1, "text": "Ride taken"}),
    call("POST", f"{BOT}/editMessageText", body={"chat_id": 4242, "message_id": 1, "text": "Ride taken"}),
    call("POST", f"{BOT}/editMessageText", body={"chat_id": 4242, "message_id": 99, "text": "x"}),
    call("POST", f"{BOT}/sendMessage", body={"chat_id": 1, "text": ""}),
    call("POST", f"{BOT}/sendMessage", body={"chat_id": "abc", "text": "t"}),
    call("POST", f"{BOT}/sendMessage", body={"chat_id": 1, "text": "t", "reply_markup": "{"}),
    call(
        "POST",
        f"{BOT}/sendMessage",
        body={
            "chat_id": 1,
            "text": "t",
            "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "x" * 65}]]},
        },
    ),
    call("POST", f"{BOT}/sendMessage", raw=b"[1, 2]", content_type="application/json"),
    call("POST", f"{BOT}/sendMessage", raw=b"{broken", content_type="application/json; charset=utf-8"),
    call("GET", f"{BOT}/getMe"),
    call("POST", f"{BOT}/answerCallbackQuery", body={"callback_query_id": "q1"}),
    call("POST", f"{BOT}/answerCallbackQuery", body={}),
    call("POST", f"{BOT}/sendCarrierPigeon", body={}),
    *[call("POST", "/_local/telegram/bot2:other/sendMessage", body={"chat_id": 1, "text": f"m{i}"}) for i in range(4)],
]
# Answered the WSGI way, since their parameters are werkzeug's to read: the shortcut must return None.
LEFT_TO_WERKZEUG: list[Call] = [
    multipart(SMS, b"attached"),
    call("POST", f"{MESSAGES}?To=%2B15550009", basic(), form={"From": "+1500", "Body": "x"}),
    call("POST", MESSAGES, basic(), raw=b"To=%2B15550001&From=%2B1500&Body=caf\xe9", content_type=FORM),
    call("POST", MESSAGES, basic(), raw=b"To=%2B15550001&From=%2B1500&Body=%FF%FE", content_type=FORM),
    call("POST", "/_local/telegram/bot1%3Aescaped/sendMessage", body={"chat_id": 1, "text": "escaped"}),
    call("GET", "/_local/outbox"),
    call("POST", "/_local/providers/twilio", body={"down": True}),
    call("POST", MESSAGES, basic(), form=SMS),
]


def _through_werkzeug(calls: list[Call], rate_limit: float | None) -> tuple[list[Any], list[Any]]:
    standins = StandIns(telegram_rate_limit=rate_limit, twilio_status_callbacks=False)
    client = Client(Request.application(standins.handle))
    try:
        answers = []
        for method, path, headers, raw in calls:
            answer = client.open(path, method=method, headers=headers, data=raw)
            answers.append((answer.status_code, answer.headers["Content-Type"], _json(answer.get_data())))
        return answers, standins.outbox.messages()
    finally:
        standins.close()


async def _through_the_shortcut(calls: list[Call], rate_limit: float | None) -> tuple[list[Any], list[Any], int]:
    standins = StandIns(telegram_rate_limit=rate_limit, twilio_status_callbacks=False)
    quick = shortcut(standins)
    answered = 0

    def counted(request: web.BaseRequest, body: bytes) -> web.Response | None:
        nonlocal answered
        answer = quick(request, body)
        answered += answer is not None
        return answer

    try:
        served = application(Request.application(standins.handle), shortcut=counted)
        async with RawTestServer(served) as server, ClientSession() as session:
            answers = []
            for method, path, headers, raw in calls:
                url = URL(str(server.make_url("")) + path, encoded=True)
                async with session.request(method, url, headers=headers, data=raw or None) as answer:
                    answers.append((answer.status, answer.headers["Content-Type"], _json(await answer.read())))
        return answers, standins.outbox.messages(), answered
    finally:
        standins.close()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _comparable(value: Any) -> Any:
    """Twilio's message sids are random and the dates are the clock's: the same for either way."""
    text = json.dumps(value, sort_keys=True)
    text = re.sub(r"SM[0-9a-f]{32}", "SM…", text)
    text = re.sub(r'"(date|edit_date)": \d+', r'"\1": 0', text)
    text = re.sub(r'"date_created": "[^"]+"', '"date_created": "…"', text)
    return json.loads(re.sub(r'"sent_at": "[^"]+"', '"sent_at": "…"', text))


def _both_ways(
    calls: list[Call], rate_limit: float | None = None
) -> tuple[tuple[list[Any], list[Any], int], tuple[list[Any], list[Any]]]:
    """The answers and outbox of the bench's server (and how many calls its shortcut answered), then the WSGI's."""
    with ThreadPoolExecutor(max_workers=1) as thread:  # an event loop of its own, as in test_bench_keep_alive
        quick = thread.submit(asyncio.run, _through_the_shortcut(calls, rate_limit)).result()
    return quick, _through_werkzeug(calls, rate_limit)


def test_the_shortcut_answers_every_api_call_as_the_wsgi_stand_ins_do() -> None:
    # Given the same calls of Twilio's and Telegram's APIs (good, refused, edited, rate-limited...)
    # When the bench's server answers them (the shortcut) and the local stack's WSGI stand-ins do
    (answers, outbox, answered), (wsgi_answers, wsgi_outbox) = _both_ways(CALLS, rate_limit=3)

    # Then the shortcut answered every one of them itself
    assert answered == len(CALLS)
    # And each answer is the same: status, content type and body (up to random sids and the clock)
    assert [a[0] for a in answers] == [a[0] for a in wsgi_answers]
    assert {201, 400, 401, 200, 404, 429} <= {a[0] for a in answers}
    for sent, answer, wsgi_answer in zip(CALLS, answers, wsgi_answers, strict=True):
        assert _comparable(answer) == _comparable(wsgi_answer), sent
    # And the outbox holds the same entries, in the same order
    assert len(outbox) == 11
    assert _comparable(outbox) == _comparable(wsgi_outbox)


def test_what_werkzeug_reads_its_own_way_goes_the_wsgi_way_and_is_answered_the_same() -> None:
    # Given calls whose parameters werkzeug reads its own way (multipart, a query string, bytes that are not
    # UTF-8, an escaped path), the outbox, the outage switch and a send while Twilio is down
    # When both servers answer them
    (answers, outbox, answered), (wsgi_answers, wsgi_outbox) = _both_ways(LEFT_TO_WERKZEUG)

    # Then the shortcut answered none of them itself (the send while down excepted)
    assert answered == 1
    # And the answers and the outbox are the WSGI stand-ins' own
    assert [a[0] for a in answers] == [201, 201, 400, 201, 200, 200, 200, 500]
    assert _comparable(answers) == _comparable(wsgi_answers)
    assert [m["body"] for m in outbox] == [SMS["Body"], "x", "%FF%FE", "escaped"]
    assert _comparable(outbox) == _comparable(wsgi_outbox)


def _werkzeug_form(content_type: str, body: bytes) -> dict[str, Any]:
    request = Request(EnvironBuilder(method="POST", data=body, content_type=content_type).get_environ())
    if request.mimetype == "application/json":
        value = request.get_json(silent=True)
        return value if isinstance(value, dict) else {}
    return dict(request.form.items())


FORM_TEXT = st.text(st.sampled_from("ab=&+%;?#/ 0123456789AaFfé\n\ufffd"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.one_of(FORM_TEXT.map(str.encode), st.binary(max_size=30)))
def test_a_form_is_read_as_werkzeug_reads_it_or_left_to_werkzeug(body: bytes) -> None:
    # Given any urlencoded body, well-formed or not, UTF-8 or not
    # When the shortcut reads its parameters
    params = body_params(FORM, body)
    # Then they are werkzeug's, or it leaves the body to werkzeug
    assert params is None or params == _werkzeug_form(FORM, body)


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        (FORM, b"To=%2B1&To=%2B2&Body=a+b%26c", {"To": "+1", "Body": "a b&c"}),
        ("Application/X-WWW-Form-Urlencoded; charset=utf-8", b"a=%C3%A9", {"a": "é"}),
        ("application/json", b'{"chat_id": 1}', {"chat_id": 1}),
        ("application/json", b"[1]", {}),
        ("application/json", b"{", {}),
        ("text/plain", b"a=1", {}),
        ("", b"a=1", {}),
        ("multipart/form-data; boundary=x", b"--x--", None),
        (FORM, b"a=%FF", None),
        (FORM, b"a=\xff", None),
    ],
)
def test_bodies_read_like_werkzeug(content_type: str, body: bytes, expected: dict[str, Any] | None) -> None:
    # Given a body of some content type
    # When the shortcut reads it
    params = body_params(content_type, body)
    # Then its parameters are the expected ones, werkzeug's whenever it reads them at all
    assert params == expected
    if params is not None:
        assert params == _werkzeug_form(content_type, body)
