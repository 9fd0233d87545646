"""The download curves of the world: a model's daily rate is ``k * exp(lam * age)`` (age in days since it
was created), so its all-time downloads are ``floor(k * integral(lam, age))`` and its rolling 30-day
downloads the difference of two of them. Also the calibration that makes Qwen's and meta-llama's summed
30-day downloads cross at a chosen instant."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from .timefmt import DAY, to_dt


def integral(lam, a):
    """``integral_0^a exp(lam * x) dx`` elementwise (``a`` where ``lam`` is 0)."""
    small = np.abs(lam) < 1e-12
    safe = np.where(small, 1.0, lam)
    return np.where(small, a, np.expm1(lam * a) / safe)


def _alltime(k, lam, created, idx, t):
    age = np.maximum(t - created[idx], 0) / DAY
    return np.floor(k[idx] * integral(lam[idx], age))


def _window_cont(k, lam, created, sel, t):
    idx = np.flatnonzero(sel)
    a1 = np.maximum(t - created[idx], 0) / DAY
    a0 = np.maximum(t - 30 * DAY - created[idx], 0) / DAY
    return k[idx] * (integral(lam[idx], a1) - integral(lam[idx], a0))


def calibrate_downloads(k, lam, created, L, Q, t_star: int) -> datetime | None:
    """Scale the rates ``k`` of the models ``Q`` (in place) so that their summed continuous 30-day downloads
    equal those of ``L`` at ``t_star``; return the realised crossing instant of the floored (served)
    values, scanned at 1-second resolution (None when there is none near ``t_star``)."""
    if not L.any() or not Q.any():
        return None
    wl = _window_cont(k, lam, created, L, t_star).sum()
    wq = _window_cont(k, lam, created, Q, t_star).sum()
    if wl <= 0 or wq <= 0:
        return None
    k[Q] *= wl / wq

    def diff(ts):
        d = np.zeros(len(ts))
        for sel, sign in ((Q, 1), (L, -1)):
            idx = np.flatnonzero(sel)
            for chunk in np.array_split(idx, max(1, len(idx) // 2000)):
                at_now = _alltime(k, lam, created, chunk[None, :], ts[:, None])
                at_old = _alltime(k, lam, created, chunk[None, :], ts[:, None] - 30 * DAY)
                d += sign * (at_now - at_old).sum(axis=1)
        return d

    def last_nonpositive(ts):
        pos = np.flatnonzero(diff(ts) <= 0)
        return int(pos[-1]) if len(pos) else -1

    coarse = np.arange(t_star - 3600, t_star + 3600, 30, dtype=np.int64)
    n = last_nonpositive(coarse)
    if n + 1 >= len(coarse):
        return None
    lo = int(coarse[n]) if n >= 0 else int(coarse[0]) - 30
    fine = np.arange(lo, lo + 31, dtype=np.int64)
    j = last_nonpositive(fine)
    return to_dt(int(fine[j + 1])) if j + 1 < len(fine) else to_dt(int(coarse[n + 1]))
