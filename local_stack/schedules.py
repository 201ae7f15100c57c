"""EventBridge schedules of the template, ticking in a background thread."""

from __future__ import annotations

import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from local_stack.sam import ScheduleSpec
from local_stack.template import ACCOUNT_ID, REGION, STACK_NAME


def schedule_event(schedule: ScheduleSpec) -> Any:
    """What the target receives: the rule's "Scheduled Event" envelope (Schedule) or the schedule's
    Input, which for EventBridge Scheduler (ScheduleV2) is all the target gets."""
    if schedule.input is not None:
        return schedule.input
    if schedule.event_style == "ScheduleV2":
        return {}
    rule = f"{STACK_NAME}-{schedule.name.replace('.', '-')}"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{rule}"],
        "detail": {},
    }


class ScheduleRunner:
    """Fires each schedule every period (first tick one period after start, as a new rule does).
    Targets run on worker threads so a slow one does not delay the others."""

    def __init__(self, schedules: list[ScheduleSpec], fire: Callable[[ScheduleSpec, Any], None]) -> None:
        self._schedules = {schedule.name: schedule for schedule in schedules}
        self._fire = fire
        self._stopping = threading.Event()
        self._workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="schedule")
        self._thread = threading.Thread(target=self._run, name="schedules", daemon=True)

    @property
    def schedules(self) -> list[ScheduleSpec]:
        return list(self._schedules.values())

    def start(self) -> None:
        if self._schedules:
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._workers.shutdown(wait=True, cancel_futures=True)

    def trigger(self, name: str) -> None:
        """Fire one schedule now, on the caller's thread (tests, or "run the sweeper" by hand)."""
        schedule = self._schedules.get(name) or next((s for s in self._schedules.values() if s.target_id == name), None)
        if schedule is None:
            raise KeyError(f"no schedule {name!r} (known: {sorted(self._schedules)})")
        self._fire(schedule, schedule_event(schedule))

    def _run(self) -> None:
        now = time.monotonic()
        due = {name: now + schedule.period_seconds for name, schedule in self._schedules.items()}
        while not self._stopping.is_set():
            next_name = min(due, key=lambda name: due[name])
            if self._stopping.wait(max(0.0, due[next_name] - time.monotonic())):
                return
            schedule = self._schedules[next_name]
            # A missed tick is skipped, not replayed in a burst.
            due[next_name] += schedule.period_seconds
            if due[next_name] < time.monotonic():
                due[next_name] = time.monotonic() + schedule.period_seconds
            self._workers.submit(self._safe_fire, schedule)

    def _safe_fire(self, schedule: ScheduleSpec) -> None:
        try:
            self._fire(schedule, schedule_event(schedule))
        except Exception:
            print(f"local stack: schedule {schedule.name} → {schedule.target_id} failed", file=sys.stderr)
            traceback.print_exc()
