"""The in-memory fakes (tests/fakes.py) and the DynamoDB repositories tell the same stories of races.

Every test runs twice, on `dynamodb` (moto) and on `in-memory`: a fake that drifts from its repository
fails here, not in a domain test that trusted it.
"""

from datetime import timedelta

import pytest

from ridecast.domain.entities import GeoPoint
from ridecast.domain.ports import OfferChange, Stores
from ridecast.errors import ChatAlreadyBound, DriverNotFound, DuplicatePhone, FleetNotFound, InvalidInput, LastAdminKey
from tests.fakes import Fakes
from tests.unit.repositories.builders import NOW, a_driver, a_fleet, a_ride, an_api_key, an_offer


@pytest.fixture(params=["dynamodb", "in-memory"])
def either(request: pytest.FixtureRequest) -> Stores:
    if request.param == "in-memory":
        return Fakes().stores
    stores: Stores = request.getfixturevalue("stores")
    return stores


def test_two_readers_of_one_version_transition_once(either: Stores) -> None:
    # Given a searching ride that two accepts read at the same version
    ride = a_ride("f1", 1, task_token="token")
    either.rides.add(ride)
    first, second = either.rides.get(ride.ride_id), either.rides.get(ride.ride_id)
    assert first is not None
    assert second is not None
    # When both assign it, Then the first wins with a bumped version and the token; the second loses
    won = either.rides.transition(first, "assigned", driver_id="d1", assigned_at=NOW)
    assert either.rides.transition(second, "assigned", driver_id="d2", assigned_at=NOW) is None
    assert won is not None
    assert (won.status, won.driver_id, won.version, won.task_token) == ("assigned", "d1", 1, "token")
    assert either.rides.get(ride.ride_id) == won


def test_bookkeeping_lands_only_while_searching_and_keeps_the_version(either: Stores) -> None:
    ride = a_ride("f1", 1)
    either.rides.add(ride)
    updated = either.rides.update_searching(ride.ride_id, {"wave": 2}, add={"drivers_notified": 3})
    assert updated is not None
    assert (updated.wave, updated.drivers_notified, updated.version) == (2, 3, 0)
    # An accept that read the ride before the bookkeeping still wins
    cancelled = either.rides.transition(ride, "cancelled", end_reason="customer")
    assert cancelled is not None
    assert either.rides.update_searching(ride.ride_id, {"wave": 3}) is None
    either.rides.add_counts(ride.ride_id, {"drivers_declined": 1})
    stored = either.rides.get(ride.ride_id)
    assert stored is not None
    assert (stored.wave, stored.drivers_declined, stored.end_reason) == (2, 1, "customer")


def test_a_field_set_to_none_reads_back_as_unset(either: Stores) -> None:
    ride = a_ride("f1", 1, task_token="token")
    either.rides.add(ride)
    moved = either.rides.transition(ride, "cancelled", task_token=None)
    assert moved is not None
    assert moved.task_token is None
    assert either.rides.get(ride.ride_id) == moved


def test_escalation_is_marked_once(either: Stores) -> None:
    ride = a_ride("f1", 1)
    either.rides.add(ride)
    assert [either.rides.mark_escalated(ride.ride_id, NOW) for _ in range(2)] == [True, False]
    assert either.rides.mark_escalated("r-none", NOW) is False


def test_listing_pages_newest_first_and_refuses_another_fleets_cursor(either: Stores) -> None:
    # Given five rides of a fleet a minute apart, two of them assigned
    for n in range(5):
        either.rides.add(
            a_ride("f1", n, status="assigned" if n % 2 else "searching", created_at=NOW + timedelta(minutes=n))
        )
    # When the searching ones are listed two at a time
    first, cursor = either.rides.for_fleet("f1", "searching", None, 2, None)
    assert cursor is not None
    rest, _ = either.rides.for_fleet("f1", "searching", None, 2, cursor)
    # Then they come newest first, each once
    assert [r.code for r in first + rest] == ["R-00004", "R-00002", "R-00000"]
    # And since-filters and cursors behave alike
    recent, _ = either.rides.for_fleet("f1", None, NOW + timedelta(minutes=3), 10, None)
    assert [r.code for r in recent] == ["R-00004", "R-00003"]
    with pytest.raises(InvalidInput):
        either.rides.for_fleet("f2", None, None, 2, cursor)
    with pytest.raises(InvalidInput):
        either.rides.for_fleet("f1", None, None, 2, "garbage!!")


