"""Constrained types, named once."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

# `+` and ASCII digits only: `\d` would also take Arabic-Indic and other Unicode digits, which no
# provider dials (SPEC §3 Strictness).
E164 = r"^\+[1-9][0-9]{6,14}$"
# Text that goes into SMS, WhatsApp and Telegram messages: no line breaks or other control characters,
# so a caller cannot forge a line of a message (a fake offer link, say). Covers C0, DEL, C1 and the
# Unicode line and paragraph separators.
SINGLE_LINE = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
Phone = Annotated[str, Field(pattern=E164, examples=["+447700900123"])]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=SINGLE_LINE)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000, pattern=SINGLE_LINE)]
# An address SES takes as it is: no display name, no spaces, commas or angle brackets (no header injection).
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=254,
        pattern=r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}$",
    ),
]
ChatId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^-?[0-9]{1,20}$")]

DriverChannel = Literal["telegram", "whatsapp", "sms"]
MessageChannel = DriverChannel
TwilioChannel = Literal["whatsapp", "sms"]
DriverStatus = Literal["active", "inactive", "blocked"]
RideStatus = Literal["scheduled", "searching", "assigned", "timed_out", "cancelled", "failed"]
OfferStatus = Literal["sent", "failed", "accepted", "rejected", "timeout", "taken", "cancelled", "released"]
Role = Literal["admin", "dispatcher"]
Language = Literal["en", "fr", "he", "ar"]

TERMINAL_RIDE_STATUSES: frozenset[str] = frozenset({"assigned", "timed_out", "cancelled", "failed"})
# Offers a driver can still act on while the ride is searching.
OPEN_OFFER_STATUSES: frozenset[str] = frozenset({"sent", "timeout"})
