"""Fleets' webhooks in the domain (SPEC §10): which transition is which event, who is subscribed, the retry
schedule, and the signing secret shown once when a webhook is set or rotated."""

import pytest

from ridecast.domain.fleets.accounts import get_fleet, update_fleet
from ridecast.domain.fleets.commands import FleetChanges
from ridecast.domain.rides.events import (
    MAX_DELIVERY_ATTEMPTS,
    RIDE_EVENT_TYPES,
    event_type,
    retry_delay_seconds,
    ride_event,
    subscribed,
)
from tests.fakes import Fakes
from tests.unit.domain.conftest import a_fleet
from tests.unit.repositories.builders import NOW, a_ride

HOOK = "https://fleet.example.com/ridecast"


@pytest.mark.parametrize(
    ("previous", "now", "expected"),
    [
        (None, "searching", "ride.searching"),
        ("searching", "assigned", "ride.assigned"),
        ("assigned", "searching", "ride.reassigned"),
        ("searching", "timed_out", "ride.timed_out"),
        ("searching", "cancelled", "ride.cancelled"),
        ("searching", "failed", "ride.failed"),
    ],
)
# `scheduled` (pre-booked rides) is not a ride status yet: `ride.scheduled` follows from the same rule once it is.
def test_each_transition_is_its_event(previous: str | None, now: str, expected: str) -> None:
    assert event_type(previous, a_ride("f1", 1, status=now)) == expected


def test_one_transition_is_one_event_id() -> None:
    # Given a ride at version 3, published twice, and the same ride one transition later
    ride = a_ride("f1", 1, status="assigned", version=3)
    first, again = ride_event("searching", ride, NOW), ride_event("searching", ride, NOW)
    later = ride_event("assigned", ride.model_copy(update={"status": "searching", "version": 4}), NOW)
    # Then the same transition has the same id and the next one another
    assert first is not None
    assert again is not None
    assert later is not None
    assert first.event_id == again.event_id != later.event_id
    assert (later.type, later.fleet_id) == ("ride.reassigned", "f1")


def test_retries_double_from_a_minute_to_six_hours_and_cover_a_day() -> None:
    delays = [retry_delay_seconds(attempt) for attempt in range(1, MAX_DELIVERY_ATTEMPTS)]
    assert delays[:3] == [60, 120, 240]
    assert max(delays) == 6 * 3600
    assert 24 * 3600 <= sum(delays) <= 30 * 3600  # the last attempt lands a little after a day


def test_a_fleet_gets_all_events_by_default_and_only_those_it_chose(fakes: Fakes) -> None:
    everything = a_fleet(fakes, webhook={"url": HOOK})
    chosen = a_fleet(fakes, twilio=None, webhook={"url": HOOK, "events": ["ride.assigned"]})
    assert everything.webhook is not None
    assert everything.webhook.events == list(RIDE_EVENT_TYPES)
    assert [subscribed(chosen, kind) for kind in ("ride.assigned", "ride.searching")] == [True, False]
    assert not subscribed(a_fleet(fakes, twilio=None), "ride.assigned")


def test_the_secret_is_shown_when_the_webhook_is_first_set_and_when_rotated(fakes: Fakes) -> None:
    # Given a fleet without a webhook
    fleet = a_fleet(fakes)
    # When it sets one, Then a whsec_ secret is shown and stored with the fleet's secrets
    _, first = update_fleet(fakes.ports, fleet.fleet_id, FleetChanges.model_validate({"webhook": {"url": HOOK}}))
    assert first is not None
    assert first.startswith("whsec_")
    assert fakes.secrets.fleet_secrets(fleet.fleet_id)["webhook_secret"] == first
    # When it only changes the events, Then no secret is shown and the old one stands
    changes = FleetChanges.model_validate({"webhook": {"url": HOOK, "events": ["ride.failed"]}})
    _, none = update_fleet(fakes.ports, fleet.fleet_id, changes)
    assert none is None
    assert fakes.secrets.fleet_secrets(fleet.fleet_id)["webhook_secret"] == first
    # When it rotates, Then a new secret replaces it
    rotate = FleetChanges.model_validate({"webhook": {"url": HOOK, "rotate_secret": True}})
    _, rotated = update_fleet(fakes.ports, fleet.fleet_id, rotate)
    assert rotated not in (None, first)
    assert fakes.secrets.fleet_secrets(fleet.fleet_id)["webhook_secret"] == rotated
    # When it removes the webhook, Then the fleet has none
    update_fleet(fakes.ports, fleet.fleet_id, FleetChanges.model_validate({"webhook": None}))
    assert get_fleet(fakes.ports, fleet.fleet_id).webhook is None


def test_a_failure_counts_only_against_the_receiver_that_failed(fakes: Fakes) -> None:
    # Given a fleet whose webhook moved to a new receiver
    fleet = a_fleet(fakes, webhook={"url": HOOK})
    update_fleet(fakes.ports, fleet.fleet_id, FleetChanges.model_validate({"webhook": {"url": HOOK + "/v2"}}))
    # When a delivery to the old receiver and one to the new receiver fail
    assert not fakes.stores.fleets.record_webhook_failure(fleet.fleet_id, HOOK, "HTTP 500", NOW)
    assert fakes.stores.fleets.record_webhook_failure(fleet.fleet_id, HOOK + "/v2", "timeout", NOW)
    # Then the fleet shows the new receiver's failure alone
    webhook = get_fleet(fakes.ports, fleet.fleet_id).webhook
    assert webhook is not None
    assert (webhook.failures, webhook.last_error, webhook.last_failure_at) == (1, "timeout", NOW)
