"""Moves simulated time on in the background: `days_per_minute` simulated days per real minute."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from erp.simulator.world import SimWorld

log = logging.getLogger(__name__)


class SimClock:
    def __init__(
        self,
        world: SimWorld,
        *,
        days_per_minute: float,
        tick_seconds: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if days_per_minute <= 0:
            raise ValueError("days_per_minute must be positive; 0 means no clock")
        self.world = world
        self.days_per_minute = days_per_minute
        self.tick_seconds = tick_seconds
        self._monotonic = monotonic
        self._owed = 0.0
        self._last = monotonic()
        self._lock = threading.Lock()
        self._scheduler = BackgroundScheduler(daemon=True)

    def tick(self) -> int:
        """Advance by the whole days earned since the last tick; returns days advanced."""
        with self._lock:
            now = self._monotonic()
            self._owed += (now - self._last) * self.days_per_minute / 60.0
            self._last = now
            days = int(self._owed)
            self._owed -= days
        if days:
            report = self.world.advance(days)
            log.info("simulated clock at %s (+%d days)", report.today, days)
        return days

    def start(self) -> None:
        self._last = self._monotonic()
        self._scheduler.add_job(
            self.tick, "interval", seconds=self.tick_seconds, max_instances=1, coalesce=True
        )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
