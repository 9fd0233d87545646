"""Data-quality notes, so that no reader mistakes an artefact for a trend: one function per issue.

Every function returns rows of (day, family, model_id, issue, detail); model_id is NA for a
family-level issue. `quality_flags` runs them all.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tracker.metrics import SNAPSHOT_METRICS
from tracker.trends.common import DAY, days, empty, floats, iso, stamp
from tracker.trends.intervals import (
    Transitions,
    downloads_from,
    prepare_snaps,
    transitions,
)

COLUMNS = ["day", "family", "model_id", "issue", "detail"]
#: A family-day is stale for a metric when at least this share of the models present on both days
#: (with a value on both) kept exactly the same value ...
STALE_SHARE = 0.9
#: ... and at least this many models were compared (likes of a handful of models often stand still).
STALE_MIN_MODELS = {"downloads": 1, "likes": 5}
#: The metrics each staleness check looks at.
STALE_GROUPS = {"downloads": ("downloads_30d", "downloads_all_time"), "likes": ("likes",)}


def _rows(day: Any, family: Any, model_id: Any, issue: str | list[str], detail: Any) -> pd.DataFrame:
    n = len(day)
    return pd.DataFrame(
        {
            "day": pd.Series(np.asarray(day), dtype="datetime64[us]"),
            "family": pd.Series(np.asarray(family, dtype=object), dtype="str"),
            "model_id": pd.Series(
                np.asarray(model_id, dtype=object) if model_id is not None else [None] * n, dtype="str"
            ),
            "issue": pd.Series([issue] * n if isinstance(issue, str) else issue, dtype="str"),
            "detail": pd.Series(list(detail), dtype="str"),
        }
    )


def stale_days(tr: Transitions) -> pd.DataFrame:
    """``stale_downloads`` / ``stale_likes``: on a family-day, nearly every model present on both days
    (STALE_SHARE of those with a value on both days, at least STALE_MIN_MODELS of them) has exactly the
    value it had on the previous snapshot day for that metric, while the other metric changed: the Hub
    refreshed one count and not the other. ``stale``: every metric compared is stale in that sense."""
    later = tr.later[tr.later["status"] == "common"]
    groups = {g: [c for c in cols if c in later.columns] for g, cols in STALE_GROUPS.items()}
    groups = {g: cols for g, cols in groups.items() if cols}
    if later.empty or not groups:
        return empty(COLUMNS)
    per = later[["family", "day", "prev_day"]].copy()
    for g, cols in groups.items():
        cur = np.column_stack([later[c].to_numpy() for c in cols])
        prv = np.column_stack([later[f"prev_{c}"].to_numpy() for c in cols])
        both = ~np.isnan(cur) & ~np.isnan(prv)
        per[f"{g}_n"] = both.any(axis=1)
        per[f"{g}_same"] = both.any(axis=1) & (~both | (cur == prv)).all(axis=1)
    agg = per.groupby(["family", "day", "prev_day"], sort=True).sum().reset_index()
    status = {}
    for g in groups:
        n, same = agg[f"{g}_n"].to_numpy(), agg[f"{g}_same"].to_numpy()
        is_stale = (n >= STALE_MIN_MODELS[g]) & (same >= STALE_SHARE * n)
        status[g] = np.where(is_stale, "stale", np.where(same < n, "changed", "unknown"))
    out = []
    for k, r in enumerate(agg.itertuples(index=False)):
        stale = [g for g in groups if status[g][k] == "stale"]
        if not stale:
            continue
        changed = any(status[g][k] == "changed" for g in groups)
        issue = f"stale_{stale[0]}" if changed and len(stale) == 1 else "stale"
        detail = (
            "; ".join(f"{g} unchanged for {getattr(r, f'{g}_same')} of {getattr(r, f'{g}_n')} models" for g in stale)
            + f" since {iso(r.prev_day)}"
        )
        out.append((r.day, r.family, issue, detail))
    if not out:
        return empty(COLUMNS)
    rows = _rows([d for d, _, _, _ in out], [f for _, f, _, _ in out], None, "", [t for _, _, _, t in out])
    return rows.assign(issue=pd.Series([i for _, _, i, _ in out], dtype="str"))


def all_time_fell(s: pd.DataFrame) -> pd.DataFrame:
    """``all_time_fell``: a model's downloads_all_time is lower than its previous non-NA value in the
    family (a Hub data error; clipped to 0 in `downloads_day`)."""
    if "downloads_all_time" not in s.columns:
        return empty(COLUMNS)
    a = s[["family", "model_id", "day"]].assign(at=floats(s["downloads_all_time"]))
    a = a[~np.isnan(a["at"].to_numpy())].sort_values(["family", "model_id", "day"])
    g = a.groupby(["family", "model_id"], sort=False)
    a["prev_at"] = g["at"].shift(1)
    a["prev_day"] = g["day"].shift(1)
    fell = a[a["at"] < a["prev_at"]]
    return _rows(
        fell["day"],
        fell["family"],
        fell["model_id"],
        "all_time_fell",
        [
            f"downloads_all_time {p:.0f} -> {c:.0f} ({c - p:+.0f}) since {iso(d)}"
            for p, c, d in zip(fell["prev_at"], fell["at"], fell["prev_day"], strict=True)
        ],
    )


def missing_days(fd: pd.DataFrame) -> pd.DataFrame:
    """``missing_day``: a calendar day without a snapshot between two snapshot days of a family (one
    row per missing day). Input: family_days (family, day, prev_day)."""
    gaps = fd[fd["prev_day"].notna()]
    n = (pd.to_timedelta(gaps["day"] - gaps["prev_day"]) / pd.Timedelta(days=1)).astype("int64").to_numpy() - 1
    if n.sum() <= 0:
        return empty(COLUMNS)
    rep = np.repeat(np.arange(len(gaps)), n)
    k = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n) + 1
    pdays, ndays = gaps["prev_day"].to_numpy()[rep], gaps["day"].to_numpy()[rep]
    return _rows(
        pdays + k * DAY,
        gaps["family"].to_numpy()[rep],
        None,
        "missing_day",
        [f"no snapshot between {iso(p)} and {iso(q)}" for p, q in zip(pdays, ndays, strict=True)],
    )


def membership(tr: Transitions) -> pd.DataFrame:
    """``new_model`` (absent from the previous snapshot, created after it: a release), ``entered``
    (absent before but created earlier: it crossed a listing threshold, was renamed, or the family's
    rules changed; adds no downloads) and ``left`` (present before, absent now)."""
    later, left = tr.later, tr.left
    new, entered = (later[later["status"] == status] for status in ("new", "entered"))

    def arrived(e: pd.DataFrame, why: str) -> list[str]:
        return [
            f"created {stamp(c)}, {why} the snapshot of {iso(p)} (absent from it)"
            for c, p in zip(e["created_at"], e["prev_day"], strict=True)
        ]

    parts = [new, entered, left]  # one frame of all three (a frame each costs more than the rows)
    return _rows(
        np.concatenate([p["day"].to_numpy() for p in parts]),
        np.concatenate([p["family"].to_numpy() for p in parts]),
        np.concatenate([p["model_id"].to_numpy() for p in parts]),
        ["new_model"] * len(new) + ["entered"] * len(entered) + ["left"] * len(left),
        arrived(new, "released after")
        + arrived(entered, "older than")
        + [f"present on {iso(p)}, absent now" for p in left["prev_day"]],
    )


def _sorted(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty(COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["day", "family", "issue", "model_id"], kind="stable").reset_index(drop=True)


def quality_flags(snaps: pd.DataFrame) -> pd.DataFrame:
    """Every data-quality note of model snapshots.

    Input: day, family, model_id and optionally created_at, taken_at, downloads_all_time,
    downloads_30d, likes (one row per model per snapshot day).
    Output (sorted by day, family, issue, model_id): day, family, model_id (NA for family-level
    issues), issue, detail. Issues: see `stale_days`, `all_time_fell`, `missing_days`, `membership`.
    """
    s = prepare_snaps(snaps)
    return _flags(s, transitions(s, SNAPSHOT_METRICS))


def _flags(s: pd.DataFrame, tr: Transitions) -> pd.DataFrame:
    return _sorted([stale_days(tr), all_time_fell(s), missing_days(tr.family_days), membership(tr)])


def interval_stats(snaps: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`downloads_day(snaps)` and `quality_flags(snaps)` at once (the snapshots are classified once)."""
    s = prepare_snaps(snaps)
    tr = transitions(s, SNAPSHOT_METRICS)
    return downloads_from(tr), _flags(s, tr)


def family_quality(family_daily: pd.DataFrame) -> pd.DataFrame:
    """Family-level notes derived from the daily family series: ``missing_day`` only (staleness needs
    the models' own values and is found when a snapshot is stored). Output as `quality_flags`."""
    fd = family_daily[["family", "day"]].copy()
    fd["day"] = days(fd["day"])
    fd = fd.drop_duplicates().sort_values(["family", "day"], kind="stable")
    fd["prev_day"] = fd.groupby("family", sort=False)["day"].shift(1)
    return _sorted([missing_days(fd)])
