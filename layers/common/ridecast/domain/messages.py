"""Every text Ridecast sends, in one place, per language (English first; others fall back to it)."""

from datetime import datetime
from typing import Any

from ridecast.models.domain import Driver, Fleet, Ride

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "offer": (
            "New ride {code}\nPickup: {pickup}\nDropoff: {dropoff}\nWhen: {when}{price}{notes}\n"
            "Accept or reject: {link}\nOr reply 1 to accept, 2 to reject."
        ),
        "offer_telegram": "New ride {code}\nPickup: {pickup}\nDropoff: {dropoff}\nWhen: {when}{price}{notes}",
        "reminder": (
            "Reminder: ride {code} from {pickup} still needs a driver.\n{link}\nReply 1 to accept, 2 to reject."
        ),
        "reminder_telegram": "Reminder: ride {code} from {pickup} still needs a driver.",
        "taken": "Ride {code} has been taken by another driver. Thank you!",
        "cancelled_driver": "Ride {code} was cancelled. No action needed.",
        "assigned_driver": "Ride {code} is yours. Pickup: {pickup}. Customer: {customer_name} {customer_phone}.",
        "customer_searching": "Hi {customer_name}, we are finding you a driver: {count} drivers notified. Ride {code}.",
        "customer_no_drivers_now": (
            "Sorry {customer_name}, no driver is available for ride {code} right now. "
            "Please try again in a few minutes or call the fleet."
        ),
        "customer_matched": (
            "Your driver for ride {code}: {driver_name}, {driver_phone}{vehicle}{rating}. They are on their way."
        ),
        "customer_timed_out": (
            "Sorry {customer_name}, no driver accepted ride {code}. "
            "You can request again, choose a later pickup time, or call the fleet."
        ),
        "customer_failed": "Sorry {customer_name}, we could not process ride {code}. The fleet has been alerted.",
        "admin_timed_out": (
            "ALERT ride {code} timed out: no driver accepted.\nCustomer: {customer_name} {customer_phone}\n"
            "Pickup: {pickup}\nDropoff: {dropoff}\nWhen: {when}\nDrivers notified: {count}\n"
            "Suggested: call the customer, phone drivers directly, or re-create the ride."
        ),
        "admin_no_drivers": (
            "ALERT ride {code}: no eligible driver (none active). Customer: {customer_name} {customer_phone}, "
            "pickup {pickup}. Activate drivers or call the customer."
        ),
        "admin_low_availability": "Heads-up: ride {code} started with only {count} eligible drivers.",
        "admin_escalation": (
            "Ride {code} needs attention: all {count} offered drivers rejected or did not answer. "
            "Customer: {customer_name} {customer_phone}, pickup {pickup}."
        ),
        "admin_failed": "ALERT ride {code} failed: {error}. Customer: {customer_name} {customer_phone}.",
        "button_accept": "Accept",
        "button_reject": "Reject",
    },
}


def render(fleet: Fleet, kind: str, **values: Any) -> str:
    templates = TEMPLATES.get(fleet.language, TEMPLATES["en"])
    template = templates.get(kind) or TEMPLATES["en"][kind]
    return template.format(**values)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip() if moment else "now"


def ride_values(ride: Ride, **extra: Any) -> dict[str, Any]:
    return {
        "code": ride.code,
        "pickup": ride.pickup.address,
        "dropoff": ride.dropoff.address,
        "when": _when(ride.pickup_time),
        "price": f"\nPrice: {ride.price:.2f}" if ride.price is not None else "",
        "notes": f"\nNotes: {ride.notes}" if ride.notes else "",
        "customer_name": ride.customer.name,
        "customer_phone": ride.customer.phone,
        **extra,
    }


def driver_values(driver: Driver) -> dict[str, Any]:
    vehicle = f", {driver.vehicle.type} {driver.vehicle.plate}" if driver.vehicle else ""
    rating = f", rated {driver.rating:.1f}" if driver.rating is not None else ""
    return {"driver_name": driver.name, "driver_phone": driver.phone, "vehicle": vehicle, "rating": rating}
