"""Constrained types, named once."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

E164 = r"^\+[1-9]\d{6,14}$"
Phone = Annotated[str, Field(pattern=E164, examples=["+447700900123"])]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
ChatId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^-?\d{1,20}$")]

DriverChannel = Literal["telegram", "whatsapp", "sms"]
MessageChannel = Literal["telegram", "whatsapp", "sms"]
TwilioChannel = Literal["whatsapp", "sms"]
DriverStatus = Literal["active", "inactive", "blocked"]
RideStatus = Literal["searching", "assigned", "timed_out", "cancelled", "failed"]
OfferStatus = Literal["sent", "failed", "accepted", "rejected", "timeout", "taken", "cancelled"]
Role = Literal["admin", "dispatcher"]
Language = Literal["en", "fr", "he", "ar"]

TERMINAL_RIDE_STATUSES: frozenset[str] = frozenset({"assigned", "timed_out", "cancelled", "failed"})
# Offers a driver can still act on while the ride is searching.
OPEN_OFFER_STATUSES: frozenset[str] = frozenset({"sent", "timeout"})
