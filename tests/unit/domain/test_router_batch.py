"""The router's batch (`to_drivers`) on fakes: each provider's share of a round in one send_many, fallbacks in
a round of their own, the first few ahead of the rest so that an outage they meet is routed around for the others,
and a broadcast that sends its wave this way and records what it learnt in batched offer writes."""

import threading
from collections.abc import Sequence

import pytest

from ridecast.domain.channels.ports import OutboundMessage, SendReceipt
from ridecast.domain.channels.router import ChannelRouter, DriverMessage
from ridecast.domain.drivers.commands import NewDriver
from ridecast.domain.drivers.roster import register_driver
from ridecast.domain.entities import Driver, Fleet, Offer, Ride
from ridecast.domain.matching import broadcast as broadcast_module
from ridecast.domain.matching.broadcast import broadcast
from ridecast.domain.ports import OfferChange
from ridecast.errors import ChannelError
from tests.fakes import Fakes, RecordingTwilio
from tests.unit.domain.conftest import a_fleet, a_ride, drivers_of


def telegram_drivers(fakes: Fakes, fleet: Fleet, count: int) -> list[Driver]:
    """Registered on Telegram (their chat bound), with phones apart from `drivers_of`'s."""
    drivers = []
    for n in range(1, count + 1):
        new = NewDriver(name=f"Tg {n}", phone=f"+4477009100{n:02d}", channel="telegram")
        drivers.append(
            fakes.drivers.bind_telegram_chat(register_driver(fakes.ports, fleet.fleet_id, new), str(7000 + n))
        )
    return drivers


def messages(drivers: list[Driver]) -> list[DriverMessage]:
    return [DriverMessage(d, f"Offer for {d.name}", telegram_body=f"Tap for {d.name}") for d in drivers]


def test_a_mixed_batch_goes_one_send_many_per_provider_and_answers_in_driver_order(fakes: Fakes) -> None:
    # Given a fleet with a bot and an SMS sender, and drivers on both
    fleet = a_fleet(fakes, telegram=True)
    sms, telegram = drivers_of(fakes, fleet, 3), telegram_drivers(fakes, fleet, 2)
    drivers = [sms[0], telegram[0], sms[1], telegram[1], sms[2]]
    router = ChannelRouter.for_fleet(fleet, fakes.ports)
    # When the five messages go out in one batch
    deliveries = router.to_drivers(messages(drivers))
    # Then each provider was asked once, for its share
    assert sorted(fakes.channels.batches) == [("telegram", 2), ("twilio", 3)]
    # And the deliveries are in the drivers' order, each on the driver's channel with its own body
    assert [d.channel for d in deliveries] == ["sms", "telegram", "sms", "telegram", "sms"]
    assert all(d.ok for d in deliveries)
    assert fakes.channels.to(sms[1].phone) == [f"Offer for {sms[1].name}"]
    assert fakes.channels.to(str(telegram[1].telegram_chat_id)) == [f"Tap for {telegram[1].name}"]


def test_with_telegram_down_the_failed_share_falls_back_by_sms_in_a_second_batch(fakes: Fakes) -> None:
    # Given two Telegram drivers and Telegram down
    fleet = a_fleet(fakes, telegram=True)
    drivers = telegram_drivers(fakes, fleet, 2)
    fakes.channels.down.add("telegram")
    router = ChannelRouter.for_fleet(fleet, fakes.ports)
    # When both are sent the offer
    with router.batch():
        deliveries = router.to_drivers(messages(drivers))
    # Then Telegram was tried once for both, and both got it by SMS in one second batch, with the same body
    assert fakes.channels.batches == [("telegram", 2), ("twilio", 2)]
    assert [(d.channel, d.ok) for d in deliveries] == [("sms", True), ("sms", True)]
    assert all(fakes.channels.to(d.phone) == [f"Offer for {d.name}"] for d in drivers)
    # And the ledger counted two Telegram failures and two SMS sends
    state = fakes.channel_health.get(fleet.fleet_id)
    assert (state.health("telegram").failures, state.health("twilio").successes) == (2, 2)


def test_the_first_sends_take_telegram_offline_and_the_rest_go_by_sms_first(fakes: Fakes) -> None:
    # Given six Telegram drivers and Telegram down
    fleet = a_fleet(fakes, telegram=True)
    drivers = telegram_drivers(fakes, fleet, 6)
    fakes.channels.down.add("telegram")
    router = ChannelRouter.for_fleet(fleet, fakes.ports)
    # When they are sent the offer, the first three ahead of the rest
    with router.batch():
        deliveries = router.to_drivers(messages(drivers), first=3)
    # Then the first three failed on Telegram (three in a row: offline), the rest never tried it
    assert fakes.channels.batches == [("telegram", 3), ("twilio", 3), ("twilio", 3)]
    assert all(d.ok and d.channel == "sms" for d in deliveries)
    state = fakes.channel_health.get(fleet.fleet_id)
    assert (state.health("telegram").failures, state.health("telegram").status) == (3, "offline")


