"""WhatsApp offers outside the 24-hour session go as the fleet's approved template (SPEC §5)."""

from datetime import timedelta

import pytest

from ridecast.domain.channels.ports import OutboundMessage
from ridecast.domain.channels.router import ChannelRouter, Delivery
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Driver, Fleet, TwilioConfig, TwilioSender
from tests.fakes import Fakes

CONTENT_SID = "HX" + "a" * 32
VARIABLES = {"1": "R-7K3QX", "2": "1 High St", "3": "Station", "4": "now", "5": "https://x/offers/t"}


def _fleet(content_sid: str | None) -> Fleet:
    now = utcnow()
    twilio = TwilioConfig(
        account_sid="AC" + "0" * 32,
        senders=[TwilioSender(channel="whatsapp", **{"from": "+15005550007"})],
        offer_content_sid=content_sid,
    )
    return Fleet(fleet_id="f1", name="Cabs", twilio=twilio, created_at=now, updated_at=now)


def _driver(last_whatsapp_message_ago: timedelta | None) -> Driver:
    now = utcnow()
    last = now - last_whatsapp_message_ago if last_whatsapp_message_ago is not None else None
    return Driver(
        driver_id="d1",
        fleet_id="f1",
        name="Dana",
        phone="+447700900123",
        channel="whatsapp",
        created_at=now,
        updated_at=now,
        last_whatsapp_inbound_at=last,
    )


def _sent(monkeypatch: pytest.MonkeyPatch, fleet: Fleet, driver: Driver) -> OutboundMessage:
    sent: list[OutboundMessage] = []

    def record(self: ChannelRouter, message: OutboundMessage) -> Delivery:
        sent.append(message)
        return Delivery(channel=message.channel, receipt=None, error="not sent in this test")

    monkeypatch.setattr(ChannelRouter, "send", record)
    fakes = Fakes()
    fakes.secrets.save_fleet_secrets(fleet.fleet_id, {"twilio_auth_token": "token"})  # the fleet's own account
    ChannelRouter.for_fleet(fleet, fakes.ports).to_driver(driver, "New ride R-7K3QX", template_variables=VARIABLES)
    return sent[0]


@pytest.mark.parametrize("silence", [None, timedelta(hours=25)])
def test_outside_the_session_the_offer_goes_as_the_template(
    monkeypatch: pytest.MonkeyPatch, silence: timedelta | None
) -> None:
    # Given a fleet with an approved offer template and a driver silent for over 24 h (or ever)
    # When an offer goes to them on WhatsApp
    message = _sent(monkeypatch, _fleet(CONTENT_SID), _driver(silence))
    # Then it is the template with the ride's variables
    assert (message.channel, message.content_sid, message.content_variables) == ("whatsapp", CONTENT_SID, VARIABLES)


def test_inside_the_session_the_offer_is_free_text(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a driver who wrote to the fleet's WhatsApp number an hour ago
    message = _sent(monkeypatch, _fleet(CONTENT_SID), _driver(timedelta(hours=1)))
    # Then the offer is plain text
    assert message.content_sid is None
    assert message.body == "New ride R-7K3QX"


def test_without_a_template_the_offer_is_free_text(monkeypatch: pytest.MonkeyPatch) -> None:
    message = _sent(monkeypatch, _fleet(None), _driver(None))
    assert message.content_sid is None
