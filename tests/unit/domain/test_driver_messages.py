"""Operators message their drivers (SPEC §8): checked and answered at once, sent later through the router."""

import pytest

from ridecast.domain.drivers.commands import DriverChanges
from ridecast.domain.drivers.messaging import deliver_driver_message, queue_driver_message
from ridecast.domain.drivers.roster import update_driver
from ridecast.domain.fleets.commands import TwilioAccount
from ridecast.domain.stats.report import fleet_stats
from ridecast.errors import BackgroundUnavailable, DriverNotFound, InvalidInput
from tests.fakes import Fakes
from tests.unit.domain.conftest import ACCOUNT_SID, a_fleet, drivers_of

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def test_a_message_to_everyone_is_queued_not_sent_and_then_reaches_each_active_driver(fakes: Fakes) -> None:
    # Given three drivers, one of them inactive
    fleet = a_fleet(fakes)
    ann, bo, cy = drivers_of(fakes, fleet, 3)
    update_driver(fakes.ports, fleet.fleet_id, cy.driver_id, DriverChanges(status="inactive"))
    # When an admin messages every driver
    queued = queue_driver_message(fakes.ports, fleet.fleet_id, "Road closed:\n- A1 at Junction 4", None)
    # Then the answer counts the two active drivers, and nothing has been sent yet: the work is queued
    assert queued.recipients == 2
    assert fakes.channels.sent == []
    (job,) = fakes.jobs.driver_messages
    # When the background invocation runs it
    sent = deliver_driver_message(fakes.ports, job)
    # Then each active driver got it once, framed as the fleet's message, line breaks kept
    assert (sent.recipients, sent.delivered) == (2, 2)
    for driver in (ann, bo):
        assert fakes.channels.to(driver.phone) == ["Message from Northside Cabs:\nRoad closed:\n- A1 at Junction 4"]
    assert fakes.channels.to(cy.phone) == []


def test_listed_drivers_get_it_whatever_their_status_but_blocked(fakes: Fakes) -> None:
    # Given an inactive driver and an active one
    fleet = a_fleet(fakes)
    ann, bo = drivers_of(fakes, fleet, 2)
    update_driver(fakes.ports, fleet.fleet_id, ann.driver_id, DriverChanges(status="inactive"))
    # When the admin messages the inactive one by id
    queued = queue_driver_message(fakes.ports, fleet.fleet_id, "Can you come online?", [ann.driver_id])
    deliver_driver_message(fakes.ports, fakes.jobs.driver_messages[0])
    # Then only they got it
    assert queued.recipients == 1
    assert fakes.channels.to(ann.phone) == ["Message from Northside Cabs:\nCan you come online?"]
    assert fakes.channels.to(bo.phone) == []


def test_unknown_and_other_fleets_drivers_are_404_naming_them_and_nothing_is_queued(fakes: Fakes) -> None:
    # Given a driver of another fleet
    fleet = a_fleet(fakes)
    other = a_fleet(
        fakes,
        name="Southside",
        twilio=TwilioAccount(
            account_sid=ACCOUNT_SID, auth_token="other-token-0001", senders=[{"channel": "sms", "from": "+15005550007"}]
        ),
    )
    (mine,) = drivers_of(fakes, fleet, 1)
    (theirs,) = drivers_of(fakes, other, 1)
    # When an admin lists them with an id that does not exist
    with pytest.raises(DriverNotFound) as refused:
        queue_driver_message(fakes.ports, fleet.fleet_id, "Hi", [mine.driver_id, theirs.driver_id, "dnope"])
    # Then the answer names both strangers, and nothing is queued
    assert refused.value.details["driver_ids"] == [theirs.driver_id, "dnope"]
    assert fakes.jobs.driver_messages == []


