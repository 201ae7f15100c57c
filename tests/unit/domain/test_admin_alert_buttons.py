"""Admin alerts with buttons (SPEC §8): Rebroadcast a timed-out ride, Cancel a searching one, from the alert
on Telegram; only the fleet's admin chats may, and a second press changes nothing more."""

from datetime import timedelta

import pytest

from ridecast.domain.channels.ports import Button, OutboundMessage
from ridecast.domain.drivers.telegram_bot import PressedButton, handle_bot_update
from ridecast.domain.entities import Fleet, Ride
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.endings import time_out
from ridecast.domain.matching.notifications import escalate
from tests.fakes import Fakes
from tests.unit.domain.conftest import a_fleet, a_ride, drivers_of

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

ADMIN_CHAT = "4242"
STRANGER_CHAT = "5151"
_updates = iter(range(1, 10_000))


def admin_fleet(fakes: Fakes, **fields: object) -> Fleet:
    """A fleet with a bot whose admin is on Telegram."""
    return a_fleet(
        fakes, telegram=True, admin_contacts=[{"name": "Olu Admin", "telegram_chat_id": ADMIN_CHAT}], **fields
    )


def alert_to_admin(fakes: Fakes, kind_words: str) -> OutboundMessage:
    (alert,) = [m for m in fakes.channels.sent if m.to == ADMIN_CHAT and kind_words in m.body]
    return alert


def press(fakes: Fakes, fleet: Fleet, alert: OutboundMessage, chat_id: str = ADMIN_CHAT) -> None:
    """The alert's button pressed in `chat_id`, as Telegram delivers it to the fleet's webhook."""
    (button,) = alert.buttons
    pressed = PressedButton(
        callback_query_id=f"cb{next(_updates)}",
        user_id=chat_id,
        data=button.callback_data,
        chat_id=chat_id,
        message_id="77",
        message_text=alert.body,
    )
    handle_bot_update(fakes.ports, fleet, next(_updates), pressed)


