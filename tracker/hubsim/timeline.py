"""The world in time: the simulated clock, the state of every model at one second (computed vectorised
from the population's parameters, cached), and the changes made to a running world (injected models,
renames, deletions)."""

from __future__ import annotations

import threading
from datetime import datetime

import numpy as np
import pandas as pd

from .curves import integral
from .generate import GATED, RELATIONS, Population
from .timefmt import DAY, NEVER, parse_oid, to_dt, to_epoch


class State:
    """Everything derived from the world at one simulated second (built vectorised, cached)."""

    __slots__ = (
        "_lower",
        "at",
        "author",
        "children",
        "d30",
        "ids",
        "likes",
        "lm",
        "t",
        "trending",
        "vis",
        "world_version",
    )

    t: int
    world_version: int
    vis: np.ndarray  # bool: visible at t
    ids: np.ndarray  # object: each model's id at t (after renames)
    author: np.ndarray  # int64 author codes at t
    at: np.ndarray
    d30: np.ndarray
    likes: np.ndarray
    trending: np.ndarray
    lm: np.ndarray  # int64 epoch seconds of lastModified
    children: np.ndarray  # (4, N) int64: direct children per relation
    _lower: pd.Series | None

    def lower_ids(self) -> pd.Series:
        """Every model's id at t in lower case (what ``search=`` matches), computed once."""
        if self._lower is None:
            self._lower = pd.Series(self.ids, dtype=object).str.lower()
        return self._lower