def test_a_driver_no_route_reaches_is_answered_without_a_send(fakes: Fakes) -> None:
    # Given an SMS driver of a fleet in telegram-only mode, next to a Telegram driver
    fleet = a_fleet(fakes, telegram=True)
    (sms,), (telegram,) = drivers_of(fakes, fleet, 1), telegram_drivers(fakes, fleet, 1)
    router = ChannelRouter.for_fleet(fleet, fakes.ports)
    fakes.channel_health.set_mode(fleet.fleet_id, "telegram-only")
    # When both are sent a message
    unreachable, reached = router.to_drivers(messages([sms, telegram]))
    # Then only the Telegram driver was sent one; the other is refused with the reason
    assert [(m.channel, m.to) for m in fakes.channels.sent] == [("telegram", telegram.telegram_chat_id)]
    assert (reached.ok, reached.channel) == (True, "telegram")
    assert (unreachable.ok, unreachable.error) == (False, "no channel reaches this driver (router mode telegram-only)")


def test_a_wave_is_one_batch_and_its_bookkeeping_one_batched_write(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a fleet with three Telegram and two SMS drivers, and a watch on the offer writes
    fleet = a_fleet(fakes, telegram=True)
    telegram, sms = telegram_drivers(fakes, fleet, 3), drivers_of(fakes, fleet, 2)
    ride = a_ride(fakes, fleet)
    written: list[list[OfferChange]] = []
    real_update_many = fakes.offers.update_many
    monkeypatch.setattr(
        fakes.offers, "update_many", lambda changes: written.append(changes) or real_update_many(changes)
    )
    monkeypatch.setattr(broadcast_module, "OFFERS_PER_WRITE", 2)
    # When the ride is broadcast
    result = broadcast(fakes.ports, ride.ride_id)
    # Then the wave went as one batch per provider, and every driver was offered the ride
    assert result["offers_sent"] == 5
    assert sorted(fakes.channels.batches) == [("telegram", 3), ("twilio", 2)]
    # And the Telegram offers record where their message is, in writes of two (SMS offers need no write)
    assert [len(batch) for batch in written] == [2, 1]
    for driver in telegram:
        offer = fakes.offers.get(ride.ride_id, driver.driver_id)
        assert offer is not None
        assert (offer.provider_chat_id, offer.status) == (driver.telegram_chat_id, "sent")
        assert offer.provider_message_id is not None
    assert all(fakes.offers.get(ride.ride_id, d.driver_id).provider_message_id is None for d in sms)  # type: ignore[union-attr]


def test_a_failed_offer_is_marked_failed_unless_answered_first(fakes: Fakes) -> None:
    # Given a ride whose offers cannot go out (Twilio down) to two SMS drivers
    fleet = a_fleet(fakes)
    first, second = drivers_of(fakes, fleet, 2)
    ride = a_ride(fakes, fleet)
    fakes.channels.down.add("twilio")
    # When the wave goes out
    broadcast(fakes.ports, ride.ride_id)
    # Then both offers are failed, with the provider's reason
    offers = {o.driver_id: o for o in fakes.offers.for_ride(ride.ride_id)}
    assert {(o.status, o.error) for o in offers.values()} == {("failed", "twilio is down")}
    # And the batch's condition keeps an answered offer as it is (a failure only lands on a `sent` offer)
    fakes.offers.update(ride.ride_id, first.driver_id, None, status="accepted")
    fakes.offers.update_many([OfferChange(ride.ride_id, first.driver_id, {"status": "failed"}, only_from="sent")])
    assert fakes.offers.get(ride.ride_id, first.driver_id).status == "accepted"  # type: ignore[union-attr]
    assert second.driver_id in offers


def parted_wave(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch, drivers: int, first_part: int, max_part: int
) -> tuple[list[Driver], Ride]:
    """A ride of a fleet of SMS drivers whose waves are saved and sent in parts of `first_part`, doubling up to
    `max_part`."""
    fleet = a_fleet(fakes)
    made = drivers_of(fakes, fleet, drivers)
    monkeypatch.setattr(broadcast_module, "FIRST_PART", first_part)
    monkeypatch.setattr(broadcast_module, "MAX_PART", max_part)
    return made, a_ride(fakes, fleet)


def test_a_wave_bigger_than_a_part_sends_each_part_only_once_its_offers_are_saved(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a fleet with nine SMS drivers, waves saved and sent in parts of 2, then 4, and a watch on both
    drivers, ride = parted_wave(fakes, monkeypatch, drivers=9, first_part=2, max_part=4)
    events: list[tuple[str, int]] = []
    real_add_many, real_send_many = fakes.offers.add_many, RecordingTwilio.send_many

    def add_many(offers: list[Offer]) -> None:
        events.append(("saved", len(offers)))
        real_add_many(offers)

    phones = {d.phone: d.driver_id for d in drivers}
    batches: list[list[str]] = []

    def send_many(twilio: RecordingTwilio, outbound: Sequence[OutboundMessage]) -> list[SendReceipt | ChannelError]:
        # Each message's offer is already saved when the message leaves
        assert all(fakes.offers.get(ride.ride_id, phones[m.to]) is not None for m in outbound)
        events.append(("sent", len(outbound)))
        batches.append([m.to for m in outbound if m.to in phones])
        return real_send_many(twilio, outbound)

    monkeypatch.setattr(fakes.offers, "add_many", add_many)
    monkeypatch.setattr(RecordingTwilio, "send_many", send_many)
    # When the ride is broadcast
    result = broadcast(fakes.ports, ride.ride_id)
    # Then all nine were offered, each part sent after it was saved
    assert result["offers_sent"] == 9
    assert sum(n for kind, n in events if kind == "saved") == 9
    assert events.index(("sent", 3)) > [i for i, (kind, _) in enumerate(events) if kind == "saved"][-1]
    # And in the ride's order, most recently seen first: parts of two, four (twice the first, the most a part
    # has) and three, each in order (a part may start while the one before it drains)
    rank = {o.driver_id: o.rank for o in fakes.offers.for_ride(ride.ride_id)}
    parts = sorted((batch for batch in batches if batch), key=lambda batch: rank[phones[batch[0]]])
    assert [len(part) for part in parts] == [2, 4, 3]
    in_order = [rank[phones[phone]] for part in parts for phone in part]
    assert in_order == sorted(in_order) == list(range(1, 10))


def test_a_part_starts_going_out_while_the_part_before_it_drains(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given nine SMS drivers, waves in parts of 2, 4 and 3, and a provider slow to answer the second part
    drivers, ride = parted_wave(fakes, monkeypatch, drivers=9, first_part=2, max_part=4)
    third_part_started = threading.Event()
    real_send_many = RecordingTwilio.send_many
    second_part_saw_the_third_start: list[bool] = []

    def send_many(twilio: RecordingTwilio, outbound: Sequence[OutboundMessage]) -> list[SendReceipt | ChannelError]:
        offered = [m for m in outbound if m.to in {d.phone for d in drivers}]
        if len(offered) == 3:
            third_part_started.set()
        elif len(offered) == 4:
            # The second part's answers come only once the third part is on its way (or after 5 s)
            second_part_saw_the_third_start.append(third_part_started.wait(timeout=5))
        return real_send_many(twilio, outbound)

    monkeypatch.setattr(RecordingTwilio, "send_many", send_many)
    # When the ride is broadcast
    result = broadcast(fakes.ports, ride.ride_id)
    # Then the third part went out while the second was still waiting for its answers, and all nine were sent
    assert second_part_saw_the_third_start == [True]
    assert result["offers_sent"] == 9


def test_a_wave_that_fails_between_parts_is_sent_whole_when_retried(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given eight SMS drivers, waves in parts of three, and the offer store failing the second part's write once
    drivers, ride = parted_wave(fakes, monkeypatch, drivers=8, first_part=3, max_part=3)
    writes, real_add_many = [0], fakes.offers.add_many

    def add_many(offers: list[Offer]) -> None:
        writes[0] += 1
        if writes[0] == 2:
            raise RuntimeError("DynamoDB throttled the write")
        real_add_many(offers)

    monkeypatch.setattr(fakes.offers, "add_many", add_many)
    # When the wave fails after its first part went out
    with pytest.raises(RuntimeError, match="throttled"):
        broadcast(fakes.ports, ride.ride_id)
    first_part = {m.to for m in fakes.channels.sent}
    # Then only the first part was sent, and nothing after the failed write was saved or sent
    assert len(first_part) == 3
    assert len(fakes.offers.for_ride(ride.ride_id)) == 3

    # And when Step Functions retries the task, every driver has the offer and is counted once
    result = broadcast(fakes.ports, ride.ride_id)
    assert result["offers_sent"] == 8
    offers = fakes.offers.for_ride(ride.ride_id)
    assert sorted(o.driver_id for o in offers) == sorted(d.driver_id for d in drivers)
    assert all(o.status == "sent" and o.wave == 1 for o in offers)
    for driver in drivers:
        # (those of the first part twice: a duplicate offer beats a driver never asked)
        expected = 2 if driver.phone in first_part else 1
        assert sum(1 for m in fakes.channels.sent if m.to == driver.phone) == expected
    stored = fakes.rides.get(ride.ride_id)
    assert stored is not None
    assert (stored.wave, stored.drivers_notified) == (1, 8)
