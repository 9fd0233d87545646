"""The simulated Hub: a seeded, vectorised model ecosystem whose metrics are closed-form functions of time.

Everything the server answers, and everything a test compares against (``World.snapshot``), is computed
from the same per-model parameters, so the truth is exact at any simulated second:

* daily download rate ``r_i(t) = k_i * exp(lam_i * age)`` for ``age = t - created_i >= 0`` (days);
  all-time downloads ``AT_i(t) = floor(integral_0^age r_i)`` (never falls); the Hub's rolling 30-day
  ``downloads = AT_i(t) - AT_i(t - 30 d)`` (floors taken separately, so ``0 <= downloads <= all-time``).
* likes ``floor(L_i * (1 - exp(-age / tau_i)))`` (never fall); ``trendingScore`` = likes gained in the
  last 7 days.
* ``lastModified`` steps forward every ``period_i`` seconds while the repo is "active".
* a model is visible from ``created_at`` until its ``deleted_at``; ids follow the rename history.

Time is handled in whole UTC seconds (sub-second parts are dropped).
"""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np
import pandas as pd

from .generate import GATED, RELATIONS
from .timefmt import NEVER, format_oid, hub_times, to_dt, to_epoch
from .timeline import State, Timeline


class World(Timeline):
    """A seeded simulated Hub. See ``docs/hubsim.md`` for the model and the documented dates.

    Built in layers, one module each: ``generate.Population`` (the models), ``timeline.Timeline`` (clock,
    state at a second, mutations), and here what the server and the tests read of it."""

    # ------------------------------------------------------------------ per-model rendering helpers
    def created_str(self) -> list[str]:
        if self._created_str is None or len(self._created_str) != self.N:
            self._created_str = hub_times(self.created)
        return self._created_str

    def _edges_by_child(self) -> tuple[np.ndarray, np.ndarray]:
        """The (child, parent) edge arrays sorted by child (built once per index)."""
        if self._children_of is None:
            order = np.argsort(self._e_child, kind="stable")
            self._children_of = (self._e_child[order], self._e_parent[order])
        return self._children_of

    def parents_of(self, i: int) -> np.ndarray:
        ec, ep = self._edges_by_child()
        lo, hi = np.searchsorted(ec, i), np.searchsorted(ec, i, side="right")
        return ep[lo:hi]

    def base_models(self, i: int, st: State) -> tuple[str | None, list[int]]:
        """(relation, visible parent indices) of model i at the state's time."""
        if self._rel[i] < 0:
            return None, []
        ps = [int(p) for p in self.parents_of(i) if st.vis[p]]
        return (RELATIONS[self._rel[i]] if ps else None), ps

    def tags(self, i: int, st: State) -> list[str]:
        prof = self._profiles[self._profile_arr[i]]
        if prof["raw_tags"]:
            return list(prof["prefix"])
        rel, ps = self.base_models(i, st)
        mid: list[str] = []
        for p in ps:
            mid.append(f"base_model:{st.ids[p]}")
            mid.append(f"base_model:{rel}:{st.ids[p]}")
        return prof["prefix"] + mid + [f"license:{self.licenses[self.license[i]]}"] + prof["suffix"]

    def profile(self, i: int) -> dict:
        return self._profiles[self._profile_arr[i]]

    def sha(self, i: int, st: State) -> str:
        raw = self.raw.get(i)
        if raw and "sha" in raw:
            return raw["sha"]
        return hashlib.sha1(f"{self.oid(i)}:{st.lm[i]}".encode()).hexdigest()

    def oid(self, i: int) -> str:
        return format_oid(self.oid_hi[i], self.oid_lo[i])

    def oids(self, idx: np.ndarray) -> list[str]:
        hi, lo = self.oid_hi[idx].tolist(), self.oid_lo[idx].tolist()
        return [format_oid(h, low) for h, low in zip(hi, lo, strict=True)]

    def lookup(self, model_id: str, t=None) -> tuple[str, int | None]:
        """('ok', idx) | ('moved', idx) | ('missing', None) for a requested id at time t."""
        st = self.state(t)
        i = self._by_id.get(model_id)
        if i is not None and st.ids[i] == model_id and st.vis[i]:
            return "ok", i
        hist = self._by_old.get(model_id)
        if hist:
            for at, j in reversed(hist):
                if at <= st.t and st.vis[j] and st.ids[j] != model_id:
                    return "moved", j
        return "missing", None

    # ------------------------------------------------------------------ listing support
    def tag_mask(self, tag: str, st: State) -> np.ndarray:
        """Boolean mask of models carrying a tag (the Hub's ``filter=`` semantics)."""
        if tag.startswith("base_model:"):
            rest = tag[len("base_model:") :]
            rel = None
            head, _, tail = rest.partition(":")
            if head in RELATIONS and tail:
                rel, rest = head, tail
            mask = np.zeros(self.N, dtype=bool)
            _kind, p = self.lookup(rest, st.t)
            if p is not None and len(self._e_child):
                m = (self._e_parent == p) & st.vis[self._e_child]
                if rel is not None:
                    m &= self._rel[self._e_child] == RELATIONS.index(rel)
                mask[self._e_child[m]] = True
            return mask | self._profile_tag_mask(tag)
        if tag.startswith("license:"):
            lic = tag[len("license:") :]
            m = self.license == (self.licenses.index(lic) if lic in self.licenses else -1)
            # raw-tag models carry their own license tags
            return (m & ~self._raw_profile_mask()) | self._profile_tag_mask(tag)
        return self._profile_tag_mask(tag)

    def _raw_profile_mask(self) -> np.ndarray:
        raw_codes = [c for c, p in enumerate(self._profiles) if p["raw_tags"]]
        return np.isin(self._profile_arr, raw_codes)

    def _profile_tag_mask(self, tag: str) -> np.ndarray:
        codes = self._tag_profiles.get(tag)
        if codes is None:
            codes = np.array(
                [
                    c
                    for c, p in enumerate(self._profiles)
                    if tag in p["prefix"] or tag in p["suffix"] or tag == p["pipeline"] or tag == p["library"]
                ],
                dtype=np.int64,
            )
            self._tag_profiles[tag] = codes
        return np.isin(self._profile_arr, codes)

    def pipeline_codes(self) -> np.ndarray:
        return np.array([p["pipeline"] for p in self._profiles], dtype=object)[self._profile_arr]

    def author_code(self, name: str, *, any_case: bool = False) -> int:
        """An author's code (-1 when unknown); ``any_case``: else the first author spelled alike in
        another case (the Hub's ``author=`` is case-insensitive)."""
        code = self._author_code.get(name, -1)
        if code < 0 and any_case:
            low = name.lower()
            code = next((c for n, c in self._author_code.items() if n.lower() == low), -1)
        return code

    # ------------------------------------------------------------------ truth
    def snapshot(self, at=None) -> pd.DataFrame:
        """Every model visible at ``at`` (default: now), with the values the server serves at that second."""
        st = self.state(at)
        idx = np.flatnonzero(st.vis)
        created = pd.to_datetime(self.created[idx], unit="s", utc=True)
        lm = pd.to_datetime(st.lm[idx], unit="s", utc=True)
        pipes = [self._profiles[c]["pipeline"] for c in self._profile_arr[idx].tolist()]
        libs = [self._profiles[c]["library"] for c in self._profile_arr[idx].tolist()]
        rels, bases, tags = [], [], []
        ec, ep = self._edges_by_child()
        keep = st.vis[ep] if len(ep) else np.zeros(0, bool)
        parents: dict[int, list[str]] = {}
        ids_all = st.ids
        for c, p in zip(ec[keep].tolist(), ep[keep].tolist(), strict=True):
            parents.setdefault(c, []).append(ids_all[p])
        profs = self._profiles
        rel_arr = self._rel[idx].tolist()
        lic_arr = self.license[idx].tolist()
        for i, pc, r, lc in zip(idx.tolist(), self._profile_arr[idx].tolist(), rel_arr, lic_arr, strict=True):
            ps = parents.get(i, []) if r >= 0 else []
            rel = RELATIONS[r] if ps else None
            rels.append(rel)
            bases.append(ps)
            prof = profs[pc]
            if prof["raw_tags"]:
                tags.append(list(prof["prefix"]))
                continue
            mid: list[str] = []
            for p in ps:
                mid += (f"base_model:{p}", f"base_model:{rel}:{p}")
            tags.append(prof["prefix"] + mid + [f"license:{self.licenses[lc]}"] + prof["suffix"])
        ids = st.ids[idx].tolist()
        return pd.DataFrame(
            {
                "_id": self.oids(idx),
                "id": ids,
                "author": [self.authors[a] for a in st.author[idx].tolist()],
                "created_at": created,
                "last_modified": lm,
                "downloads": st.d30[idx],
                "downloads_all_time": st.at[idx],
                "likes": st.likes[idx],
                "trending_score": st.trending[idx],
                "pipeline_tag": pd.Series(pipes, dtype=object),
                "library_name": pd.Series(libs, dtype=object),
                "gated": pd.Series([GATED[g] for g in self.gated[idx].tolist()], dtype=object),
                "disabled": self.disabled[idx],
                "private": np.zeros(len(idx), dtype=bool),
                "tags": pd.Series(tags, dtype=object),
                "base_relation": pd.Series(rels, dtype=object),
                "base_models": pd.Series(bases, dtype=object),
                "official": self._official[idx],
            }
        )

    def children_counts(self, at=None) -> pd.DataFrame:
        """Direct children per relation of every visible model at ``at`` (deleted children not counted)."""
        st = self.state(at)
        idx = np.flatnonzero(st.vis)
        return pd.DataFrame(
            {"model_id": st.ids[idx].tolist(), **{r: st.children[k][idx] for k, r in enumerate(RELATIONS)}}
        )

    def deleted(self, at=None) -> pd.DataFrame:
        t = self._now if at is None else to_epoch(at)
        idx = np.flatnonzero(self._deleted <= t)
        st = self.state(t)
        return pd.DataFrame(
            {"id": st.ids[idx].tolist(), "deleted_at": pd.to_datetime(self._deleted[idx], unit="s", utc=True)}
        )

    @property
    def renames(self) -> pd.DataFrame:
        """Every rename in the world's timeline (including ones scheduled after ``now``)."""
        return pd.DataFrame(
            {
                "old_id": [r[2] for r in self._renames],
                "new_id": [r[3] for r in self._renames],
                "renamed_at": pd.to_datetime([r[0] for r in self._renames], unit="s", utc=True),
            }
        )

    def org_downloads(self, org: str, at=None) -> int:
        """Summed 30-day downloads of an org's official models visible at ``at``."""
        st = self.state(at)
        m = st.vis & self._official & (st.author == self.author_code(org))
        return int(st.d30[m].sum())

    def org_derivatives(self, org: str, at=None) -> int:
        """Sum over the org's official models of their direct children (all four relations)."""
        st = self.state(at)
        m = st.vis & self._official & (st.author == self.author_code(org))
        return int(st.children[:, m].sum())

    @property
    def derivatives_crossover_day(self) -> date | None:
        """First UTC day on which Qwen's direct-derivative count exceeds meta-llama's (from the truth)."""
        counts = {}
        for org in ("Qwen", "meta-llama"):
            code = self.author_code(org)
            off = self._official & (self._author0 == code)
            m = off[self._e_parent] if len(self._e_parent) else np.zeros(0, bool)
            ch = self._e_child[m]
            counts[org] = (self.created[ch], self._deleted[ch])
        if not len(counts["Qwen"][0]) or not len(counts["meta-llama"][0]):
            return None
        ev_t, ev_d = [], []
        for org, sign in (("Qwen", 1), ("meta-llama", -1)):
            c, d = counts[org]
            ev_t += [c, d[d < NEVER]]
            ev_d += [np.full(len(c), sign), np.full(int((d < NEVER).sum()), -sign)]
        t = np.concatenate(ev_t)
        dv = np.concatenate(ev_d)
        order = np.argsort(t, kind="stable")
        t, dv = t[order], dv[order]
        # apply all events of one second together
        uniq, start = np.unique(t, return_index=True)
        cum = np.cumsum(dv)
        end_idx = np.append(start[1:], len(t)) - 1
        diff = cum[end_idx]
        pos = np.flatnonzero(diff > 0)
        return to_dt(int(uniq[pos[0]])).date() if len(pos) else None

    def __repr__(self) -> str:
        return f"World(seed={self.seed}, models={self.N}, now={self.now.isoformat()})"
