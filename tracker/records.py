"""Validate raw Hub model records (JSON dicts) into typed snapshot rows, quarantining bad ones.

huggingface_hub's ModelInfo does no type checking (`likes: "12"` passes, a missing `id` raises
KeyError and ends the whole listing), so every record is checked here before it reaches the
warehouse: a value the Hub did not give stays NULL, a value of the wrong type sends the record to
quarantine with the reason. Used by the collector and by `tracker import`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

COUNT_FIELDS = (("downloads", "downloads_30d"), ("downloadsAllTime", "downloads_all_time"), ("likes", "likes"))
TEXT_FIELDS = (("pipeline_tag", "pipeline_tag"), ("library_name", "library_name"))
TIME_FIELDS = (("createdAt", "created_at"), ("lastModified", "last_modified"))
GATED_VALUES = {False: "false", "auto": "auto", "manual": "manual"}
MAX_COUNT = 2**53  # above this a count is not a count (and a float would not even hold it exactly)
INT64_MAX = 2**63 - 1
# a Hub user/org or repo name as huggingface_hub's validate_repo_id accepts it: word characters, '-' and
# '.', starting and ending with a letter, digit or '_', at most 96, no '--' or '..', not ending '.git'
_NAME = re.compile(r"^(?=[A-Za-z0-9_])[A-Za-z0-9_.-]{0,96}(?<=[A-Za-z0-9_])$")


@dataclass
class Checked:
    """Good rows as a typed DataFrame (one per model id) and the quarantined records."""

    rows: pd.DataFrame  # model_id, author, downloads_30d, downloads_all_time, likes, trending_score,
    #                     created_at, last_modified, pipeline_tag, library_name, parameters, gated
    bad: list[tuple[str | None, str, str]]  # (model_id or None, reason, raw JSON)
    total: int

    @property
    def bad_share(self) -> float:
        return len(self.bad) / self.total if self.total else 0.0


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def bad_id(mid: Any, authors: Iterable[str] | None = None) -> str | None:
    """Why `mid` is not a model id the Hub would accept (for one of `authors`, when given), or None."""
    if not isinstance(mid, str) or mid.count("/") != 1 or not all(mid.split("/")):
        return f"id {mid!r} is not of the form 'owner/name'"
    owner, name = mid.split("/")
    for part in (owner, name):
        if not _NAME.match(part) or "--" in part or ".." in part or part.endswith(".git"):
            return f"id {mid!r} has characters the Hub does not allow in a repo id"
    if authors is not None:
        wanted = {a.lower() for a in authors}
        if owner.lower() not in wanted:
            return f"id {mid!r} is not by {' or '.join(sorted(authors))}, the author it was listed for"
    return None


def _problem(rec: dict, authors: Iterable[str] | None = None) -> str | None:
    """Why a record cannot be stored as it is, or None."""
    mid = rec.get("id", rec.get("modelId"))
    if mid is None:
        return "no id"
    why = bad_id(mid, authors)
    if why is not None:
        return why
    for key, _col in COUNT_FIELDS:
        v = rec.get(key)
        if v is None:
            continue
        if not _is_int(v):
            return f"{key} is {type(v).__name__} {v!r}, expected a non-negative integer"
        if v < 0:
            return f"{key} is negative ({v})"
        if v > MAX_COUNT:
            return f"{key} is {v}, above 2^53: not a plausible count"
    ts = rec.get("trendingScore")
    if ts is not None and (isinstance(ts, bool) or not isinstance(ts, (int, float))):
        return f"trendingScore is {type(ts).__name__} {ts!r}, expected a number"
    if ts is not None and (not math.isfinite(ts) or abs(ts) > MAX_COUNT):
        return f"trendingScore is {ts!r}, expected a finite number of at most 2^53"
    for key, _col in TEXT_FIELDS + TIME_FIELDS:
        v = rec.get(key)
        if v is not None and not isinstance(v, str):
            return f"{key} is {type(v).__name__} {v!r}, expected text"
    st = rec.get("safetensors")
    if st is not None and not (isinstance(st, dict) and (st.get("total") is None or _is_int(st.get("total")))):
        return f'safetensors is {st!r}, expected an object with an integer "total" (parameter count)'
    g = rec.get("gated")
    if g is not None and not (g is False or g in ("auto", "manual")):
        return f"gated is {g!r}, expected false, 'auto' or 'manual'"
    return None


def sums_overflow(rows: pd.DataFrame) -> str | None:
    """Why a family's sums would not fit the warehouse's 64-bit columns, or None. Each count is at most
    2^53, so this takes over 1024 absurd records; the sums are exact Python integers here."""
    for _key, col in COUNT_FIELDS:
        total = sum(int(v) for v in rows[col].dropna())
        if total > INT64_MAX:
            return f"the sum of {col} over the family ({total}) does not fit a 64-bit integer"
    return None


def all_time_jumps(prev: pd.Series, cur: pd.Series, factor: float, floor: int = 1000) -> pd.Series:
    """Which models' all-time count jumped implausibly: cur > factor * max(prev, floor).

    `prev` and `cur` are all-time counts indexed by model (NA = unknown: never a jump). A count
    under `floor` before is compared as `floor`, so a new model's first thousand downloads are not a jump.
    """
    p = pd.to_numeric(prev, errors="coerce").astype("Float64").reindex(cur.index)
    c = pd.to_numeric(cur, errors="coerce").astype("Float64")
    out = (c > factor * p.clip(lower=floor)).fillna(False)
    return out.astype(bool)


def _raw(rec: Any) -> str:
    try:
        return json.dumps(rec, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(rec)


def check(records: Iterable[Any], authors: Iterable[str] | None = None) -> Checked:
    """Split raw records into typed rows and quarantined ones; the last record of a duplicated id wins.
    With `authors`, an id by anyone else (the author the listing was asked for) is quarantined."""
    authors = tuple(authors) if authors is not None else None
    good: dict[str, dict] = {}
    bad: list[tuple[str | None, str, str]] = []
    total = 0
    for rec in records:
        total += 1
        if not isinstance(rec, dict):
            bad.append((None, f"record is {type(rec).__name__}, not an object", _raw(rec)))
            continue
        why = _problem(rec, authors)
        if why is not None:
            mid = rec.get("id")
            bad.append((mid if isinstance(mid, str) else None, why, _raw(rec)))
            continue
        mid = rec.get("id") or rec["modelId"]
        good.pop(mid, None)  # re-insert so that the last occurrence keeps its place and value
        good[mid] = rec
    recs = list(good.values())
    ids = list(good.keys())
    times = {}
    broken = pd.Series(False, index=range(len(recs)))
    for key, col in TIME_FIELDS:
        raw = pd.Series([r.get(key) for r in recs], dtype="str")
        parsed = pd.to_datetime(raw, utc=True, format="ISO8601", errors="coerce")
        bad_ts = parsed.isna() & raw.notna()
        for i in bad_ts[bad_ts & ~broken].index:
            bad.append((ids[i], f"{key} {recs[i].get(key)!r} is not an ISO-8601 timestamp", _raw(recs[i])))
        broken |= bad_ts
        times[col] = parsed.dt.as_unit("us")
    if broken.any():
        keep = ~broken.to_numpy()
        recs = [r for r, k in zip(recs, keep, strict=True) if k]
        ids = [i for i, k in zip(ids, keep, strict=True) if k]
        times = {c: t[keep].reset_index(drop=True) for c, t in times.items()}
    cols: dict[str, Any] = {
        "model_id": pd.array(ids, dtype="str"),
        "author": pd.array([i.split("/", 1)[0] for i in ids], dtype="str"),
    }
    for key, col in COUNT_FIELDS:
        cols[col] = pd.array([r.get(key) for r in recs], dtype="Int64")
    cols["trending_score"] = pd.array([r.get("trendingScore") for r in recs], dtype="Float64")
    cols.update(times)
    for key, col in TEXT_FIELDS:
        cols[col] = pd.array([r.get(key) for r in recs], dtype="str")
    cols["parameters"] = pd.array([(r.get("safetensors") or {}).get("total") for r in recs], dtype="Int64")
    cols["gated"] = pd.array([GATED_VALUES.get(r["gated"]) if "gated" in r else None for r in recs], dtype="str")
    return Checked(rows=pd.DataFrame(cols), bad=bad, total=total)
