"""The channel router's state per fleet (SPEC §5): one item `FLEET#<id>` / `ROUTER` with the mode and
flat per-channel attributes (`telegram_attempts`, `twilio_status`...), so one read loads both channels and
one ADD updates a channel's counters; an offline channel also has an index item `ROUTER#OFFLINE` /
`<fleet>#<channel>` that the scheduled probe queries instead of scanning fleets."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from ridecast.domain.channels.health import (
    ROUTER_CHANNELS,
    ChannelHealth,
    ChannelOutcomes,
    ChannelStatus,
    RouterChannel,
    RouterMode,
    RouterState,
)
from ridecast.repositories.items import fleet_pk
from ridecast.repositories.table import conditionally, query_all, table

ROUTER_SK = "ROUTER"
OFFLINE_PK = "ROUTER#OFFLINE"
COUNTERS = ("attempts", "successes", "failures", "latency_ms_total")
MODES: tuple[RouterMode, ...] = ("auto", "telegram-only", "twilio-only")


def _key(fleet_id: str) -> dict[str, str]:
    return {"PK": fleet_pk(fleet_id), "SK": ROUTER_SK}


def _when(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)) if value else None


def _health(item: dict[str, Any], channel: RouterChannel) -> ChannelHealth:
    status = str(item.get(f"{channel}_status") or "unknown")
    return ChannelHealth(
        status="offline" if status == "offline" else "online" if status == "online" else "unknown",
        consecutive_failures=int(item.get(f"{channel}_consecutive_failures", 0)),
        attempts=int(item.get(f"{channel}_attempts", 0)),
        successes=int(item.get(f"{channel}_successes", 0)),
        failures=int(item.get(f"{channel}_failures", 0)),
        latency_ms_total=float(item.get(f"{channel}_latency_ms_total", 0)),
        last_success_at=_when(item.get(f"{channel}_last_success_at")),
        last_failure_at=_when(item.get(f"{channel}_last_failure_at")),
    )


class DynamoChannelHealthStore:
    def get(self, fleet_id: str) -> RouterState:
        item = table().get_item(Key=_key(fleet_id), ConsistentRead=True).get("Item") or {}
        mode: RouterMode = next((m for m in MODES if m == item.get("mode")), "auto")
        return RouterState(mode=mode, channels={c: _health(item, c) for c in ROUTER_CHANNELS})

    def record(self, fleet_id: str, channel: RouterChannel, outcomes: ChannelOutcomes) -> ChannelHealth:
        names = {"#run": f"{channel}_consecutive_failures"}
        values: dict[str, Any] = {}
        adds: list[str] = []
        sets: list[str] = []
        for counter in COUNTERS:
            names[f"#{counter}"] = f"{channel}_{counter}"
            values[f":{counter}"] = Decimal(str(round(getattr(outcomes, counter), 3)))
            adds.append(f"#{counter} :{counter}")
        values[":run"] = outcomes.failures_in_a_row
        # A success seen here restarts the stored run of failures; otherwise this invocation's run adds to it.
        (sets if outcomes.succeeded else adds).append("#run = :run" if outcomes.succeeded else "#run :run")
        for moment in ("last_success_at", "last_failure_at"):
            if (at := getattr(outcomes, moment)) is not None:
                names[f"#{moment}"], values[f":{moment}"] = f"{channel}_{moment}", at.isoformat()
                sets.append(f"#{moment} = :{moment}")
        if outcomes.succeeded:
            # The first success of a never-probed channel makes it online; an offline one waits for the probe.
            names["#status"], values[":online"] = f"{channel}_status", "online"
            sets.append("#status = if_not_exists(#status, :online)")
        expression = "ADD " + ", ".join(adds) + (" SET " + ", ".join(sets) if sets else "")
        item = table().update_item(
            Key=_key(fleet_id),
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return _health(item, channel)

    def set_status(
        self, fleet_id: str, channel: RouterChannel, status: ChannelStatus, *, only_from: ChannelStatus | None = None
    ) -> bool:
        values: dict[str, Any] = {":status": status, ":zero": 0}
        condition = "attribute_not_exists(#status) OR #status <> :status"
        if only_from is not None:
            condition, values[":from"] = "#status = :from", only_from
        moved = conditionally(
            lambda: table().update_item(
                Key=_key(fleet_id),
                UpdateExpression="SET #status = :status, #run = :zero",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": f"{channel}_status", "#run": f"{channel}_consecutive_failures"},
                ExpressionAttributeValues=values,
            )
        )
        if moved is None:
            return False
        index_key = {"PK": OFFLINE_PK, "SK": f"{fleet_id}#{channel}"}
        if status == "offline":
            table().put_item(
                Item={**index_key, "item_type": "offline_channel", "fleet_id": fleet_id, "channel": channel}
            )
        else:
            table().delete_item(Key=index_key)
        return True

    def set_mode(self, fleet_id: str, mode: RouterMode) -> None:
        table().update_item(
            Key=_key(fleet_id),
            UpdateExpression="SET #mode = :mode",
            ExpressionAttributeNames={"#mode": "mode"},
            ExpressionAttributeValues={":mode": mode},
        )

    def reset_counters(self, fleet_id: str) -> None:
        names = {f"#{c}_{k}": f"{c}_{k}" for c in ROUTER_CHANNELS for k in COUNTERS}
        table().update_item(
            Key=_key(fleet_id),
            UpdateExpression="SET " + ", ".join(f"{name} = :zero" for name in names),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":zero": 0},
        )

    def offline(self) -> list[tuple[str, RouterChannel]]:
        found: list[tuple[str, RouterChannel]] = []
        for item in query_all(KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": OFFLINE_PK}):
            channel = str(item.get("channel"))
            if channel in ROUTER_CHANNELS:
                found.append((str(item["fleet_id"]), "telegram" if channel == "telegram" else "twilio"))
        return found
