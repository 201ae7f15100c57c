"""Every text Ridecast sends, in one place, per language (English first; others fall back to it).

A text with a number in it ("{count} drivers notified") is an object of CLDR plural forms in the catalogue
(`{"one": ..., "two": ..., "few": ..., "many": ..., "other": ...}`, as the language has them); Babel's plural
rules pick the form for the `count` it is rendered with, so 1 and 3 and 11 each read right in Arabic too."""

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from babel.plural import PluralRule

from ridecast.domain.entities import Driver, Fleet, Ride

LANGUAGES = ("en", "fr", "he", "ar")
_TEMPLATE_DIR = Path(__file__).with_name("templates")


# A text, or a text per CLDR plural category ("zero", "one", "two", "few", "many", "other").
Template = str | dict[str, str]


@cache
def templates_for(language: str) -> dict[str, Template]:
    """One JSON catalogue per language (translators edit those files); English fills any gap."""
    if language not in LANGUAGES:
        language = "en"
    catalogue: dict[str, Template] = json.loads((_TEMPLATE_DIR / f"{language}.json").read_text(encoding="utf-8"))
    return catalogue if language == "en" else {**templates_for("en"), **catalogue}


@cache
def plural_rule(language: str) -> "PluralRule":
    """The language's CLDR plural rule. Babel is imported on the first text with a number, not at cold start."""
    from babel import Locale

    return Locale.parse(language if language in LANGUAGES else "en").plural_form


def plural_category(language: str, count: int) -> str:
    return str(plural_rule(language)(count))


def pick_form(language: str, template: Template, values: dict[str, Any]) -> str:
    """The text itself, or the plural form for `count` (falling back to "other", which every entry has)."""
    if isinstance(template, str):
        return template
    if "count" not in values:
        raise KeyError(f"a plural text needs a count (forms: {sorted(template)})")
    return template.get(plural_category(language, int(values["count"])), template["other"])


RIGHT_TO_LEFT = frozenset({"he", "ar"})
# Unicode isolates keep left-to-right values (codes, phones, links, Latin addresses) from scrambling
# the order of a right-to-left sentence; they are invisible when displayed.
_FIRST_STRONG_ISOLATE = "\u2068"
_POP_DIRECTIONAL_ISOLATE = "\u2069"


def render(fleet: Fleet, kind: str, **values: Any) -> str:
    return render_in(fleet.language, kind, **values)


def render_in(language: str, kind: str, **values: Any) -> str:
    templates = templates_for(language)
    template = pick_form(language, templates[kind], values)
    if language in RIGHT_TO_LEFT:
        values = {key: _isolate(value) for key, value in values.items()}
    for optional in ("price", "notes"):
        # Optional ride details become a labelled line of their own, or nothing at all.
        if optional in values:
            label = pick_form(language, templates[f"label_{optional}"], values)
            values[optional] = f"\n{label}: {values[optional]}" if str(values[optional]).strip() else ""
    return template.format(**values)


def _isolate(value: Any) -> Any:
    text = str(value)
    if not text.strip():
        return value
    return f"{_FIRST_STRONG_ISOLATE}{text}{_POP_DIRECTIONAL_ISOLATE}"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip() if moment else "now"


def local_time(fleet: Fleet, moment: datetime) -> str:
    """A moment as the fleet's customers read it: in the fleet's time zone and language (CLDR, by Babel),
    with the zone named so nobody wonders whose clock it is."""
    from babel.dates import format_datetime

    zone = ZoneInfo(fleet.timezone)
    return f"{format_datetime(moment, 'EEE d MMM y, HH:mm', tzinfo=zone, locale=fleet.language)} ({fleet.timezone})"


def ride_values(ride: Ride, **extra: Any) -> dict[str, Any]:
    return {
        "code": ride.code,
        "pickup": ride.pickup.address,
        "dropoff": ride.dropoff.address,
        "when": _when(ride.pickup_time),
        "price": f"{ride.price:.2f}" if ride.price is not None else "",
        "notes": ride.notes or "",
        "customer_name": ride.customer.name,
        "customer_phone": ride.customer.phone,
        **extra,
    }


def driver_values(driver: Driver) -> dict[str, Any]:
    vehicle = f", {driver.vehicle.type} {driver.vehicle.plate}" if driver.vehicle else ""
    rating = f", rated {driver.rating:.1f}" if driver.rating is not None else ""
    return {"driver_name": driver.name, "driver_phone": driver.phone, "vehicle": vehicle, "rating": rating}