def test_a_blocked_driver_is_refused_by_name(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    update_driver(fakes.ports, fleet.fleet_id, ann.driver_id, DriverChanges(status="blocked"))
    with pytest.raises(InvalidInput, match=ann.driver_id):
        queue_driver_message(fakes.ports, fleet.fleet_id, "Hi", [ann.driver_id])
    assert fakes.jobs.driver_messages == []


def test_a_driver_blocked_after_the_call_hears_nothing(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    ann, _ = drivers_of(fakes, fleet, 2)
    queue_driver_message(fakes.ports, fleet.fleet_id, "Hi all", None)
    update_driver(fakes.ports, fleet.fleet_id, ann.driver_id, DriverChanges(status="blocked"))
    sent = deliver_driver_message(fakes.ports, fakes.jobs.driver_messages[0])
    assert (sent.recipients, fakes.channels.to(ann.phone)) == (1, [])


def test_nobody_to_message_queues_nothing(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    assert queue_driver_message(fakes.ports, fleet.fleet_id, "Hello?", None).recipients == 0
    assert fakes.jobs.driver_messages == []


def test_when_it_cannot_be_queued_the_caller_is_told_and_nothing_is_sent(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    drivers_of(fakes, fleet, 1)
    fakes.jobs.unavailable = True
    with pytest.raises(BackgroundUnavailable):
        queue_driver_message(fakes.ports, fleet.fleet_id, "Hi", None)
    assert fakes.channels.sent == []


def test_it_goes_through_the_router_falling_back_and_counted_in_the_channel_stats(fakes: Fakes) -> None:
    # Given a Telegram driver and an SMS driver, and Telegram down
    fleet = a_fleet(fakes, telegram=True)
    tg, sms = drivers_of(fakes, fleet, 2, channel="telegram")
    fakes.drivers.bind_telegram_chat(tg, "7001")
    sms_driver = fakes.drivers.get(fleet.fleet_id, sms.driver_id)
    assert sms_driver is not None
    fakes.channels.down.add("telegram")
    # When a message goes to both
    queue_driver_message(fakes.ports, fleet.fleet_id, "Fuel prices up", None)
    sent = deliver_driver_message(fakes.ports, fakes.jobs.driver_messages[0])
    # Then the Telegram driver got it by SMS at once (the router's fallback), and both were reached
    assert sent.delivered == 2
    assert fakes.channels.to(tg.phone) == ["Message from Northside Cabs:\nFuel prices up"]
    # And the channel figures show the failed Telegram attempt and the SMS sends
    channels = fleet_stats(fakes.ports, fleet.fleet_id, None, None).channels
    assert (channels["telegram"].attempts, channels["telegram"].failures) == (1, 1)
    assert (channels["sms"].attempts, channels["sms"].successes) == (2, 2)


def test_in_twilio_only_mode_a_telegram_driver_gets_it_by_sms(fakes: Fakes) -> None:
    fleet = a_fleet(fakes, telegram=True)
    (tg,) = drivers_of(fakes, fleet, 1, channel="telegram")
    fakes.drivers.bind_telegram_chat(tg, "7001")
    fakes.channel_health.set_mode(fleet.fleet_id, "twilio-only")
    queue_driver_message(fakes.ports, fleet.fleet_id, "Hi", None)
    deliver_driver_message(fakes.ports, fakes.jobs.driver_messages[0])
    assert [m.channel for m in fakes.channels.sent] == ["sms"]


def test_the_operators_text_is_sent_as_written_braces_and_all(fakes: Fakes) -> None:
    # A text is a value put into the frame, never a template itself: "{code}" stays "{code}"
    fleet = a_fleet(fakes)
    (ann,) = drivers_of(fakes, fleet, 1)
    queue_driver_message(fakes.ports, fleet.fleet_id, "Gate code {code} is {fleet_name}'s", None)
    deliver_driver_message(fakes.ports, fakes.jobs.driver_messages[0])
    assert fakes.channels.to(ann.phone) == ["Message from Northside Cabs:\nGate code {code} is {fleet_name}'s"]
