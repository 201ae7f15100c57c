"""Every text Ridecast sends renders in every language, with the values its call sites pass."""

import json
import string
from datetime import UTC, datetime, timedelta

import pytest

from ridecast.domain.channels import catalogue
from ridecast.domain.entities import Customer, Driver, Fleet, Place, Ride, Vehicle

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
# Values some call sites add on top of ride_values/driver_values (matching, notifications, inbound).
CALL_SITE_EXTRAS = {
    "link": "https://ridecast.example.com/offers/r1.d1.secret",
    "count": "7",
    "error": "Lambda.Unknown: boom",
    "register_link": "https://t.me/northside_cabs_bot?start=abc",
    "fleet_name": "Northside Cabs",
    "channel": "telegram",
    "pickup_at": "Fri 14 Mar 2025, 10:00 (UTC)",
    # the daily report (ridecast.domain.stats.daily_report.figures)
    **dict.fromkeys(("day", "total", "assigned", "timed_out", "cancelled", "failed", "acceptance"), "1"),
    **dict.fromkeys(("ttm_mean", "ttm_p50", "ttm_p95", "notified"), "1"),
    "text": "Road works on the A1:\nuse the M1",
    "new_code": "R-9Z8Y7",
    "seconds": "42",
    "reason": "the fleet's limit of rides per minute is reached",
}


def _forms(template: catalogue.Template) -> list[str]:
    return [template] if isinstance(template, str) else list(template.values())


def _placeholders(template: catalogue.Template) -> set[str]:
    return {field for form in _forms(template) for _, field, _, _ in string.Formatter().parse(form) if field}


def _raw_catalogue(language: str) -> dict[str, catalogue.Template]:
    path = catalogue._TEMPLATE_DIR / f"{language}.json"
    texts: dict[str, catalogue.Template] = json.loads(path.read_text(encoding="utf-8"))
    return texts


def _ride(**changes: object) -> Ride:
    values: dict[str, object] = {
        "ride_id": "r5b7e2j9p4s6y",
        "fleet_id": "f4x9k2m7q3t8w",
        "code": "R-7K3QX",
        "customer": Customer(name="Dana Levi", phone="+447700900123"),
        "pickup": Place(address="King's Cross Station"),
        "dropoff": Place(address="Heathrow T5"),
        "pickup_time": NOW + timedelta(minutes=30),
        "price": 62.5,
        "notes": "Two suitcases",
        "created_at": NOW,
        "deadline_at": NOW + timedelta(minutes=5),
    }
    return Ride.model_validate(values | changes)


DRIVER = Driver(
    driver_id="d8h2n5r1v6z3c",
    fleet_id="f4x9k2m7q3t8w",
    name="Amira Haddad",
    phone="+447700900456",
    channel="whatsapp",
    vehicle=Vehicle(type="Sedan", plate="RC21 XYZ"),
    rating=4.8,
    created_at=NOW,
    updated_at=NOW,
)


def _all_values(ride: Ride) -> dict[str, object]:
    return {**catalogue.ride_values(ride), **catalogue.driver_values(DRIVER), **CALL_SITE_EXTRAS}


def _cases() -> list[tuple[str, str]]:
    return [(language, kind) for language in catalogue.LANGUAGES for kind in catalogue.templates_for(language)]


@pytest.mark.parametrize(("language", "kind"), _cases())
def test_every_template_renders_from_the_values_call_sites_have(language: str, kind: str) -> None:
    # Given a template and everything ride_values, driver_values and the call sites can supply
    template = catalogue.templates_for(language)[kind]
    available = set(_all_values(_ride()))
    # Then it asks for nothing else (a typo such as {custmer_name} would be a KeyError at send time)
    assert _placeholders(template) <= available
    # And it renders, for a ride with and without its optional details
    for ride in (_ride(), _ride(price=None, notes=None, pickup_time=None)):
        for count in ("0", "1", "2", "3", "11", "100"):  # one of each CLDR plural category of every language
            text = catalogue.render_in(language, kind, **(_all_values(ride) | {"count": count}))
            assert text.strip()
            assert "{" not in text.replace("{{", "")


@pytest.mark.parametrize("language", [lang for lang in catalogue.LANGUAGES if lang != "en"])
def test_translations_only_use_values_the_english_text_uses(language: str) -> None:
    # A translation that needs a value its English original does not get would fail in that language only
    english = _raw_catalogue("en")
    translated = _raw_catalogue(language)
    assert set(translated) <= set(english), "keys with no English original (typos?)"
    needs_more = {
        kind: sorted(_placeholders(text) - _placeholders(english[kind]))
        for kind, text in translated.items()
        if _placeholders(text) - _placeholders(english[kind])
    }
    assert needs_more == {}


def test_unknown_language_falls_back_to_english() -> None:
    assert catalogue.templates_for("xx") == catalogue.templates_for("en")


def test_optional_ride_details_are_labelled_lines_or_nothing() -> None:
    # Given an offer with a price and notes, Then each is its own labelled line
    with_details = catalogue.render_in("en", "offer", **catalogue.ride_values(_ride(), link="L"))
    assert "\nPrice: 62.50" in with_details
    assert "\nNotes: Two suitcases" in with_details
    # Given one without, Then no empty label is left behind
    without = catalogue.render_in("en", "offer", **catalogue.ride_values(_ride(price=None, notes=None), link="L"))
    assert "Price" not in without
    assert "Notes" not in without
    assert "When: now" in catalogue.render_in("en", "offer", **catalogue.ride_values(_ride(pickup_time=None), link="L"))


