"""Identifiers, ride codes, offer tokens and API key hashes (ridecast.ids)."""

import hashlib
import re

import pytest

from ridecast import ids

RIDE_CODE = re.compile(r"^R-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{5}$")


def test_ride_codes_are_unique_and_well_formed_over_100k_sequences() -> None:
    # Given the first 100,000 rides of a fleet (the per-fleet counter starts at 1)
    codes = [ids.ride_code(sequence) for sequence in range(1, 100_001)]
    # Then every code is a short Crockford code drivers can quote, and no two rides share one
    malformed = [code for code in codes if not RIDE_CODE.match(code)]
    assert malformed == []
    assert len(set(codes)) == len(codes)


def test_ride_codes_only_repeat_when_the_whole_code_space_is_used() -> None:
    # A multiplier sharing a factor with 32**5 would repeat codes after a fraction of the space, and such
    # repeats show up between sequences a power of two apart; the space itself wraps as documented.
    for sequence in (1, 12_345, 999_999):
        for power in range(25):
            assert ids.ride_code(sequence) != ids.ride_code(sequence + 2**power)
    assert ids.ride_code(7) == ids.ride_code(7 + 32**5)


def test_ride_codes_avoid_letters_that_read_like_digits() -> None:
    # Given many codes, Then none contains I, L, O or U (read aloud over a radio they are ambiguous)
    letters = {ch for sequence in range(1, 20_001) for ch in ids.ride_code(sequence)[2:]}
    assert letters.isdisjoint(set("ILOU"))


def test_consecutive_rides_do_not_get_consecutive_looking_codes() -> None:
    # Given two consecutive rides, Then their codes differ in more than the last character
    first, second = ids.ride_code(41), ids.ride_code(42)
    assert first[:-1] != second[:-1]


def test_ride_code_is_a_pure_function_of_the_sequence() -> None:
    # Retried creations must not renumber: the same sequence gives the same code
    assert ids.ride_code(12_345) == ids.ride_code(12_345)


def test_offer_token_round_trips_through_parse() -> None:
    # Given an offer token built from real-looking ids and a fresh secret
    ride_id, driver_id, secret = ids.new_id("r"), ids.new_id("d"), ids.new_offer_secret()
    token = ids.offer_token(ride_id, driver_id, secret)
    # When it is parsed, Then the same parts come back
    assert ids.parse_offer_token(token) == (ride_id, driver_id, secret)
    # And the token is URL-safe as it sits in a path segment
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "r1",
        "r1.d1",
        "r1..secret",
        ".d1.secret",
        "r1.d1.",
        "r1.d1." + "s" * 200,  # longer than any token we issue
    ],
)
def test_malformed_offer_tokens_are_rejected(token: str) -> None:
    # Given a token we never issued, When it is parsed, Then it is refused rather than half-parsed
    assert ids.parse_offer_token(token) is None


def test_secret_comparison() -> None:
    secret = ids.new_offer_secret()
    assert ids.same_secret(secret, secret)
    assert not ids.same_secret(secret, secret[:-1] + ("A" if secret[-1] != "A" else "B"))


def test_api_keys_are_stored_as_sha256_hex_of_the_raw_key() -> None:
    # Given a new key
    key = ids.new_api_key()
    # Then it is recognisable, and only its SHA-256 is what the table stores
    assert key.startswith("rc_")
    assert len(key) > 40
    assert ids.hash_api_key(key) == hashlib.sha256(key.encode()).hexdigest()
    assert ids.hash_api_key(key) != key
    # And two keys (or a key and a near miss) never share a hash
    assert ids.hash_api_key(key) != ids.hash_api_key(key + " ")
    assert len({ids.new_api_key() for _ in range(200)}) == 200


def test_new_ids_have_their_prefix_and_are_unique() -> None:
    made = {ids.new_id("r") for _ in range(2_000)}
    assert len(made) == 2_000
    assert all(re.fullmatch(r"r[0-9a-z]{12}", i) for i in made)


def test_registration_tokens_fit_telegram_deep_links() -> None:
    # Telegram /start payloads allow at most 64 characters of A-Za-z0-9_-
    for _ in range(200):
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", ids.new_registration_token())