def test_only_rides_searching_past_their_deadline_are_stuck(either: Stores) -> None:
    stuck, in_time = a_ride("f1", 1, created_at=NOW - timedelta(hours=1)), a_ride("f1", 2)
    ended = a_ride("f1", 3, created_at=NOW - timedelta(hours=1))
    for ride in (stuck, in_time, ended):
        either.rides.add(ride)
    either.rides.transition(ended, "timed_out")
    assert either.rides.searching_past(NOW) == [stuck.ride_id]


def test_an_offer_moves_only_from_the_named_statuses(either: Stores) -> None:
    ride = a_ride("f1", 1)
    either.offers.add_many([an_offer(ride, "d1"), an_offer(ride, "d2", sent_at=NOW + timedelta(seconds=1))])
    assert either.offers.update(ride.ride_id, "d1", {"sent"}, status="timeout") is not None
    assert either.offers.update(ride.ride_id, "d1", {"sent"}, status="timeout") is None
    answered = either.offers.update(ride.ride_id, "d1", ["sent", "timeout"], status="accepted", responded_at=NOW)
    assert answered is not None
    assert (answered.status, answered.responded_at) == ("accepted", NOW)
    assert either.offers.update(ride.ride_id, "d9", None, status="timeout") is None
    assert [o.driver_id for o in either.offers.for_ride(ride.ride_id)] == ["d1", "d2"]
    assert [o.status for o in either.offers.recent_for_driver("d1")] == ["accepted"]


def test_one_driver_per_phone_per_fleet(either: Stores) -> None:
    first, second = a_driver("f1", 1), a_driver("f1", 2)
    either.drivers.create(first)
    either.drivers.create(second)
    with pytest.raises(DuplicatePhone):
        either.drivers.create(a_driver("f1", 3, phone=first.phone))
    with pytest.raises(DuplicatePhone):
        either.drivers.replace(second, second.model_copy(update={"phone": first.phone}))
    moved = second.model_copy(update={"phone": "+447700900777"})
    either.drivers.replace(second, moved)
    assert either.drivers.find_by_phone("f1", second.phone) is None
    assert either.drivers.find_by_phone("f1", moved.phone) == moved
    either.drivers.create(a_driver("f1", 3, phone=second.phone))


def test_deliveries_are_claimed_once_and_registrations_used_once(either: Stores) -> None:
    assert [either.deliveries.claim("telegram", "7", NOW) for _ in range(2)] == [True, False]
    either.deliveries.release("telegram", "7")
    assert either.deliveries.claim("telegram", "7", NOW) is True
    either.registrations.add("tok", "f1", "d1", NOW + timedelta(minutes=5))
    assert either.registrations.consume("tok", "f2", NOW) is None
    assert either.registrations.consume("tok", "f1", NOW + timedelta(minutes=5)) is None
    assert [either.registrations.consume("tok", "f1", NOW) for _ in range(2)] == ["d1", None]


def test_fleets_keys_and_senders(either: Stores) -> None:
    either.fleets.create(a_fleet("f1"), an_api_key("f1", "k1"), "hash-1")
    assert either.api_keys.principal_for("hash-1") is not None
    with pytest.raises(LastAdminKey):  # the fleet's only admin key
        either.api_keys.revoke("f1", "k1", NOW)
    either.api_keys.add(an_api_key("f1", "k2"), "hash-2")
    revoked = [either.api_keys.revoke("f1", "k1", NOW + timedelta(minutes=n)) for n in range(2)]
    assert [k.revoked_at if k else None for k in revoked] == [NOW, NOW]
    assert either.api_keys.principal_for("hash-1") is None
    assert either.api_keys.revoke("f2", "k1", NOW) is None
    assert [either.fleets.next_ride_sequence("f1") for _ in range(2)] == [1, 2]
    assert either.senders.claim("f1", ["+15005550006"]) == []
    assert either.senders.claim("f2", ["+15005550006", "+15005550007"]) == ["+15005550006"]
    assert either.senders.fleet_for("+15005550007") is None


