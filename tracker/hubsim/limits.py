"""The emulator's request log and its rate limiter (fixed windows per client)."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter


class Stats:
    """Request log and counters (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self.requests: list[dict] = []
            self.by_route: Counter = Counter()
            self.by_status: Counter = Counter()

    def record(self, rec: dict) -> None:
        with self._lock:
            self.requests.append(rec)
            self.by_route[rec["route"]] += 1
            self.by_status[rec["status"]] += 1

    @property
    def count_429(self) -> int:
        return self.by_status.get(429, 0)

    @property
    def total(self) -> int:
        return len(self.requests)

    def of(self, route: str | None = None, status: int | None = None) -> list[dict]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (route is None or r["route"] == route) and (status is None or r["status"] == status)
            ]

    def summary(self) -> dict:
        with self._lock:
            return {
                "total": len(self.requests),
                "by_route": dict(self.by_route),
                "by_status": dict(self.by_status),
                "429": self.by_status.get(429, 0),
            }


class RateLimiter:
    """Fixed-window quota per client key (bearer token, else client address)."""

    def __init__(self, anonymous: int, token: int, window_s: float):
        self._lock = threading.Lock()
        self.anonymous, self.token, self.window_s = anonymous, token, window_s
        self._windows: dict[str, list] = {}

    def configure(self, anonymous=None, token=None, window_s=None) -> None:
        with self._lock:
            if anonymous is not None:
                self.anonymous = int(anonymous)
            if token is not None:
                self.token = int(token)
            if window_s is not None:
                self.window_s = float(window_s)
            self._windows.clear()

    def hit(self, key: str, is_token: bool) -> tuple[bool, int, int, int, float]:
        """Count one request: (allowed, remaining, seconds to reset, quota, window)."""
        now = time.monotonic()
        with self._lock:
            quota = self.token if is_token else self.anonymous
            w = self._windows.get(key)
            if w is None or now >= w[0] + self.window_s:
                w = [now, 0]
                self._windows[key] = w
            w[1] += 1
            remaining = max(0, quota - w[1])
            reset = max(0, math.ceil(w[0] + self.window_s - now))
            return w[1] <= quota, remaining, reset, quota, self.window_s


def fmt_window(w: float) -> str:
    return str(int(w)) if float(w).is_integer() else f"{w:g}"
