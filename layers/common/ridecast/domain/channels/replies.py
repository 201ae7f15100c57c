"""What a driver's free-text SMS/WhatsApp reply means: accept, reject, give back, or neither, and which ride."""

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

# Every supported language's words are understood whatever the fleet's language: a French-speaking
# driver in an English fleet still means "oui".
ACCEPT_WORDS = frozenset(
    {"1", "yes", "y", "accept", "ok", "oui", "accepter", "accepte", "כן", "מאשר", "نعم", "قبول", "اقبل", "أقبل"}
)
REJECT_WORDS = frozenset(
    {"2", "no", "n", "reject", "non", "refuser", "refuse", "לא", "דחה", "لا", "رفض", "ارفض", "أرفض"}
)
# The driver who holds a ride gives it back (SPEC §8); the Arabic word is also written without its hamza.
RELEASE_WORDS = frozenset({"cancel", "annuler", "ביטול", "إلغاء", "الغاء"})
# The dash is required: without it "reject" and "refuse" would read as ride codes R-EJECT, R-EFUSE.
_RIDE_CODE = re.compile(r"\bR-([0-9A-Z]{5})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Reply:
    action: Literal["accept", "reject", "release"] | None
    ride_code: str | None


def parse_reply(text: str) -> Reply:
    normalized = unicodedata.normalize("NFKC", text or "").strip()
    code_match = _RIDE_CODE.search(normalized)
    ride_code = f"R-{code_match.group(1).upper()}" if code_match else None
    remainder = _RIDE_CODE.sub(" ", normalized)
    words = [w for w in re.split(r"[\s,.;:!?،]+", remainder.casefold()) if w]
    if len(words) != 1:
        return Reply(action=None, ride_code=ride_code)
    word = words[0]
    if word in ACCEPT_WORDS:
        return Reply(action="accept", ride_code=ride_code)
    if word in REJECT_WORDS:
        return Reply(action="reject", ride_code=ride_code)
    if word in RELEASE_WORDS:
        return Reply(action="release", ride_code=ride_code)
    return Reply(action=None, ride_code=ride_code)