def test_a_fleet_keeps_at_least_one_active_admin_key(either: Stores) -> None:
    # Given a fleet with two admin keys and a dispatcher key
    either.api_keys.add(an_api_key("f1", "k1"), "hash-1")
    either.api_keys.add(an_api_key("f1", "k2"), "hash-2")
    either.api_keys.add(an_api_key("f1", "k3", role="dispatcher"), "hash-3")
    # When both admin keys are revoked (as two admins might at once), Then the first goes and the last stays
    assert either.api_keys.revoke("f1", "k1", NOW) is not None
    with pytest.raises(LastAdminKey):
        either.api_keys.revoke("f1", "k2", NOW)
    assert either.api_keys.principal_for("hash-2") is not None
    # And revoking the first again changes nothing, a dispatcher key can always go
    again = either.api_keys.revoke("f1", "k1", NOW + timedelta(hours=1))
    assert again is not None
    assert again.revoked_at == NOW
    assert either.api_keys.revoke("f1", "k3", NOW) is not None
    # And a new admin key lets the old last one go
    either.api_keys.add(an_api_key("f1", "k4"), "hash-4")
    assert either.api_keys.revoke("f1", "k2", NOW) is not None


def test_a_telegram_chat_binds_one_driver_only(either: Stores) -> None:
    # Given two drivers, the first bound to chat 42
    first, second = a_driver("f1", 1), a_driver("f1", 2)
    either.drivers.create(first)
    either.drivers.create(second)
    either.drivers.bind_telegram_chat(first, "42")
    # When the second is bound to the same chat, Then it is refused and the chat still finds the first
    with pytest.raises(ChatAlreadyBound):
        either.drivers.bind_telegram_chat(second, "42")
    found = either.drivers.find_by_chat("f1", "42")
    assert found is not None
    assert found.driver_id == first.driver_id
    # And binding the first again (a second /start from their own chat) is fine
    assert either.drivers.bind_telegram_chat(first, "42").telegram_chat_id == "42"


def test_a_rate_limit_counts_up_to_its_limit_per_window(either: Stores) -> None:
    # Given a limit of 2 per minute
    now = NOW.replace(second=10)
    # When it is taken three times in one minute, Then the third waits for the minute's end (50 s)
    assert [either.rate_limits.take("f1#rides", 2, 60, now) for _ in range(3)] == [None, None, 50]
    assert either.rate_limits.used("f1#rides", 60, now) == 2
    # And the next minute starts afresh, other keys are apart
    assert either.rate_limits.take("f1#rides", 2, 60, now + timedelta(minutes=1)) is None
    assert either.rate_limits.used("f2#rides", 60, now) == 0


def test_sender_claims_are_all_or_nothing_and_a_fleet_releases_only_its_own(either: Stores) -> None:
    # Given a sender of fleet f1
    assert either.senders.claim("f1", ["+15005550006"]) == []
    # When f2 claims a free number together with f1's, Then it is told which is taken and gets neither
    assert either.senders.claim("f2", ["+15005550007", "+15005550006"]) == ["+15005550006"]
    assert either.senders.fleet_for("+15005550007") is None
    # And f2 cannot release f1's number; f1 can, and the number is free again
    either.senders.release("f2", ["+15005550006"])
    assert either.senders.fleet_for("+15005550006") == "f1"
    either.senders.release("f1", ["+15005550006"])
    assert either.senders.fleet_for("+15005550006") is None
    assert either.senders.claim("f2", ["+15005550006"]) == []


