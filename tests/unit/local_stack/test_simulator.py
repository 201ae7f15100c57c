import threading

from local_stack.simulator import DriverSimulator, SimulatedDriver, offers_in
from local_stack.standins import Outbox

BASE = "http://127.0.0.1:3000"


def test_offer_links_are_found_in_text_buttons_and_template_variables():
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


def test_each_driver_answers_each_offer_once():
    outbox = Outbox()
    answered = []
    done = threading.Event()

    def answer(driver, offer, action):
        answered.append((driver.driver_id, offer.token, action))
        if len(answered) == 2:
            done.set()
        return 200, '{"result": "assigned"}'

    drivers = [SimulatedDriver("d1", "Ann", "+15550001", "sms"), SimulatedDriver("d2", "Bo", "+15550002", "whatsapp")]
    lines = []
    simulator = DriverSimulator(
        outbox, drivers, BASE, answer=answer, accept_probability=1.0, delay_seconds=(0, 0), log=lines.append
    )
    simulator.start()
    try:
        outbox.record({"channel": "sms", "to": "+15550001", "body": f"Ride: {BASE}/offers/tok1"})
        outbox.record({"channel": "sms", "to": "+15550001", "body": f"Reminder: {BASE}/offers/tok1"})
        outbox.record({"channel": "sms", "to": "+15559999", "body": f"Not ours: {BASE}/offers/tok9"})
        outbox.record({"channel": "whatsapp", "to": "+15550002", "body": f"Ride: {BASE}/offers/tok2"})
        assert done.wait(5)
    finally:
        simulator.stop()
    assert sorted(answered) == [("d1", "tok1", "accept"), ("d2", "tok2", "accept")]
    assert any("Ann (+15550001) accepted" in line for line in lines)
