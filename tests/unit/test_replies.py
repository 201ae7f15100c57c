"""What a driver's SMS/WhatsApp reply means (SPEC §5: `1`/`yes`/`accept`, `2`/`no`/`reject`, optional code)."""

import pytest

from ridecast.domain.channels.replies import parse_reply


@pytest.mark.parametrize(
    ("text", "action", "code"),
    [
        ("1", "accept", None),
        ("yes", "accept", None),
        ("YES", "accept", None),
        (" Accept! ", "accept", None),
        ("oui", "accept", None),
        ("2", "reject", None),
        ("no", "reject", None),
        ("No.", "reject", None),
        ("reject", "reject", None),
        ("Reject", "reject", None),
        ("refuse", "reject", None),
        ("1 R-7K3QX", "accept", "R-7K3QX"),
        ("r-7k3qx yes", "accept", "R-7K3QX"),
        ("2 R-7K3QX", "reject", "R-7K3QX"),
        ("reject R-7K3QX", "reject", "R-7K3QX"),
        # SPEC §8: the driver who holds a ride gives it back, in any supported language
        ("cancel", "release", None),
        ("CANCEL R-7K3QX", "release", "R-7K3QX"),
        ("Annuler", "release", None),
        ("ביטול", "release", None),
        ("إلغاء", "release", None),
        ("الغاء R-7K3QX", "release", "R-7K3QX"),
        ("cancel cancel", None, None),
        ("maybe", None, None),
        ("1 2", None, None),
        ("", None, None),
    ],
)
def test_replies_are_understood(text: str, action: str | None, code: str | None) -> None:
    reply = parse_reply(text)
    assert (reply.action, reply.ride_code) == (action, code)