def test_a_rides_ending_is_counted_once_in_its_hour_day_and_span(either: Stores) -> None:
    # Given two rides created in consecutive hours
    either.stats.count_created("f1", "2026-03-01T09", {"created": 1})
    either.stats.count_created("f1", "2026-03-01T10", {"created": 1})
    either.stats.count_created("f2", "2026-03-01T10", {"created": 1})
    # When the first ride's ending is recorded twice (a retry) and the second's once
    ending = {"hour": "2026-03-01T09", "driver_counts": {"offers#d1": 1, "accepted#d1": 1, "response_ms#d1": 4000}}
    assert either.stats.count_ended("f1", "r1", hour_counts={"ended#assigned": 1}, **ending) is True
    assert either.stats.count_ended("f1", "r1", hour_counts={"ended#assigned": 1}, **ending) is False
    assert either.stats.count_ended(
        "f1", "r2", hour="2026-03-01T10", hour_counts={"ended#timed_out": 1, "ttm#24": 1}, driver_counts={}
    )
    either.stats.count_sends(
        "f1", "2026-03-01T10", {"ch_attempts#sms": 2, "ch_failures#sms": 1, "ch_latency_ms#sms": 80}
    )
    # Then each hour holds its own counters, its day and span (2026-02-28..03-07) both; the drivers' counts
    # are in their own day and span; no matching is live
    hour_09, hour_10 = ("hour", "2026-03-01T09"), ("hour", "2026-03-01T10")
    day, span = ("day", "2026-03-01"), ("span", "2026-02-28")
    whole_day = {"created": 2, "ended#assigned": 1, "ended#timed_out": 1, "ttm#24": 1}
    whole_day |= {"ch_attempts#sms": 2, "ch_failures#sms": 1, "ch_latency_ms#sms": 80}
    assert either.stats.read("f1", [hour_09, hour_10, day, span, ("hour", "2026-03-01T11")]).rides == {
        hour_09: {"created": 1, "ended#assigned": 1},
        hour_10: {
            "created": 1,
            "ended#timed_out": 1,
            "ttm#24": 1,
            "ch_attempts#sms": 2,
            "ch_failures#sms": 1,
            "ch_latency_ms#sms": 80,
        },
        day: whole_day,
        span: whole_day,
    }
    assert either.stats.read("f2", [day]).rides == {day: {"created": 1}}
    d1 = {"offers#d1": 1, "accepted#d1": 1, "response_ms#d1": 4000}
    assert either.stats.read("f1", [], [day, span, ("day", "2026-02-28"), ("span", "2026-03-08")]).drivers == {
        day: d1,
        span: d1,
    }
    assert either.stats.live_matchings("f1") == 0
    assert either.stats.live_matchings("f2") == 1


def test_a_registration_names_its_fleet_until_it_is_used(either: Stores) -> None:
    either.registrations.add("tok2", "f1", "d1", NOW + timedelta(minutes=5))
    assert either.registrations.fleet_of("tok2") == "f1"
    assert either.registrations.consume("tok2", "f1", NOW) == "d1"
    assert either.registrations.fleet_of("tok2") is None


def test_a_platform_chat_is_one_drivers_until_they_free_it(either: Stores) -> None:
    chats = either.platform_chats
    # Given chat 42 bound to d1 of f1 (binding it again is fine)
    assert [chats.bind("42", "f1", "d1"), chats.bind("42", "f1", "d1")] == [True, True]
    # Then another driver cannot take it, nor free it
    assert chats.bind("42", "f2", "d2") is False
    chats.unbind("42", "f2", "d2")
    assert chats.find("42") == ("f1", "d1")
    # Until its driver frees it
    chats.unbind("42", "f1", "d1")
    assert chats.find("42") is None
    assert chats.bind("42", "f2", "d2") is True


def test_every_fleet_is_listed(either: Stores) -> None:
    first, second = a_fleet("f1"), a_fleet("f2")
    for fleet in (first, second):
        either.fleets.create(fleet, an_api_key(fleet.fleet_id, "k" + fleet.fleet_id), "hash-" + fleet.fleet_id)
    either.fleets.save(first.model_copy(update={"name": "Renamed"}))
    assert sorted((f.fleet_id, f.name) for f in either.fleets.all()) == [("f1", "Renamed"), ("f2", second.name)]


