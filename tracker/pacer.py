"""Pacing by the Hub's `RateLimit` headers: spend a fixed-window quota as fast as it allows, never past it.

The Hub sends `RateLimit: "api";r=<remaining>;t=<seconds to reset>` on every response. Requests go
out while the window has room (remaining minus requests still in flight); when it is spent, the
next request waits for the reset instead of drawing a 429. Until a first answer tells the quota,
one request at a time probes it. One `Pacer` is shared by all threads talking to one Hub with one
token. The clock and the wait are injectable, so the logic is tested on a fake clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class QuotaPastDeadline(Exception):
    """The window is spent and resets only after the caller's deadline."""


class Pacer:
    MARGIN_S = 0.05

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wait: Callable[[threading.Condition, float], Any] | None = None,
    ) -> None:
        self._cond = threading.Condition()
        self._clock = clock
        self._wait = wait or (lambda cond, seconds: cond.wait(timeout=seconds))
        self.remaining: int | None = None
        self.reset_at = 0.0
        self.in_flight = 0
        self._blocked_since: float | None = None
        self.quota: int | None = None  # from RateLimit-Policy (q requests per window_s), for messages
        self.window_s: float | None = None
        self._announced = False  # the current wait has been announced (on_wait)

    def acquire(self, deadline: float | None = None, on_wait: Callable[[float], Any] | None = None) -> float:
        """Wait for room in the window (a deadline on the same clock bounds the wait). Returns how long
        the window was exhausted, when this call is the one that ends such a wait (so concurrent
        waiters do not count it twice), else 0. `on_wait(seconds)` is called once per wait, by the
        caller that finds the Hub's count at 0."""
        with self._cond:
            while True:
                now = self._clock()
                if self.remaining is not None and self.remaining - self.in_flight <= 0 and now >= self.reset_at:
                    self.remaining = None  # the window has reset: probe for the new one
                room = (self.in_flight == 0) if self.remaining is None else (self.remaining - self.in_flight > 0)
                if room:
                    self.in_flight += 1
                    if self._blocked_since is None:
                        return 0.0
                    blocked, self._blocked_since = now - self._blocked_since, None
                    self._announced = False
                    return blocked
                spent = self.remaining is not None and self.remaining <= self.in_flight
                wait = self.reset_at + self.MARGIN_S - now if spent else 0.05
                if spent and self._blocked_since is None:
                    self._blocked_since = now
                # announced once, when the Hub itself says the window is spent (r=0): a window that only
                # looks spent because of requests in flight may free up when late answers come in
                if spent and on_wait is not None and not self._announced and (self.remaining or 0) <= 0:
                    self._announced = True
                    on_wait(max(wait, 0.0))
                if deadline is not None and now + max(wait, 0) > deadline:
                    raise QuotaPastDeadline(f"the rate-limit window resets in {max(wait, 0):.0f} s, after the deadline")
                self._wait(self._cond, max(0.01, min(wait, 1.0)))

    def release(self, remaining: int | None = None, reset_in_s: float | None = None) -> None:
        """A request ended; `remaining`/`reset_in_s` are its answer's RateLimit r and t (None: no header)."""
        with self._cond:
            self.in_flight = max(0, self.in_flight - 1)
            if remaining is not None and reset_in_s is not None:
                # t is whole seconds rounded up, so `now + t` is never before the real reset: within one
                # window keep the earliest such bound and the lowest remaining count (the server's count
                # only grows; answers may arrive out of order). A bound a second or more later is a new window.
                reset_at = self._clock() + reset_in_s
                if self.remaining is None or reset_at >= self.reset_at + 1.0:
                    self.remaining, self.reset_at = remaining, reset_at
                else:
                    self.remaining = min(self.remaining, remaining)
                    self.reset_at = min(self.reset_at, reset_at)
            self._cond.notify_all()