class Timeline(Population):
    """A population with a clock (``now``), its state at any second, and mutations."""

    def __init__(
        self,
        seed: int = 0,
        models: int = 20_000,
        official: dict | None = None,
        now="2026-08-01",
        horizon_days: int = 90,
    ):
        self._lock = threading.RLock()
        self._now = to_epoch(now)
        self._version = 0
        self._cache: dict[int, State] = {}
        self.raw: dict[int, dict] = {}
        self._fixed: dict[int, dict] = {}
        super().__init__(seed, models, official, horizon_days)

    # ------------------------------------------------------------------ clock
    @property
    def now(self) -> datetime:
        return to_dt(self._now)

    @property
    def now_epoch(self) -> int:
        return self._now

    def set_time(self, when) -> None:
        with self._lock:
            self._now = to_epoch(when)

    def advance(self, days: float = 0, hours: float = 0, seconds: float = 0) -> datetime:
        with self._lock:
            self._now += int(days * DAY + hours * 3600 + seconds)
            return self.now

    # ------------------------------------------------------------------ mutation
    def _reindex(self) -> None:
        super()._reindex()
        self._version += 1  # every cached state and listing order is stale
        self._cache.clear()

    def add_model(self, record: dict) -> int:
        """Inject a fixed model (e.g. a captured real body). Its counts are constant; raw extra fields
        (sha, siblings, config, cardData, ...) are served exactly as given. Returns its index."""
        rec = dict(record)
        mid = rec["id"]
        with self._lock:
            if mid in self._by_id:
                raise ValueError(f"model {mid!r} already exists")
            created = to_epoch(rec["createdAt"]) if rec.get("createdAt") else self._now
            if "_id" in rec:
                hi, lo = parse_oid(rec["_id"])
            else:
                hi, lo = created, int(self._rng.integers(0, 2**40)) << 24 | (self.N & 0xFFFFFF)
            author: str = rec.get("author") or (mid.split("/", 1)[0] if "/" in mid else mid)
            tags = rec.get("tags") or []
            prof = self._profile(rec.get("library_name"), rec.get("pipeline_tag"), None, "raw", tags=tags)
            gated = rec.get("gated", False)
            i = self.N
            self.N += 1
            self._ids0.append(mid)
            app = lambda a, v: np.append(a, np.array([v], dtype=a.dtype))  # noqa: E731
            self._author0 = app(self._author0, self._author(author))
            self.created = app(self.created, created)
            self._deleted = app(self._deleted, NEVER)
            self._official = app(self._official, False)
            self._family = app(self._family, -1)
            self._profile_arr = app(self._profile_arr, prof)
            lic = next((t.split(":", 1)[1] for t in tags if t.startswith("license:")), "other")
            if lic not in self.licenses:
                self.licenses.append(lic)
            self.license = app(self.license, self.licenses.index(lic))
            self.gated = app(self.gated, GATED.index(gated) if gated in GATED else 0)
            self.disabled = app(self.disabled, bool(rec.get("disabled", False)))
            self.oid_hi = app(self.oid_hi, hi)
            self.oid_lo = app(self.oid_lo, lo)
            for name in ("_lam", "_k", "_linf", "_tau", "_period", "_active"):
                setattr(self, name, app(getattr(self, name), 0.0 if name in ("_lam", "_k", "_linf") else 1.0))
            self.params = app(self.params, int((rec.get("safetensors") or {}).get("total", 0) or 0))
            self._fixed_mask = app(self._fixed_mask, True)
            self.warm = app(self.warm, rec.get("inference") == "warm")
            bm = rec.get("baseModels")
            rel = -1
            if isinstance(bm, dict) and bm.get("relation") in RELATIONS:
                parents = [self._by_id[m["id"]] for m in bm.get("models", []) if m.get("id") in self._by_id]
                if parents:
                    rel = RELATIONS.index(bm["relation"])
                    self._e_child = np.append(self._e_child, [i] * len(parents)).astype(np.int64)
                    self._e_parent = np.append(self._e_parent, parents).astype(np.int64)
                    rec.pop("baseModels")
            self._rel = app(self._rel, rel)
            downloads = int(rec.get("downloads", 0) or 0)
            self._fixed[i] = {
                "downloads": downloads,
                "at": int(rec.get("downloadsAllTime", downloads) or downloads),
                "likes": int(rec.get("likes", 0) or 0),
                "trending": int(rec.get("trendingScore", 0) or 0),
                "lm": to_epoch(rec["lastModified"]) if rec.get("lastModified") else created,
            }
            self.raw[i] = rec
            self._reindex()
            return i

    def _idx_at(self, model_id: str, t: int) -> int:
        st = self.state(t)
        i = self._by_id.get(model_id)
        if i is None or st.ids[i] != model_id or not st.vis[i]:
            raise KeyError(model_id)
        return i

    def rename(self, old_id: str, new_id: str, at=None) -> None:
        with self._lock:
            t = self._now if at is None else to_epoch(at)
            i = self._idx_at(old_id, t)
            if new_id in self._by_id:
                raise ValueError(f"{new_id!r} is taken")
            self._renames.append((t, i, old_id, new_id))
            self._renames.sort()
            self._reindex()

    def delete(self, model_id: str, at=None) -> None:
        with self._lock:
            t = self._now if at is None else to_epoch(at)
            i = self._idx_at(model_id, t)
            self._deleted[i] = t
            self._version += 1
            self._cache.clear()

    # ------------------------------------------------------------------ time state
    def state(self, t=None) -> State:
        t = self._now if t is None else to_epoch(t)
        st = self._cache.get(t)
        if st is not None:
            return st
        with self._lock:
            st = self._cache.get(t)
            if st is not None:
                return st
            st = self._compute(t)
            if len(self._cache) > 8:
                self._cache.pop(next(iter(self._cache)))
            self._cache[t] = st
            return st

    def _compute(self, t: int) -> State:
        st = State()
        st.t = t
        st.world_version = self._version
        created = self.created
        st.vis = (created <= t) & (self._deleted > t)
        ids = self._ids0_arr
        author = self._author0
        applied = [r for r in self._renames if r[0] <= t]
        if applied:
            ids = ids.copy()
            author = author.copy()
            for _at, i, _old, new in applied:
                ids[i] = new
                author[i] = self._author(new.split("/", 1)[0])
        st.ids, st.author = ids, author
        age_s = np.maximum(t - created, 0)
        age = age_s / DAY
        at_now = np.floor(self._k * integral(self._lam, age))
        at_old = np.floor(self._k * integral(self._lam, np.maximum(age - 30, 0)))
        st.at = at_now.astype(np.int64)
        st.d30 = (at_now - at_old).astype(np.int64)
        lk = np.floor(self._linf * -np.expm1(-age / self._tau))
        lk7 = np.floor(self._linf * -np.expm1(-np.maximum(age - 7, 0) / self._tau))
        st.likes = lk.astype(np.int64)
        st.trending = (lk - lk7).astype(np.int64)
        steps = np.floor(np.minimum(age_s, self._active) / self._period)
        st.lm = (created + steps * self._period).astype(np.int64)
        for i, fx in self._fixed.items():
            st.d30[i], st.at[i], st.likes[i], st.trending[i], st.lm[i] = (
                fx["downloads"],
                fx["at"],
                fx["likes"],
                fx["trending"],
                fx["lm"],
            )
        for arr in (st.at, st.d30, st.likes, st.trending):
            arr[~st.vis] = 0
        ch = np.zeros((4, self.N), dtype=np.int64)
        if len(self._e_child):
            ok = st.vis[self._e_child]
            rel = self._rel[self._e_child]
            for r in range(4):
                m = ok & (rel == r)
                ch[r] = np.bincount(self._e_parent[m], minlength=self.N)
        st.children = ch
        st._lower = None
        return st
