"""The sweeper (SPEC §4.7: no ride stays searching past its deadline): settles rides a lost or stuck
execution left searching."""

from datetime import timedelta
from typing import Any

from ridecast.domain.clock import utcnow
from ridecast.domain.matching.endings import time_out
from ridecast.domain.ports import Ports
from ridecast.errors import TransientError
from ridecast.observability import logger, metrics
from ridecast.settings import get_settings


def sweep(ports: Ports) -> dict[str, Any]:
    """Settle rides still searching well past their deadline."""
    cutoff = utcnow() - timedelta(seconds=get_settings().sweeper_grace_seconds)
    settled = 0
    for ride_id in ports.stores.rides.searching_past(cutoff):
        try:
            outcome = time_out(ports, ride_id, reason="swept: matching did not finish")
        except TransientError:
            continue  # still changing under us: the next sweep settles it
        if outcome["ride_status"] == "timed_out":
            settled += 1
            logger.warning("stuck ride settled by the sweeper", extra={"ride_id": ride_id})
    if settled:
        metrics.add_metric(name="RidesSwept", unit="Count", value=settled)
    return {"settled": settled}
