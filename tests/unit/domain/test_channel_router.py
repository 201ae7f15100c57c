"""The channel router's state machine (SPEC §5) on fakes: fallback at once, failures counted per channel,
offline after three in a row, recovery by the probe or a health check, modes, platform channels."""

import pytest

from ridecast.domain.channels import control
from ridecast.domain.channels.ports import SignedRequest
from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.drivers.commands import NewDriver
from ridecast.domain.drivers.roster import register_driver
from ridecast.domain.entities import Driver, Fleet, TwilioSender
from ridecast.domain.fleets.accounts import create_fleet
from ridecast.domain.fleets.commands import NewFleet
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.matching.driver_replies import (
    DeliveryReceipt,
    TextReply,
    answer_text_reply,
    record_delivery_receipt,
)
from ridecast.errors import FleetChannelMissing
from tests.fakes import Fakes
from tests.unit.domain.conftest import ADMIN_PHONE, SENDER, Verifier, a_fleet, a_ride, drivers_of

PLATFORM = {
    "twilio_account_sid": "AC" + "1" * 32,
    "twilio_auth_token": "platform-token",
    "twilio_senders": "sms:+15550009000,whatsapp:+15550009001",
    "telegram_bot_token": "9000:platform-bot",
    "telegram_bot_username": "PlatformBot",
}


def telegram_drivers(fakes: Fakes, fleet: Fleet, count: int) -> list[Driver]:
    drivers = []
    for n in range(1, count + 1):
        driver = register_driver(
            fakes.ports, fleet.fleet_id, NewDriver(name=f"Tg {n}", phone=f"+4477009100{n:02d}", channel="telegram")
        )
        drivers.append(fakes.drivers.bind_telegram_chat(driver, str(5000 + n)))
    return drivers


def status(fakes: Fakes, fleet: Fleet) -> control.DispatchStatus:
    return control.dispatch_status(fakes.ports, fleet.fleet_id)


def test_with_telegram_down_the_offer_goes_by_sms_at_once_on_the_same_offer(fakes: Fakes) -> None:
    # Given a Telegram driver of a fleet with a bot and an SMS sender, and Telegram down
    fleet = a_fleet(fakes, telegram=True)
    (driver,) = telegram_drivers(fakes, fleet, 1)
    ride = a_ride(fakes, fleet)
    fakes.channels.down.add("telegram")
    # When the ride is broadcast
    broadcast(fakes.ports, ride.ride_id)
    # Then the driver got the offer by SMS, and the offer record says so
    offer = fakes.offers.get(ride.ride_id, driver.driver_id)
    assert offer is not None
    assert (offer.status, offer.channel) == ("sent", "sms")
    assert any("/offers/" in body for body in fakes.channels.to(driver.phone))
    # And Telegram counted one failure, Twilio its successes
    channels = status(fakes, fleet).channels
    assert (channels["telegram"].health.failures, channels["telegram"].health.consecutive_failures) == (1, 1)
    assert channels["twilio"].health.successes >= 1
    assert channels["telegram"].health.status == "unknown"


def test_three_failures_in_a_row_take_telegram_offline_once_and_sends_skip_it(fakes: Fakes) -> None:
    # Given four Telegram drivers and Telegram down
    fleet = a_fleet(fakes, telegram=True)
    drivers = telegram_drivers(fakes, fleet, 4)
    fakes.channels.down.add("telegram")
    # When a ride is broadcast
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    # Then Telegram is offline after three failures and the admins were told once
    telegram = status(fakes, fleet).channels["telegram"].health
    assert telegram.status == "offline"
    assert 3 <= telegram.failures <= 4  # parallel sends: those in flight when the third failed still count
    offline_alerts = [m for m in fakes.channels.to(ADMIN_PHONE) if "offline" in m]
    assert len(offline_alerts) == 1
    # And every driver still got the offer by SMS
    assert all(fakes.offers.get(ride.ride_id, d.driver_id).channel == "sms" for d in drivers)  # type: ignore[union-attr]
    # When the next ride is broadcast, Telegram is not even tried
    failures_before = telegram.failures
    broadcast(fakes.ports, a_ride(fakes, fleet).ride_id)
    assert status(fakes, fleet).channels["telegram"].health.failures == failures_before


