"""E-mail through the platform's SES sender (SPEC §10): admins with an address get alerts by e-mail too."""

import pytest
from pydantic import ValidationError

from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.entities import AdminContact
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
