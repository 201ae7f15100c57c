"""scripts/backfill_indexes.py: items written before the platform indexes get their entries, once."""

import importlib.util
from types import ModuleType

from ridecast.domain.ports import Stores
from ridecast.repositories.items import driver_item, fleet_item
from ridecast.repositories.table import table
from tests.fixtures import REPO_ROOT
from tests.unit.repositories.builders import a_driver, a_fleet


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("backfill_indexes", REPO_ROOT / "scripts" / "backfill_indexes.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_old_fleets_and_drivers_get_their_index_entries_once(stores: Stores) -> None:
    # Given a fleet and a driver stored as they were before the indexes (no GSI1 keys, no phone index entry)
    old_fleet = {k: v for k, v in fleet_item(a_fleet("f-old")).items() if not k.startswith("GSI1")}
    table().put_item(Item=old_fleet)
    driver = a_driver("f-old", 1)
    table().put_item(Item=driver_item(driver))
    assert stores.fleets.all() == []
    assert stores.driver_phones.drivers_for(driver.phone) == []
    # When the backfill runs, twice
    backfill = _script().backfill
    assert backfill() == {"fleets": 1, "drivers": 1}
    assert backfill() == {"fleets": 0, "drivers": 1}
    # Then the daily report lists the fleet and a reply to a platform sender finds the driver
    assert [f.fleet_id for f in stores.fleets.all()] == ["f-old"]
    assert stores.driver_phones.drivers_for(driver.phone) == [("f-old", driver.driver_id)]