def test_a_held_ride_leaves_the_sweepers_view_until_released_with_its_new_deadline(either: Stores) -> None:
    # Given two searching rides of a paused fleet, created a minute apart, whose deadlines have passed
    first, second = (a_ride("f1", n, created_at=NOW + timedelta(minutes=n)) for n in (1, 2))
    for ride in (second, first):
        either.rides.add(ride)
    # When both are held (the newer one first)
    assert either.rides.hold(second, "token-2", NOW)
    assert either.rides.hold(first, "token-1", NOW)
    # Then the fleet's held list reads in the order the rides came, and the sweeper sees neither
    assert either.rides.held("f1") == [first.ride_id, second.ride_id]
    assert either.rides.held("f2") == []
    assert either.rides.searching_past(NOW + timedelta(days=1)) == []
    stored = either.rides.get(first.ride_id)
    assert stored is not None
    assert (stored.task_token, stored.held_at) == ("token-1", NOW)
    # When the first is released with a new deadline, then released again
    new_deadline = NOW + timedelta(hours=1)
    released = either.rides.release(first, new_deadline)
    assert either.rides.release(first, new_deadline + timedelta(hours=1)) is None
    # Then it carries its token and new deadline, is off the list and back in the sweeper's view at that deadline
    assert released is not None
    assert (released.task_token, released.held_at, released.deadline_at) == ("token-1", None, new_deadline)
    assert either.rides.held("f1") == [second.ride_id]
    assert either.rides.searching_past(new_deadline) == []
    assert either.rides.searching_past(new_deadline + timedelta(seconds=1)) == [first.ride_id]


def test_a_ride_that_ended_is_not_held_and_ending_a_held_ride_clears_it(either: Stores) -> None:
    # Given a held ride and a cancelled one
    held, cancelled = a_ride("f1", 1), a_ride("f1", 2, status="cancelled")
    either.rides.add(held)
    either.rides.add(cancelled)
    assert either.rides.hold(cancelled, "token-x", NOW) is False
    assert either.rides.hold(held, "token-1", NOW)
    # When the held one is cancelled and taken off the list
    stored = either.rides.get(held.ride_id)
    assert stored is not None
    ended = either.rides.transition(stored, "cancelled")
    either.rides.unlist_held(held)
    # Then it is no longer held, nothing is listed, and it cannot be released
    assert ended is not None
    assert ended.held_at is None
    assert either.rides.held("f1") == []
    assert either.rides.release(held, NOW) is None


def test_the_pause_flag_changes_once_and_survives_a_fleet_edit(either: Stores) -> None:
    fleet = a_fleet("f1")
    either.fleets.create(fleet, an_api_key("f1"), "hash-f1")
    # Pausing twice changes the flag once
    assert [either.fleets.set_dispatch_paused("f1", True) for _ in range(2)] == [True, False]
    assert either.fleets.dispatch_paused("f1") is True
    # An edit of the fleet as read before the pause does not undo it
    either.fleets.save(fleet.model_copy(update={"name": "Southside Cabs"}))
    saved = either.fleets.get("f1")
    assert saved is not None
    assert (saved.name, saved.dispatch_paused) == ("Southside Cabs", True)
    assert either.fleets.set_dispatch_paused("f1", False) is True
    with pytest.raises(FleetNotFound):
        either.fleets.set_dispatch_paused("f-none", True)
    with pytest.raises(FleetNotFound):
        either.fleets.dispatch_paused("f-none")


