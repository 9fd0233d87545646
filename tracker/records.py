"""Validate raw Hub model records (JSON dicts) into typed snapshot rows, quarantining bad ones.

huggingface_hub's ModelInfo does no type checking (`likes: "12"` passes, a missing `id` raises
KeyError and ends the whole listing), so every record is checked here before it reaches the
warehouse: a value the Hub did not give stays NULL, a value of the wrong type sends the record to
quarantine with the reason. Used by the collector and by `tracker import`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

import pandas as pd

COUNT_FIELDS = (("downloads", "downloads_30d"), ("downloadsAllTime", "downloads_all_time"), ("likes", "likes"))
TEXT_FIELDS = (("pipeline_tag", "pipeline_tag"), ("library_name", "library_name"))
TIME_FIELDS = (("createdAt", "created_at"), ("lastModified", "last_modified"))
GATED_VALUES = {False: "false", "auto": "auto", "manual": "manual"}


@dataclass
class Checked:
    """Good rows as a typed DataFrame (one per model id) and the quarantined records."""

    rows: pd.DataFrame  # model_id, author, downloads_30d, downloads_all_time, likes, trending_score,
    #                     created_at, last_modified, pipeline_tag, library_name, gated
    bad: list[tuple[str | None, str, str]]  # (model_id or None, reason, raw JSON)
    total: int

    @property
    def bad_share(self) -> float:
        return len(self.bad) / self.total if self.total else 0.0


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _problem(rec: dict) -> str | None:
    """Why a record cannot be stored as it is, or None."""
    mid = rec.get("id", rec.get("modelId"))
    if mid is None:
        return "no id"
    if not isinstance(mid, str) or mid.count("/") != 1 or not all(mid.split("/")):
        return f"id {mid!r} is not of the form 'owner/name'"
    for key, _col in COUNT_FIELDS:
        v = rec.get(key)
        if v is None:
            continue
        if not _is_int(v):
            return f"{key} is {type(v).__name__} {v!r}, expected a non-negative integer"
        if v < 0:
            return f"{key} is negative ({v})"
    ts = rec.get("trendingScore")
    if ts is not None and (isinstance(ts, bool) or not isinstance(ts, (int, float))):
        return f"trendingScore is {type(ts).__name__} {ts!r}, expected a number"
    for key, _col in TEXT_FIELDS + TIME_FIELDS:
        v = rec.get(key)
        if v is not None and not isinstance(v, str):
            return f"{key} is {type(v).__name__} {v!r}, expected text"
    g = rec.get("gated")
    if g is not None and not (g is False or g in ("auto", "manual")):
        return f"gated is {g!r}, expected false, 'auto' or 'manual'"
    return None


def _raw(rec: Any) -> str:
    try:
        return json.dumps(rec, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(rec)


def check(records: Iterable[Any]) -> Checked:
    """Split raw records into typed rows and quarantined ones; the last record of a duplicated id wins."""
    good: dict[str, dict] = {}
    bad: list[tuple[str | None, str, str]] = []
    total = 0
    for rec in records:
        total += 1
        if not isinstance(rec, dict):
            bad.append((None, f"record is {type(rec).__name__}, not an object", _raw(rec)))
            continue
        why = _problem(rec)
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
        recs = [r for r, k in zip(recs, keep) if k]
        ids = [i for i, k in zip(ids, keep) if k]
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
    cols["gated"] = pd.array([GATED_VALUES.get(r["gated"]) if "gated" in r else None for r in recs], dtype="str")
    return Checked(rows=pd.DataFrame(cols), bad=bad, total=total)