def test_the_probe_brings_telegram_back_and_tells_the_admins(fakes: Fakes) -> None:
    # Given Telegram offline after an outage
    fleet = a_fleet(fakes, telegram=True)
    telegram_drivers(fakes, fleet, 3)
    fakes.channels.down.add("telegram")
    broadcast(fakes.ports, a_ride(fakes, fleet).ride_id)
    # While it is still down, the scheduled probe leaves it offline
    assert control.probe_offline_channels(fakes.ports) == {"recovered": 0, "still_offline": 1}
    # When it comes back and the probe runs
    fakes.channels.down.clear()
    assert control.probe_offline_channels(fakes.ports) == {"recovered": 1, "still_offline": 0}
    # Then it is online, the admins heard about it, and offers go by Telegram again
    assert status(fakes, fleet).channels["telegram"].health.status == "online"
    assert any("back online" in m for m in fakes.channels.to(ADMIN_PHONE))
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    assert {o.channel for o in fakes.offers.for_ride(ride.ride_id)} == {"telegram"}


def test_health_check_takes_a_failing_channel_offline_and_a_healthy_one_online(fakes: Fakes) -> None:
    fleet = a_fleet(fakes, telegram=True)
    fakes.channels.down.add("twilio")
    checked = control.health_check(fakes.ports, fleet.fleet_id)
    assert (checked.channels["telegram"].health.status, checked.channels["twilio"].health.status) == (
        "online",
        "offline",
    )
    fakes.channels.down.clear()
    assert control.health_check(fakes.ports, fleet.fleet_id).channels["twilio"].health.status == "online"


def test_telegram_only_leaves_sms_drivers_without_the_offer_and_fails_it(fakes: Fakes) -> None:
    fleet = a_fleet(fakes, telegram=True)
    (sms_driver,) = drivers_of(fakes, fleet, 1)
    (tg_driver,) = telegram_drivers(fakes, fleet, 1)
    control.set_mode(fakes.ports, fleet.fleet_id, "telegram-only")
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    assert fakes.channels.to(sms_driver.phone) == []
    assert fakes.offers.get(ride.ride_id, sms_driver.driver_id).status == "failed"  # type: ignore[union-attr]
    assert fakes.offers.get(ride.ride_id, tg_driver.driver_id).channel == "telegram"  # type: ignore[union-attr]


def test_twilio_only_reaches_telegram_drivers_on_their_phone_and_never_falls_back_to_telegram(fakes: Fakes) -> None:
    fleet = a_fleet(fakes, telegram=True)
    (tg_driver,) = telegram_drivers(fakes, fleet, 1)
    control.set_mode(fakes.ports, fleet.fleet_id, "twilio-only")
    fakes.channels.down.add("twilio")
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    # Twilio is down and Telegram is not allowed: the driver gets nothing and the offer failed
    assert fakes.channels.to(tg_driver.telegram_chat_id or "") == []
    assert fakes.offers.get(ride.ride_id, tg_driver.driver_id).status == "failed"  # type: ignore[union-attr]
    fakes.channels.down.clear()
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    assert fakes.offers.get(ride.ride_id, tg_driver.driver_id).channel == "sms"  # type: ignore[union-attr]


def test_a_wave_writes_each_channel_once_and_reset_zeroes_the_counters(fakes: Fakes) -> None:
    fleet = a_fleet(fakes)
    drivers_of(fakes, fleet, 10)
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    # Ten offers and the customer's "searching" message: one write for the wave, one for the customer
    assert fakes.channel_health.writes == 2
    assert status(fakes, fleet).channels["twilio"].health.attempts == 11
    reset = control.reset_stats(fakes.ports, fleet.fleet_id).channels["twilio"].health
    assert (reset.attempts, reset.successes, reset.failures, reset.status) == (0, 0, 0, "online")


def test_a_fleet_with_only_a_name_reaches_drivers_through_the_platform(fakes: Fakes) -> None:
    fakes.secrets.platform = dict(PLATFORM)
    fleet, _, _ = create_fleet(
        fakes.ports,
        NewFleet.model_validate({"name": "Night Owls", "admin_contacts": [{"name": "A", "phone": ADMIN_PHONE}]}),
    )
    sms = register_driver(fakes.ports, fleet.fleet_id, NewDriver(name="S", phone="+447700900201", channel="sms"))
    wa = register_driver(fakes.ports, fleet.fleet_id, NewDriver(name="W", phone="+447700900202", channel="whatsapp"))
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    sent = {m.to: m.channel for m in fakes.channels.sent}
    assert (sent[sms.phone], sent[wa.phone]) == ("sms", "whatsapp")
    assert {c: r.source for c, r in status(fakes, fleet).channels.items()} == {
        "telegram": "platform",
        "twilio": "platform",
    }


