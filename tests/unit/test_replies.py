"""What a driver's SMS/WhatsApp reply means (SPEC §5: `1`/`yes`/`accept`, `2`/`no`/`reject`, optional code)."""

import pytest

from ridecast.domain.replies import parse_reply

RIDECAST_BUG_CODE_EATS_WORD = pytest.mark.xfail(
    strict=True,
    reason="BUG replies._RIDE_CODE (`\\bR-?([0-9A-Z]{5})\\b`, case-insensitive) reads 'reject'/'refuse' as the "
    "ride code R-EJECT/R-EFUSE and drops the word, so the reply gets the help text instead of rejecting.",
)


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
        pytest.param("reject", "reject", None, marks=RIDECAST_BUG_CODE_EATS_WORD),
        pytest.param("Reject", "reject", None, marks=RIDECAST_BUG_CODE_EATS_WORD),
        pytest.param("refuse", "reject", None, marks=RIDECAST_BUG_CODE_EATS_WORD),
        ("1 R-7K3QX", "accept", "R-7K3QX"),
        ("r-7k3qx yes", "accept", "R-7K3QX"),
        ("2 R-7K3QX", "reject", "R-7K3QX"),
        pytest.param("reject R-7K3QX", "reject", "R-7K3QX", marks=RIDECAST_BUG_CODE_EATS_WORD),
        ("maybe", None, None),
        ("1 2", None, None),
        ("", None, None),
    ],
)
def test_replies_are_understood(text: str, action: str | None, code: str | None) -> None:
    reply = parse_reply(text)
    assert (reply.action, reply.ride_code) == (action, code)