def test_a_ride_back_to_matching_takes_its_ending_out_and_its_next_ending_replaces_it(either: Stores) -> None:
    # Given a ride counted as assigned (version 1, round 1), its offers counted for their drivers
    either.stats.count_created("f1", "2026-03-01T09", {"created": 1})
    ending = {"hour": "2026-03-01T09"}
    hour, day, span = ("hour", "2026-03-01T09"), ("day", "2026-03-01"), ("span", "2026-02-28")
    assigned = {"ended#assigned": 1, "ttm_count": 1}
    assert either.stats.count_ended(
        "f1", "r1", **ending, hour_counts=assigned, driver_counts={"offers#d1": 1}, version=1
    )
    # When it goes back to matching (version 2, round 2), a stale ending of round 1 comes late, and it then
    # times out in round 2 (version 3)
    assert either.stats.count_reopened("f1", "r1", hour="2026-03-01T09", version=2, matching_round=2) is True
    assert either.stats.read("f1", [hour]).rides == {hour: {"created": 1}}
    assert either.stats.live_matchings("f1") == 1
    late = {"hour_counts": assigned, "driver_counts": {"offers#d1": 1}, "version": 1}
    assert either.stats.count_ended("f1", "r1", **ending, **late) is False
    timed_out = {"hour_counts": {"ended#timed_out": 1}, "driver_counts": {"offers#d2": 1}}
    assert either.stats.count_ended("f1", "r1", **ending, **timed_out, version=3, matching_round=2) is True
    # Then the ride counts once, as timed out; each round's offers once for their drivers; nothing is live
    once, both_rounds = {"created": 1, "ended#timed_out": 1}, {"offers#d1": 1, "offers#d2": 1}
    assert either.stats.read("f1", [day, span], [day]) == ({day: once, span: once}, {day: both_rounds})
    assert either.stats.live_matchings("f1") == 0
    # And a reassign that keeps it ended (version 4, same round) replaces its counts without counting drivers again
    reassigned = {"hour_counts": {"ended#timed_out": 1, "reassignments": 1}, "driver_counts": {"offers#d2": 1}}
    assert either.stats.count_ended("f1", "r1", **ending, **reassigned, version=4, matching_round=2) is True
    assert either.stats.read("f1", [day], [span]) == (
        {day: {**once, "reassignments": 1}},
        {span: both_rounds},
    )
    assert either.stats.live_matchings("f1") == 0


def test_a_ride_back_to_matching_is_searching_again_for_the_sweeper_and_its_round(either: Stores) -> None:
    # Given an assigned ride in round 1
    ride = a_ride("f1", 1, status="assigned", driver_id="d1")
    either.rides.add(ride)
    assert either.rides.searching_past(NOW + timedelta(hours=1)) == []
    # When it goes back to matching in round 2 with a new deadline
    deadline = NOW + timedelta(minutes=30)
    reopened = either.rides.transition(ride, "searching", driver_id=None, deadline_at=deadline, matching_round=2)
    assert reopened is not None
    assert (reopened.status, reopened.driver_id, reopened.version, reopened.matching_round) == ("searching", None, 1, 2)
    # Then the sweeper finds it by the new deadline, and only round 2's bookkeeping lands
    assert either.rides.searching_past(deadline - timedelta(seconds=1)) == []
    assert either.rides.searching_past(deadline + timedelta(seconds=1)) == [ride.ride_id]
    assert either.rides.update_searching(ride.ride_id, {"task_token": "stale"}, only_round=1) is None
    parked = either.rides.update_searching(ride.ride_id, {"task_token": "t2"}, only_round=2)
    assert parked is not None
    assert parked.task_token == "t2"


def test_a_located_driver_reads_back_where_and_when_and_an_unknown_one_is_not_found(either: Stores) -> None:
    driver = a_driver("f1", 1)
    either.drivers.create(driver)
    where = GeoPoint(lat=51.5101, lng=-0.134)
    either.drivers.locate("f1", driver.driver_id, where, NOW)
    stored = either.drivers.get("f1", driver.driver_id)
    assert stored is not None
    assert (stored.location, stored.location_at, stored.last_seen_at) == (where, NOW, NOW)
    with pytest.raises(DriverNotFound):
        either.drivers.locate("f1", "d-nobody", where, NOW)


def test_a_webhook_failure_counts_on_the_receiver_the_fleet_still_uses(either: Stores) -> None:
    # Given a fleet with a webhook, and one without
    either.fleets.create(
        a_fleet("f1", webhook={"url": "https://a.example/h", "events": ["ride.assigned"]}), an_api_key("f1"), "h1"
    )
    either.fleets.create(a_fleet("f2"), an_api_key("f2", key_id="k2"), "h2")
    # When deliveries fail twice to its receiver, once to another URL, and once for the fleet without one
    assert either.fleets.record_webhook_failure("f1", "https://a.example/h", "HTTP 500", NOW)
    assert either.fleets.record_webhook_failure("f1", "https://a.example/h", "timeout", NOW + timedelta(seconds=5))
    assert not either.fleets.record_webhook_failure("f1", "https://b.example/h", "HTTP 500", NOW)
    assert not either.fleets.record_webhook_failure("f2", "https://a.example/h", "HTTP 500", NOW)
    # Then the fleet counts two, with the last error and time; the other fleet still has no webhook
    fleet = either.fleets.get("f1")
    assert fleet is not None
    assert fleet.webhook is not None
    assert (fleet.webhook.failures, fleet.webhook.last_error) == (2, "timeout")
    assert fleet.webhook.last_failure_at == NOW + timedelta(seconds=5)
    assert fleet.webhook.events == ["ride.assigned"]
    assert either.fleets.get("f2") is not None
    assert either.fleets.get("f2").webhook is None


