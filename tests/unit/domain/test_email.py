"""E-mail through the platform's SES sender (SPEC §10): admins with an address get alerts by e-mail too, and a
driver gets their Telegram link with its QR code (SPEC §3 POST /drivers/{id}/telegram-link/email)."""

import pytest
from pydantic import ValidationError

from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.drivers.commands import NewDriver
from ridecast.domain.drivers.roster import register_driver
from ridecast.domain.drivers.telegram_registration import email_link
from ridecast.domain.entities import AdminContact
from ridecast.errors import DriverHasNoEmail, EmailUnavailable, FleetChannelMissing
from tests.fakes import Fakes
from tests.unit.domain.conftest import ADMIN_PHONE, a_fleet

SENDER = "rides@ridecast.example"


def test_an_admin_with_an_email_gets_alerts_by_email_too(fakes: Fakes) -> None:
    # Given a platform SES sender and a fleet whose admin has a phone and an e-mail address
    fakes.secrets.platform = {"email_sender": SENDER}
    admins = [{"name": "Olu", "phone": ADMIN_PHONE, "email": "olu@example.com"}, {"name": "Eve", "email": "e@x.org"}]
    fleet = a_fleet(fakes, admin_contacts=admins)
    # When the admins are alerted
    ChannelRouter.for_fleet(fleet, fakes.ports).to_admins("Ride R-1 timed out", "ALERT ride R-1 timed out")
    # Then the first gets it by SMS and by e-mail, the second (e-mail only) by e-mail
    assert fakes.channels.to(ADMIN_PHONE) == ["ALERT ride R-1 timed out"]
    sent = [(sender, m.to, m.subject, m.body) for sender, m in fakes.channels.emails]
    assert sent == [
        (SENDER, "olu@example.com", "Ride R-1 timed out", "ALERT ride R-1 timed out"),
        (SENDER, "e@x.org", "Ride R-1 timed out", "ALERT ride R-1 timed out"),
    ]


def test_ses_down_or_no_sender_leaves_the_other_channels_alone(fakes: Fakes) -> None:
    fleet = a_fleet(fakes, admin_contacts=[{"name": "Olu", "phone": ADMIN_PHONE, "email": "olu@example.com"}])
    router = ChannelRouter.for_fleet(fleet, fakes.ports)
    # Without a platform sender no e-mail is attempted; with SES down it fails quietly
    router.to_admins("s", "first")
    fakes.secrets.platform = {"email_sender": SENDER}
    fakes.channels.down.add("email")
    ChannelRouter.for_fleet(fleet, fakes.ports).to_admins("s", "second")
    assert fakes.channels.emails == []
    assert fakes.channels.to(ADMIN_PHONE) == ["first", "second"]


@pytest.mark.parametrize("address", ["no-at-sign", "a@b", "two words@x.org", "a@x.org>\nBcc: all@x.org", "a,b@x.org"])
def test_an_admin_email_must_be_a_plain_address(address: str) -> None:
    with pytest.raises(ValidationError):
        AdminContact.model_validate({"name": "Olu", "email": address})


def a_driver_with(fakes: Fakes, email: str | None) -> tuple[str, str]:
    fleet = a_fleet(fakes)
    driver = register_driver(
        fakes.ports, fleet.fleet_id, NewDriver(name="Tova", phone="+447700900001", channel="telegram", email=email)
    )
    return fleet.fleet_id, driver.driver_id


def test_a_driver_gets_their_telegram_link_by_email_with_the_qr_code(fakes: Fakes) -> None:
    # Given the platform's bot and SES sender, and a Telegram driver with an e-mail address
    fakes.secrets.platform = {"email_sender": SENDER, "telegram_bot_token": "9:t", "telegram_bot_username": "RcBot"}
    fleet_id, driver_id = a_driver_with(fakes, "tova@example.com")
    drawn: list[str] = []
    # When the admin e-mails them their link
    link = email_link(fakes.ports, fleet_id, driver_id, lambda url: drawn.append(url) or b"PNG")
    # Then one e-mail carries the link, in text and HTML, and its QR code shown inline and attached
    [(sender, mail)] = fakes.channels.emails
    assert (sender, mail.to, mail.subject) == (
        SENDER,
        "tova@example.com",
        "Northside Cabs: your Telegram link for ride offers",
    )
    assert link.url.startswith("https://t.me/RcBot?start=")
    assert link.url in mail.body
    assert mail.html is not None
    assert link.url in mail.html
    assert 'src="cid:telegram-link.png"' in mail.html
    assert [(a.filename, a.content_type, a.data, a.inline) for a in mail.attachments] == [
        ("telegram-link.png", "image/png", b"PNG", True)
    ]
    assert drawn == [link.url]


def test_no_email_no_sender_or_ses_down_are_refused(fakes: Fakes) -> None:
    fakes.secrets.platform = {"telegram_bot_token": "9:t", "telegram_bot_username": "RcBot"}
    fleet_id, without = a_driver_with(fakes, None)
    with pytest.raises(DriverHasNoEmail):
        email_link(fakes.ports, fleet_id, without, lambda url: b"PNG")
    other = register_driver(
        fakes.ports, fleet_id, NewDriver(name="Ben", phone="+447700900002", channel="sms", email="ben@example.com")
    )
    with pytest.raises(FleetChannelMissing):  # the platform has no SES sender
        email_link(fakes.ports, fleet_id, other.driver_id, lambda url: b"PNG")
    fakes.secrets.platform["email_sender"] = SENDER
    fakes.channels.down.add("email")
    with pytest.raises(EmailUnavailable):
        email_link(fakes.ports, fleet_id, other.driver_id, lambda url: b"PNG")
    assert fakes.channels.emails == []
