"""DynamoFleetStore: a fleet comes with its first admin key; rides are numbered per fleet."""

from datetime import timedelta

import pytest

from ridecast.domain.entities import ApiPrincipal
from ridecast.domain.ports import Stores
from ridecast.errors import FleetNotFound
from tests.unit.repositories.builders import NOW, a_fleet, an_api_key


def test_a_fleet_is_created_with_its_admin_key(stores: Stores) -> None:
    # Given a new fleet and its first admin key
    fleet, key = a_fleet("f1"), an_api_key("f1", "k1")
    # When the fleet is created
    stores.fleets.create(fleet, key, "hash-1")
    # Then the fleet reads back and the key lets its holder in as the fleet's admin
    assert stores.fleets.get("f1") == fleet
    assert stores.api_keys.principal_for("hash-1") == ApiPrincipal(
        kind="fleet", fleet_id="f1", role="admin", key_id="k1"
    )
    assert stores.api_keys.for_fleet("f1") == [key]


def test_a_fleet_that_is_not_there_is_none(stores: Stores) -> None:
    assert stores.fleets.get("f-none") is None


def test_saving_a_fleet_replaces_it(stores: Stores) -> None:
    fleet = a_fleet("f1")
    stores.fleets.create(fleet, an_api_key("f1"), "hash-1")
    renamed = fleet.model_copy(update={"name": "Southside Cabs", "updated_at": NOW + timedelta(hours=1)})
    stores.fleets.save(renamed)
    assert stores.fleets.get("f1") == renamed


def test_saving_a_fleet_that_is_not_there_is_not_found_and_writes_nothing(stores: Stores) -> None:
    with pytest.raises(FleetNotFound):
        stores.fleets.save(a_fleet("f-none"))
    assert stores.fleets.get("f-none") is None


def test_ride_sequence_counts_per_fleet_from_one(stores: Stores) -> None:
    firsts = [stores.fleets.next_ride_sequence("f1") for _ in range(3)]
    assert firsts == [1, 2, 3]
    assert stores.fleets.next_ride_sequence("f2") == 1