def test_a_driver_on_a_channel_nobody_can_reach_is_refused(fakes: Fakes) -> None:
    fleet, _, _ = create_fleet(fakes.ports, NewFleet.model_validate({"name": "Night Owls"}))
    with pytest.raises(FleetChannelMissing) as refused:
        register_driver(fakes.ports, fleet.fleet_id, NewDriver(name="S", phone="+447700900201", channel="sms"))
    assert refused.value.code == "channel_not_configured"
    with_sms = a_fleet(fakes)  # an SMS sender only: Telegram and WhatsApp drivers are refused
    with pytest.raises(FleetChannelMissing):
        register_driver(fakes.ports, with_sms.fleet_id, NewDriver(name="T", phone="+447700900202", channel="telegram"))


def test_the_fleets_own_account_wins_over_the_platforms(fakes: Fakes) -> None:
    fakes.secrets.platform = dict(PLATFORM)
    fleet = a_fleet(fakes)
    router = ChannelRouter.for_fleet(fleet, fakes.ports)
    assert (router.source("twilio"), router.source("telegram")) == ("fleet", "platform")
    assert router.twilio_config is not None
    assert router.twilio_config.senders[0].from_ == SENDER


def test_a_whatsapp_sender_written_as_twilio_writes_it_is_kept_as_e164() -> None:
    sender = TwilioSender.model_validate({"channel": "whatsapp", "from": "whatsapp:+15550004444"})
    assert sender.from_ == "+15550004444"


def test_a_failed_whatsapp_receipt_resends_the_same_offer_by_sms(fakes: Fakes) -> None:
    # Given a WhatsApp driver whose offer went out on WhatsApp
    fleet = a_fleet(
        fakes,
        twilio={
            "account_sid": "AC" + "0" * 32,
            "auth_token": "t",
            "senders": [{"channel": "sms", "from": SENDER}, {"channel": "whatsapp", "from": "+15005550007"}],
        },
    )
    wa = register_driver(fakes.ports, fleet.fleet_id, NewDriver(name="W", phone="+447700900202", channel="whatsapp"))
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    before = fakes.offers.get(ride.ride_id, wa.driver_id)
    assert before is not None
    assert before.channel == "whatsapp"
    # When Twilio reports it undelivered
    receipt = DeliveryReceipt(ride.ride_id, wa.driver_id, "SM1", "undelivered", "63016", channel="whatsapp")
    record_delivery_receipt(fakes.ports, Verifier(), receipt, _signed(fleet))
    # Then the same offer (same secret, so the same link) went again by SMS and is still open
    after = fakes.offers.get(ride.ride_id, wa.driver_id)
    assert after is not None
    assert (after.status, after.channel, after.secret) == ("sent", "sms", before.secret)
    links = [m.body for m in fakes.channels.sent if m.to == wa.phone]
    assert [m.channel for m in fakes.channels.sent if m.to == wa.phone] == ["whatsapp", "sms"]
    assert links[0].split("/offers/")[1].split()[0] == links[1].split("/offers/")[1].split()[0]


def _signed(fleet: Fleet):  # type: ignore[no-untyped-def]
    from ridecast.domain.channels.ports import SignedRequest

    assert fleet.twilio is not None
    return SignedRequest(url="https://x", params={"AccountSid": fleet.twilio.account_sid}, signature="sig")


def test_a_reply_to_a_platform_sender_answers_the_drivers_offer_in_their_fleet(fakes: Fakes) -> None:
    # Given a fleet on the platform's channels with an SMS driver who got an offer
    fakes.secrets.platform = dict(PLATFORM)
    fleet, _, _ = create_fleet(fakes.ports, NewFleet.model_validate({"name": "Night Owls"}))
    driver = register_driver(fakes.ports, fleet.fleet_id, NewDriver(name="S", phone="+447700900201", channel="sms"))
    ride = a_ride(fakes, fleet)
    broadcast(fakes.ports, ride.ride_id)
    # When the driver texts "1" back to the platform's number, signed with the platform's account
    reply = TextReply("SM" + "a" * 32, driver.phone, "+15550009000", "1", via_whatsapp=False)
    signed = SignedRequest(url="https://x", params={"AccountSid": PLATFORM["twilio_account_sid"]}, signature="sig")
    answer = answer_text_reply(fakes.ports, Verifier(), reply, signed)
    # Then the ride is theirs
    assert answer is not None
    assert fakes.offers.get(ride.ride_id, driver.driver_id).status == "accepted"  # type: ignore[union-attr]
