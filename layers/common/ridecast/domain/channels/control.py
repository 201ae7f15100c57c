"""The operators' view and controls of a fleet's channel router (SPEC §3 `/dispatch/*`, §5): its mode, each
channel's health and counters and whose account it uses, a health check on demand, the emergency pause
(ridecast.domain.matching.holding), and the scheduled probe that brings offline channels back."""

from dataclasses import dataclass
from typing import Any

from ridecast.domain.channels.health import (
    ROUTER_CHANNELS,
    ChannelHealth,
    ChannelSource,
    RouterChannel,
    RouterMode,
)
from ridecast.domain.channels.router import ChannelRouter
from ridecast.domain.fleets.accounts import get_fleet
from ridecast.domain.matching import holding
from ridecast.domain.ports import Ports
from ridecast.observability import logger


@dataclass(frozen=True)
class ChannelReport:
    health: ChannelHealth
    # None: neither the fleet nor the platform has this channel.
    source: ChannelSource | None


@dataclass(frozen=True)
class DispatchStatus:
    mode: RouterMode
    paused: bool
    # Rides waiting for the resume (ridecast.domain.matching.holding).
    held_rides: int
    channels: dict[RouterChannel, ChannelReport]


def dispatch_status(ports: Ports, fleet_id: str) -> DispatchStatus:
    fleet = get_fleet(ports, fleet_id)
    router = ChannelRouter.for_fleet(fleet, ports)
    state = ports.stores.channel_health.get(fleet_id)
    channels = {c: ChannelReport(state.health(c), router.source(c)) for c in ROUTER_CHANNELS}
    return DispatchStatus(
        mode=state.mode,
        paused=fleet.dispatch_paused,
        held_rides=len(ports.stores.rides.held(fleet_id)),
        channels=channels,
    )


def set_mode(ports: Ports, fleet_id: str, mode: RouterMode) -> DispatchStatus:
    get_fleet(ports, fleet_id)
    ports.stores.channel_health.set_mode(fleet_id, mode)
    logger.info("router mode set", extra={"fleet_id": fleet_id, "mode": mode})
    return dispatch_status(ports, fleet_id)


def health_check(ports: Ports, fleet_id: str) -> DispatchStatus:
    """Probe both channels now: healthy ones go online (admins told if they were offline), failing ones
    offline (admins told)."""
    router = ChannelRouter.for_fleet(get_fleet(ports, fleet_id), ports)
    for channel in ROUTER_CHANNELS:
        router.probe(channel)
    return dispatch_status(ports, fleet_id)


def reset_stats(ports: Ports, fleet_id: str) -> DispatchStatus:
    get_fleet(ports, fleet_id)
    ports.stores.channel_health.reset_counters(fleet_id)
    return dispatch_status(ports, fleet_id)


def pause(ports: Ports, fleet_id: str) -> DispatchStatus:
    holding.pause_dispatch(ports, fleet_id)
    return dispatch_status(ports, fleet_id)


def resume(ports: Ports, fleet_id: str) -> DispatchStatus:
    holding.resume_dispatch(ports, fleet_id)
    return dispatch_status(ports, fleet_id)


def probe_offline_channels(ports: Ports) -> dict[str, Any]:
    """The scheduled probe (every minute): each offline channel of each fleet is asked again; the healthy ones
    come back online. Channels that are online are left alone: their own sends keep their health current."""
    recovered, still_offline = 0, 0
    routers: dict[str, ChannelRouter] = {}
    for fleet_id, channel in ports.stores.channel_health.offline():
        fleet = ports.stores.fleets.get(fleet_id)
        if fleet is None:
            continue
        router = routers.setdefault(fleet_id, ChannelRouter.for_fleet(fleet, ports))
        if router.probe(channel) == "online":
            recovered += 1
        else:
            still_offline += 1
    return {"recovered": recovered, "still_offline": still_offline}
