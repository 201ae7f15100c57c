"""The EventBridge Scheduler schedules of template.yaml, ticking in a background thread."""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from local_stack.template import ScheduleSpec


class ScheduleRunner:
    """Fires each schedule every period (first tick one period after start, as a new schedule does).
    Targets run on worker threads so a slow one does not delay the others. A ScheduleV2 target without
    Input receives `{}`: EventBridge Scheduler sends nothing else."""

    def __init__(self, schedules: list[ScheduleSpec], fire: Callable[[ScheduleSpec], None]) -> None:
        self.schedules = list(schedules)
        self._fire = fire
        self._stopping = threading.Event()
        self._workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="schedule")
        self._thread = threading.Thread(target=self._run, name="schedules", daemon=True)

    def start(self) -> None:
        if self.schedules:
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._workers.shutdown(wait=True, cancel_futures=True)

    def trigger(self, name: str) -> None:
        """Fire one schedule now, on the caller's thread: its name (`SweeperFunction.EveryMinute`) or target."""
        found = [s for s in self.schedules if name in (s.name, s.target_id)]
        if not found:
            raise KeyError(f"no schedule {name!r} (known: {sorted(s.name for s in self.schedules)})")
        self._fire(found[0])

    def _run(self) -> None:
        due = {schedule.name: time.monotonic() + schedule.period_seconds for schedule in self.schedules}
        by_name = {schedule.name: schedule for schedule in self.schedules}
        while not self._stopping.is_set():
            name = min(due, key=lambda candidate: due[candidate])
            if self._stopping.wait(max(0.0, due[name] - time.monotonic())):
                return
            # A missed tick is skipped, not replayed in a burst.
            due[name] = max(due[name], time.monotonic()) + by_name[name].period_seconds
            self._workers.submit(self._safe_fire, by_name[name])

    def _safe_fire(self, schedule: ScheduleSpec) -> None:
        try:
            self._fire(schedule)
        except Exception:
            print(f"local stack: schedule {schedule.name} → {schedule.target_id} failed", file=sys.stderr)
            traceback.print_exc()
