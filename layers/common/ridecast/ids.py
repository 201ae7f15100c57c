"""Identifiers, API keys, offer tokens and ride codes."""

import base64
import hashlib
import hmac
import secrets

# Crockford's base32: no I, L, O, U, so codes read aloud over a radio are unambiguous.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RIDE_CODE_LENGTH = 5
_CODE_SPACE = 32**RIDE_CODE_LENGTH
# An odd multiplier is a bijection modulo a power of two: sequential rides get unique,
# non-sequential-looking codes until the space (33.5 M rides per fleet) wraps.
_CODE_MULTIPLIER = 0x1C8E_F4B5
_CODE_OFFSET = 0x0A5_3C71


def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(CROCKFORD) for _ in range(12)).lower()


def new_api_key() -> str:
    return "rc_" + secrets.token_urlsafe(32)


def hash_api_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def ride_code(sequence: int) -> str:
    value = (sequence * _CODE_MULTIPLIER + _CODE_OFFSET) % _CODE_SPACE
    chars = []
    for _ in range(RIDE_CODE_LENGTH):
        value, digit = divmod(value, 32)
        chars.append(CROCKFORD[digit])
    return "R-" + "".join(reversed(chars))


def new_offer_secret() -> str:
    return secrets.token_urlsafe(16)


def offer_token(ride_id: str, driver_id: str, secret: str) -> str:
    """Self-locating and unguessable: ids find the offer, the 128-bit secret proves the holder."""
    return f"{ride_id}.{driver_id}.{secret}"


def parse_offer_token(token: str) -> tuple[str, str, str] | None:
    parts = token.split(".", 2)
    if len(parts) != 3 or not all(parts) or len(token) > 128:
        return None
    return parts[0], parts[1], parts[2]


def same_secret(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def new_registration_token() -> str:
    # Telegram deep links allow at most 64 chars of A-Za-z0-9_-; token_urlsafe uses exactly that alphabet.
    return secrets.token_urlsafe(24)


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
