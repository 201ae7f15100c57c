"""Admin alerts that can be acted on (SPEC §8): on Telegram, an alert about a timed-out ride carries a
"Rebroadcast" button (a new ride with the same details, through the normal create path and its limits) and
one about a ride still searching a "Cancel" button.

A press reaches the fleet's bot webhook as a callback query. Only a chat that is one of the fleet's admin
contacts may act: the message pressed must be in that chat (a forwarded alert, or anyone else's chat, is
refused and nothing changes). A second press is harmless: the rebroadcast is created once per ride (its
Idempotency-Key is the ride's), and a cancelled ride stays cancelled."""

from dataclasses import dataclass
from datetime import timedelta

from ridecast.domain.channels.catalogue import render
from ridecast.domain.channels.ports import Button
from ridecast.domain.clock import utcnow
from ridecast.domain.entities import Fleet, Ride
from ridecast.domain.ports import Ports
from ridecast.domain.rides.cancel import cancel_ride
from ridecast.domain.rides.commands import NewRide
from ridecast.domain.rides.create import create_ride_once
from ridecast.errors import IdempotencyRequestInFlight, InvalidInput, RateLimited, RideNotCancellable
from ridecast.observability import logger, metrics

REBROADCAST, CANCEL = "rb", "cx"
ACTIONS = frozenset({REBROADCAST, CANCEL})
# Which alert carries which button: a ride that timed out (no driver took it, or none was eligible) can go
# out again; one still searching can be called off.
BUTTON_FOR_ALERT = {
    "admin_timed_out": REBROADCAST,
    "admin_no_drivers": REBROADCAST,
    "admin_escalation": CANCEL,
    "admin_low_availability": CANCEL,
}
# A rebroadcast is created once per ride for as long as the Idempotency-Key is remembered (24 h): past it a
# press would create another ride, so a day-old ride is re-created by hand instead.
REBROADCAST_WITHIN = timedelta(hours=23)


@dataclass(frozen=True)
class AdminPress:
    """An admin button pressed in Telegram chat `chat_id` (None when Telegram did not say where)."""

    action: str
    ride_id: str
    chat_id: str | None


def alert_buttons(fleet: Fleet, ride: Ride, kind: str) -> tuple[Button, ...]:
    action = BUTTON_FOR_ALERT.get(kind)
    if action is None:
        return ()
    label = render(fleet, "button_rebroadcast" if action == REBROADCAST else "button_cancel_ride")
    return (Button(label, f"{action}:{ride.ride_id}"),)


def answer_admin_press(ports: Ports, fleet: Fleet, press: AdminPress) -> tuple[str, bool]:
    """What the admin is told, and whether the alert is edited to show it (never for a refusal)."""
    admin_chats = {a.telegram_chat_id for a in fleet.admin_contacts if a.telegram_chat_id}
    ride = ports.stores.rides.get(press.ride_id)
    if press.chat_id not in admin_chats or ride is None or ride.fleet_id != fleet.fleet_id:
        logger.info("admin button refused", extra={"action": press.action, "ride_id": press.ride_id})
        return render(fleet, "admin_button_refused", fleet_name=fleet.name), False
    text = _rebroadcast(ports, fleet, ride) if press.action == REBROADCAST else _cancel(ports, fleet, ride)
    metrics.add_metric(name="AdminButtonActions", unit="Count", value=1)
    return text, True


def _cancel(ports: Ports, fleet: Fleet, ride: Ride) -> str:
    try:
        cancel_ride(ports, fleet.fleet_id, ride.ride_id, "by an admin from a Telegram alert")
    except RideNotCancellable as refused:
        if refused.details.get("status") != "cancelled":
            return render(fleet, "admin_ride_unchanged", code=ride.code)
    return render(fleet, "admin_cancel_done", code=ride.code)


def _rebroadcast(ports: Ports, fleet: Fleet, ride: Ride) -> str:
    if ride.status != "timed_out":
        return render(fleet, "admin_rebroadcast_refused", code=ride.code, reason=f"it is {ride.status}")
    ended = ride.ended_at or ride.created_at
    if utcnow() - ended > REBROADCAST_WITHIN:
        return render(fleet, "admin_rebroadcast_too_old", code=ride.code)
    # The same request on every press (a pickup time that had passed when the ride ended is dropped), so
    # the Idempotency-Key finds the first press's ride.
    pickup_time = ride.pickup_time if ride.pickup_time and ride.pickup_time > ended else None
    again = NewRide(
        customer=ride.customer,
        pickup=ride.pickup,
        dropoff=ride.dropoff,
        pickup_time=pickup_time,
        price=ride.price,
        notes=ride.notes,
        matching=ride.matching,
    )
    try:
        created = create_ride_once(ports, fleet.fleet_id, again, f"rebroadcast-{ride.ride_id}", "admin-alert")
    except RateLimited as limited:
        return render(fleet, "admin_rebroadcast_limited", code=ride.code, seconds=limited.retry_after_seconds)
    except (IdempotencyRequestInFlight, InvalidInput) as refused:
        # A press while the first is still creating it, or the key taken by another request: said as it is.
        return render(fleet, "admin_rebroadcast_refused", code=ride.code, reason=refused.message)
    logger.info("ride rebroadcast from an alert", extra={"ride_id": ride.ride_id, "new_ride_id": created.ride_id})
    return render(fleet, "admin_rebroadcast_done", code=ride.code, new_code=created.code)