def test_right_to_left_languages_isolate_left_to_right_values() -> None:
    # Given a Hebrew fleet, When an offer renders, Then the ride code and link sit in Unicode isolates
    text = catalogue.render_in("he", "offer", **catalogue.ride_values(_ride(), link="https://x/offers/t"))
    assert "\u2068R-7K3QX\u2069" in text
    assert "\u2068https://x/offers/t\u2069" in text
    # And English text is left untouched
    assert "\u2068" not in catalogue.render_in("en", "offer", **catalogue.ride_values(_ride(), link="L"))


def test_customer_matched_tells_who_is_coming() -> None:
    fleet = Fleet(fleet_id="f1", name="Northside Cabs", created_at=NOW, updated_at=NOW)
    text = catalogue.render(
        fleet, "customer_matched", **catalogue.ride_values(_ride(), **catalogue.driver_values(DRIVER))
    )
    assert text == (
        "Your driver for ride R-7K3QX: Amira Haddad, +447700900456, Sedan RC21 XYZ, rated 4.8. They are on their way."
    )


def _plural_entries() -> list[tuple[str, str]]:
    return [
        (language, kind)
        for language in catalogue.LANGUAGES
        for kind, template in _raw_catalogue(language).items()
        if isinstance(template, dict)
    ]


@pytest.mark.parametrize(("language", "kind"), _plural_entries())
def test_a_text_with_a_number_has_every_plural_form_its_language_has(language: str, kind: str) -> None:
    # Given a text with plural forms in a catalogue
    forms = _raw_catalogue(language)[kind]
    assert isinstance(forms, dict)
    rule = catalogue.plural_rule(language)
    # Then its forms are CLDR categories of that language (no typo), "other" among them
    assert "other" in forms
    assert set(forms) <= set(rule.tags) | {"other"}
    # And every count a fleet can have (French "many" is for millions) finds its own form, not a fallback
    assert {str(rule(n)) for n in range(0, 1001)} <= set(forms)


def test_every_text_that_counts_drivers_has_plural_forms_in_every_language_that_translates_it() -> None:
    # "1 drivers notified" was the bug: each of these takes a count of drivers or sends
    counted = ("customer_searching", "admin_escalation", "admin_low_availability", "admin_channel_offline")
    for language in catalogue.LANGUAGES:
        raw = _raw_catalogue(language)
        assert all(isinstance(raw[kind], dict) for kind in counted if kind in raw), language


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        ("en", 1, "we are finding you a driver: 1 driver notified."),
        ("en", 0, "we are finding you a driver: 0 drivers notified."),
        ("en", 7, "we are finding you a driver: 7 drivers notified."),
        ("fr", 0, "nous cherchons un chauffeur : 0 chauffeur prévenu."),
        ("fr", 1, "nous cherchons un chauffeur : 1 chauffeur prévenu."),
        ("fr", 2, "nous cherchons un chauffeur : 2 chauffeurs prévenus."),
        ("he", 1, "נהג אחד קיבל הודעה"),
        ("he", 2, "שני נהגים קיבלו הודעה"),
        ("he", 5, "\u20685\u2069 נהגים קיבלו הודעה"),
        ("ar", 0, "لم يتم إبلاغ أي سائق بعد"),
        ("ar", 1, "تم إبلاغ سائق واحد"),
        ("ar", 2, "تم إبلاغ سائقَين"),
        ("ar", 3, "تم إبلاغ \u20683\u2069 سائقين"),
        ("ar", 11, "تم إبلاغ \u206811\u2069 سائقًا"),
        ("ar", 100, "تم إبلاغ \u2068100\u2069 سائق."),
    ],
)
def test_the_searching_message_reads_right_for_one_and_for_many(language: str, count: int, expected: str) -> None:
    # Given a ride and the number of drivers its first wave reached
    values = catalogue.ride_values(_ride(), count=str(count))
    # When the customer's "searching" message renders in the fleet's language
    text = catalogue.render_in(language, "customer_searching", **values)
    # Then the noun (and verb) agree with the number, as CLDR's plural rules for the language say
    assert expected in text


def test_a_plural_text_without_a_count_is_a_bug_not_a_guess() -> None:
    with pytest.raises(KeyError, match="needs a count"):
        catalogue.render_in("en", "customer_searching", **catalogue.ride_values(_ride()))


@pytest.mark.parametrize(
    ("language", "timezone", "expected"),
    [
        ("en", "UTC", "Fri 14 Mar 2025, 10:00 (UTC)"),
        ("fr", "Europe/Paris", "ven. 14 mars 2025, 11:00 (Europe/Paris)"),
        ("he", "Asia/Jerusalem", "12:00 (Asia/Jerusalem)"),
    ],
)
def test_a_booking_confirmation_gives_the_pickup_time_on_the_fleets_clock_and_in_its_language(
    language: str, timezone: str, expected: str
) -> None:
    # Given a fleet in its own time zone and language, and a ride booked for 10:00 UTC
    fleet = Fleet(
        fleet_id="f1", name="Northside Cabs", language=language, timezone=timezone, created_at=NOW, updated_at=NOW
    )
    ride = _ride(pickup_time=datetime(2025, 3, 14, 10, 0, tzinfo=UTC))
    # When the customer is told the booking is confirmed
    text = catalogue.render(
        fleet,
        "customer_scheduled",
        **catalogue.ride_values(ride, pickup_at=catalogue.local_time(fleet, ride.pickup_time)),
    )
    # Then the pickup time reads on the fleet's clock, in its language, with the zone named
    assert expected in text.replace("\u2068", "").replace("\u2069", "")
    assert ride.code in text
