"""The daemon's clock: real UTC time, or a SimClock (tests and the soak bench) that runs faster and jumps."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """The daemon's default clock: real UTC time (TRACKER_NOW, a fixed time, makes no sense for a daemon)."""
    return dt.datetime.now(dt.UTC)


class SimClock:
    """Simulated UTC time starting at `start` and running `speed` times faster than real time.

    `jump(seconds)` moves it at once (as a resume from suspend does); `install()` makes APScheduler's
    scheduler read it (APScheduler 3.11 takes the time from `datetime.now` as named in
    `apscheduler.schedulers.base`, so replacing that name moves the scheduler's clock, jumps included).
    A Daemon given a SimClock scales its sleeps by `speed`.
    """

    def __init__(self, start: dt.datetime, speed: float = 60.0):
        self.speed = float(speed)
        self._start = start.astimezone(dt.UTC)
        self._m0 = time.monotonic()
        self._offset = 0.0

    def __call__(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=(time.monotonic() - self._m0) * self.speed + self._offset)

    def jump(self, seconds: float) -> None:
        self._offset += seconds

    @contextmanager
    def install(self) -> Iterator[SimClock]:
        from apscheduler.schedulers import base

        clock = self

        class _Now(dt.datetime):
            @classmethod
            def now(cls, tz=None):
                t = clock()
                return t.astimezone(tz) if tz is not None else t.replace(tzinfo=None)

        saved = base.datetime
        base.datetime = _Now
        try:
            yield self
        finally:
            base.datetime = saved
