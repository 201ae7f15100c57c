"""DynamoDriverStore: one driver per phone per fleet, edits that move the guard, Telegram chats."""

from datetime import timedelta

import pytest

from ridecast.domain.ports import Stores
from ridecast.errors import DriverNotFound, DuplicatePhone
from tests.unit.conftest import AwsStack
from tests.unit.repositories.builders import NOW, a_driver


def test_a_second_driver_with_the_same_phone_in_a_fleet_is_a_duplicate(stores: Stores) -> None:
    # Given a driver registered in a fleet
    stores.drivers.create(a_driver("f1", 1, phone="+447700900456"))
    # When another driver of that fleet registers with the same phone
    with pytest.raises(DuplicatePhone):
        stores.drivers.create(a_driver("f1", 2, phone="+447700900456"))
    # Then the first one is untouched and the second was not written at all
    assert stores.drivers.find_by_phone("f1", "+447700900456") == a_driver("f1", 1, phone="+447700900456")
    assert stores.drivers.get("f1", a_driver("f1", 2).driver_id) is None


def test_the_same_phone_may_drive_for_two_fleets(stores: Stores) -> None:
    stores.drivers.create(a_driver("f1", 1, phone="+447700900456"))
    stores.drivers.create(a_driver("f2", 2, phone="+447700900456"))
    assert stores.drivers.find_by_phone("f2", "+447700900456") == a_driver("f2", 2, phone="+447700900456")


def test_a_phone_change_moves_the_uniqueness_guard(aws: AwsStack, stores: Stores) -> None:
    # Given a driver with an old phone
    before = a_driver("f1", 1, phone="+447700900001")
    stores.drivers.create(before)
    # When their phone changes
    after = before.model_copy(update={"phone": "+447700900002", "updated_at": NOW + timedelta(minutes=1)})
    stores.drivers.replace(before, after)
    # Then the new phone finds them, the old one is free for another driver
    assert stores.drivers.find_by_phone("f1", "+447700900002") == after
    assert stores.drivers.find_by_phone("f1", "+447700900001") is None
    assert aws.raw_item("FLEET#f1", "PHONE#+447700900001") is None
    stores.drivers.create(a_driver("f1", 2, phone="+447700900001"))


def test_a_phone_change_to_a_taken_phone_changes_nothing(stores: Stores) -> None:
    # Given two drivers
    first, second = a_driver("f1", 1, phone="+447700900001"), a_driver("f1", 2, phone="+447700900002")
    stores.drivers.create(first)
    stores.drivers.create(second)
    # When the second tries to take the first one's phone
    with pytest.raises(DuplicatePhone):
        stores.drivers.replace(second, second.model_copy(update={"phone": "+447700900001"}))
    # Then both drivers and both guards are as they were (one transaction, all or nothing)
    assert stores.drivers.get("f1", second.driver_id) == second
    assert stores.drivers.find_by_phone("f1", "+447700900001") == first
    assert stores.drivers.find_by_phone("f1", "+447700900002") == second


def test_an_edit_without_phone_change_keeps_the_guard(stores: Stores) -> None:
    before = a_driver("f1", 1)
    stores.drivers.create(before)
    after = before.model_copy(update={"status": "blocked"})
    stores.drivers.replace(before, after)
    assert stores.drivers.find_by_phone("f1", before.phone) == after


def test_an_edit_of_a_driver_that_is_not_there_is_not_found_and_writes_nothing(stores: Stores) -> None:
    # Given no driver, When an edit of one is saved
    ghost = a_driver("f1", 1)
    with pytest.raises(DriverNotFound):
        stores.drivers.replace(ghost, ghost.model_copy(update={"status": "blocked"}))
    # Then it was not brought into being
    assert stores.drivers.get("f1", ghost.driver_id) is None


def test_drivers_of_a_fleet_are_listed_without_guards_or_other_fleets(stores: Stores) -> None:
    # Given three drivers in a fleet (each with a phone guard beside it) and one in another fleet
    mine = [a_driver("f1", n) for n in range(3)]
    for driver in [*mine, a_driver("f2", 9)]:
        stores.drivers.create(driver)
    # When the fleet lists its drivers, Then it gets exactly its own
    assert sorted(d.driver_id for d in stores.drivers.for_fleet("f1")) == sorted(d.driver_id for d in mine)


def test_touch_records_when_a_driver_was_seen_and_wrote_on_whatsapp(stores: Stores) -> None:
    driver = a_driver("f1", 1)
    stores.drivers.create(driver)
    stores.drivers.touch("f1", driver.driver_id, NOW)
    seen = stores.drivers.get("f1", driver.driver_id)
    assert seen is not None
    assert (seen.last_seen_at, seen.last_whatsapp_inbound_at) == (NOW, None)
    later = NOW + timedelta(minutes=3)
    stores.drivers.touch("f1", driver.driver_id, later, via_whatsapp=True)
    wrote = stores.drivers.get("f1", driver.driver_id)
    assert wrote is not None
    assert (wrote.last_seen_at, wrote.last_whatsapp_inbound_at) == (later, later)


def test_touching_a_driver_that_is_not_there_is_not_found(stores: Stores) -> None:
    with pytest.raises(DriverNotFound):
        stores.drivers.touch("f1", "d-none", NOW)
    assert stores.drivers.get("f1", "d-none") is None


def test_a_bound_chat_finds_its_driver_and_a_rebind_frees_the_old_chat(aws: AwsStack, stores: Stores) -> None:
    # Given a driver bound to a Telegram chat
    driver = a_driver("f1", 1)
    stores.drivers.create(driver)
    bound = stores.drivers.bind_telegram_chat(driver, "700")
    assert bound.telegram_chat_id == "700"
    assert stores.drivers.find_by_chat("f1", "700") == bound
    # When the driver binds another chat
    rebound = stores.drivers.bind_telegram_chat(bound, "800")
    # Then the new chat finds them, the old one finds nobody, and the stored driver says so
    assert stores.drivers.find_by_chat("f1", "800") == rebound
    assert stores.drivers.find_by_chat("f1", "700") is None
    assert aws.raw_item("FLEET#f1", "TGCHAT#700") is None
    assert stores.drivers.get("f1", driver.driver_id) == rebound
    # And a chat is looked up within its fleet only
    assert stores.drivers.find_by_chat("f2", "800") is None