def test_a_batch_of_offer_changes_applies_each_on_its_own_condition(either: Stores) -> None:
    # Given a ride offered to three drivers, one of whom has accepted already
    ride = a_ride("f1", 1)
    either.offers.add_many([an_offer(ride, "d1"), an_offer(ride, "d2"), an_offer(ride, "d3", status="accepted")])
    # When one batch marks all three failed (only from `sent`), records a Telegram message on d2, and
    # touches an offer that was never made
    either.offers.update_many(
        [
            OfferChange(ride.ride_id, "d1", {"status": "failed", "error": "twilio: down", "channel": "sms"}, "sent"),
            OfferChange(ride.ride_id, "d2", {"provider_message_id": "42", "provider_chat_id": "777"}),
            OfferChange(ride.ride_id, "d3", {"status": "failed", "error": "twilio: down"}, "sent"),
            OfferChange(ride.ride_id, "d9", {"provider_message_id": "43"}),
        ]
    )
    # Then each change landed where its condition held, the accepted offer kept its status, none was created
    offers = {o.driver_id: o for o in either.offers.for_ride(ride.ride_id)}
    assert (offers["d1"].status, offers["d1"].error) == ("failed", "twilio: down")
    assert (offers["d2"].status, offers["d2"].provider_message_id, offers["d2"].provider_chat_id) == (
        "sent",
        "42",
        "777",
    )
    assert (offers["d3"].status, offers["d3"].error) == ("accepted", None)
    assert sorted(offers) == ["d1", "d2", "d3"]


def test_a_batch_larger_than_one_call_writes_every_change(either: Stores) -> None:
    ride = a_ride("f1", 1)
    drivers = [f"d{n:02d}" for n in range(30)]
    either.offers.add_many([an_offer(ride, d) for d in drivers])
    either.offers.update_many([OfferChange(ride.ride_id, d, {"provider_message_id": d}) for d in drivers])
    assert {o.driver_id: o.provider_message_id for o in either.offers.for_ride(ride.ride_id)} == {d: d for d in drivers}


def test_a_ride_offered_to_a_thousand_drivers_counts_each_once(either: Stores) -> None:
    # Given a ride whose offers reached 1,000 drivers, and a second ride's offer to one of them
    everyone = {f"{counter}#d{n:04d}": 1 for n in range(1000) for counter in ("offers", "timeouts")}
    assert either.stats.count_ended("f1", "r1", hour="2026-03-01T09", hour_counts={}, driver_counts=everyone)
    assert either.stats.count_ended("f1", "r2", hour="2026-03-02T09", hour_counts={}, driver_counts={"offers#d0007": 1})
    # When the drivers' counters of the two days and of their span are read
    first, second, span = ("day", "2026-03-01"), ("day", "2026-03-02"), ("span", "2026-02-28")
    drivers = either.stats.read("f1", [], [first, second, span]).drivers
    # Then every driver has one offer and one timeout, all on the first day; d0007 one more on the second
    assert drivers == {first: everyone, second: {"offers#d0007": 1}, span: {**everyone, "offers#d0007": 2}}


def test_driver_names_are_the_fleets_own(either: Stores) -> None:
    # Given two drivers of f1 and one of f2
    for fleet_id, number in (("f1", 1), ("f1", 2), ("f2", 3)):
        either.drivers.create(a_driver(fleet_id, number))
    # Then f1's names are its two drivers', by id
    assert either.drivers.names("f1") == {"d000000000001": "Driver 1", "d000000000002": "Driver 2"}
    assert either.drivers.names("f-none") == {}