def timed_out_ride(fakes: Fakes, fleet: Fleet) -> Ride:
    drivers_of(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    time_out(fakes.ports, ride.ride_id)
    return ride


def rides_of(fakes: Fakes, fleet: Fleet) -> list[Ride]:
    return fakes.rides.for_fleet(fleet.fleet_id, None, None, 100, None)[0]


def test_a_timed_out_ride_alert_rebroadcasts_it_once_through_the_create_path(fakes: Fakes) -> None:
    # Given a ride that timed out, and its alert on the admin's Telegram
    fleet = admin_fleet(fakes)
    ride = timed_out_ride(fakes, fleet)
    alert = alert_to_admin(fakes, "timed out")
    assert [(b.text, b.callback_data) for b in alert.buttons] == [("Rebroadcast", f"rb:{ride.ride_id}")]
    # When the admin presses Rebroadcast
    press(fakes, fleet, alert)
    # Then a new ride with the same details is searching, its matching started
    (again,) = [r for r in rides_of(fakes, fleet) if r.ride_id != ride.ride_id]
    assert again.status == "searching"
    assert (again.customer, again.pickup, again.dropoff) == (ride.customer, ride.pickup, ride.dropoff)
    assert again.ride_id in fakes.matching.started
    # And the alert is edited to say so, the toast too
    assert fakes.channels.edits[-1].text == f"{alert.body}\n\nRebroadcast as ride {again.code}."
    assert fakes.channels.callback_answers[-1][1] == f"Rebroadcast as ride {again.code}."
    # When the admin presses it again, Then nothing more is created and the answer is the same
    press(fakes, fleet, alert)
    assert len(rides_of(fakes, fleet)) == 2
    assert fakes.channels.callback_answers[-1][1] == f"Rebroadcast as ride {again.code}."


def test_a_press_from_a_chat_that_is_not_an_admins_is_refused_and_changes_nothing(fakes: Fakes) -> None:
    fleet = admin_fleet(fakes)
    ride = timed_out_ride(fakes, fleet)
    alert = alert_to_admin(fakes, "timed out")
    edits = len(fakes.channels.edits)
    # When someone else's chat presses the (forwarded) button
    press(fakes, fleet, alert, chat_id=STRANGER_CHAT)
    # Then they are told no, no ride is created, and the alert is not edited
    assert "Only" in fakes.channels.callback_answers[-1][1]
    assert [r.ride_id for r in rides_of(fakes, fleet)] == [ride.ride_id]
    assert len(fakes.channels.edits) == edits


def test_another_fleets_ride_cannot_be_acted_on_through_this_fleets_bot(fakes: Fakes) -> None:
    fleet = admin_fleet(fakes)
    ride = timed_out_ride(fakes, fleet)
    alert = alert_to_admin(fakes, "timed out")
    other = a_fleet(
        fakes,
        name="Southside",
        telegram=True,
        twilio=None,
        admin_contacts=[{"name": "A", "telegram_chat_id": ADMIN_CHAT}],
    )
    press(fakes, other, alert)
    assert "Only" in fakes.channels.callback_answers[-1][1]
    assert [r.ride_id for r in rides_of(fakes, fleet)] == [ride.ride_id]


def test_a_rebroadcast_past_the_fleets_ride_limit_is_refused_saying_why(fakes: Fakes) -> None:
    # Given a fleet allowed one ride a minute, whose one ride just timed out
    fleet = admin_fleet(fakes, settings={"max_rides_per_minute": 1})
    timed_out_ride(fakes, fleet)
    # When the admin presses Rebroadcast, Then the limit holds as for POST /rides, and the admin is told
    press(fakes, fleet, alert_to_admin(fakes, "timed out"))
    assert len(rides_of(fakes, fleet)) == 1
    assert "limit on new rides is reached. Try again in" in fakes.channels.callback_answers[-1][1]


def test_a_searching_ride_alert_cancels_it_and_a_second_press_is_harmless(fakes: Fakes) -> None:
    # Given a searching ride whose drivers all declined, escalated to the admin on Telegram
    fleet = admin_fleet(fakes)
    drivers_of(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    escalate(fakes.ports, fakes.rides.get(ride.ride_id) or ride, declined=1)
    alert = alert_to_admin(fakes, "needs attention")
    assert [(b.text, b.callback_data) for b in alert.buttons] == [("Cancel ride", f"cx:{ride.ride_id}")]
    # When the admin presses Cancel, twice
    press(fakes, fleet, alert)
    press(fakes, fleet, alert)
    # Then the ride is cancelled (once), and both answers say so
    cancelled = fakes.rides.get(ride.ride_id)
    assert cancelled is not None
    assert cancelled.status == "cancelled"
    assert [text for _, text in fakes.channels.callback_answers[-2:]] == [f"Ride {ride.code} was cancelled."] * 2
    assert fakes.channels.edits[-1].text.endswith(f"Ride {ride.code} was cancelled.")


def test_cancel_on_a_ride_that_was_taken_meanwhile_changes_nothing(fakes: Fakes) -> None:
    fleet = admin_fleet(fakes)
    ride = timed_out_ride(fakes, fleet)
    alert = alert_to_admin(fakes, "timed out")
    # (a Cancel button pressed on an alert whose ride ended since: the escalation, say, of a ride now over)
    cancel_alert = OutboundMessage(
        channel="telegram", to=ADMIN_CHAT, body=alert.body, buttons=(Button("Cancel ride", f"cx:{ride.ride_id}"),)
    )
    press(fakes, fleet, cancel_alert)
    assert fakes.channels.callback_answers[-1][1] == f"Ride {ride.code} is no longer searching: nothing was changed."
    stored = fakes.rides.get(ride.ride_id)
    assert stored is not None
    assert stored.status == "timed_out"


def test_admins_on_sms_get_the_alert_without_buttons(fakes: Fakes) -> None:
    fleet = a_fleet(fakes, telegram=True)
    timed_out_ride(fakes, fleet)
    (alert,) = [m for m in fakes.channels.sent if "timed out" in m.body]
    assert (alert.channel, alert.buttons) == ("sms", ())


def test_a_day_old_alert_no_longer_rebroadcasts(fakes: Fakes) -> None:
    # Given a ride that timed out more than a day ago (its rebroadcast would no longer be remembered as done)
    fleet = admin_fleet(fakes)
    ride = timed_out_ride(fakes, fleet)
    stored = fakes.rides.get(ride.ride_id)
    assert stored is not None
    assert stored.ended_at is not None
    fakes.rides.rides[ride.ride_id] = stored.model_copy(update={"ended_at": stored.ended_at - timedelta(days=1)})
    # When the admin presses Rebroadcast, Then nothing is created and they are told why
    press(fakes, fleet, alert_to_admin(fakes, "timed out"))
    assert len(rides_of(fakes, fleet)) == 1
    assert (
        fakes.channels.callback_answers[-1][1] == f"Ride {ride.code} is more than a day old: create it again instead."
    )
