"""Snapshot intervals: which models two consecutive snapshots share, and the exact downloads per day.

A family's snapshot days are compared pairwise (each day with the family's previous snapshot day).
Every model row of the later day is "common" (in both), "new" (absent before and created after the
earlier snapshot's time) or "entered" (absent before but older: it crossed a listing threshold, was
renamed or the family's rules changed); a model of the earlier day absent on the later one "left".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from pandas.api.typing import DataFrameGroupBy

from tracker.trends.common import DAY, days, empty, floats, utc


class Transitions(NamedTuple):
    later: pd.DataFrame  # family, day, prev_day, prev_time, model_id, created_at, status, <m>, prev_<m>
    left: pd.DataFrame  # family, day (the later day), prev_day, model_id
    family_days: pd.DataFrame  # family, day, time, prev_day, prev_time, next_day


def prepare_snaps(snaps: pd.DataFrame) -> pd.DataFrame:
    """Check and normalise model snapshot rows (day, family, model_id; created_at, taken_at optional)."""
    missing = [c for c in ("day", "family", "model_id") if c not in snaps.columns]
    if missing:
        raise ValueError(f"snapshot frame lacks column(s) {missing}; has {list(snaps.columns)}")
    s = snaps.copy()
    s["day"] = days(s["day"])
    if "created_at" in s.columns:
        s["created_at"] = utc(s["created_at"])
    else:
        s["created_at"] = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
    midnight = s["day"].dt.tz_localize("UTC")
    s["taken_at"] = utc(s["taken_at"]).fillna(midnight) if "taken_at" in s.columns else midnight
    return s.drop_duplicates(["family", "day", "model_id"], keep="last").reset_index(drop=True)


def family_days(s: pd.DataFrame, groups: DataFrameGroupBy | None = None) -> pd.DataFrame:
    """One row per family snapshot day: family, day, time, prev_day, prev_time, next_day.

    A snapshot's time is the earliest taken_at of its rows (midnight of the day if absent): a model
    created during a collection counts as new, so its few downloads before the snapshot are not lost.
    `groups`: `s.groupby(["family", "day"], sort=True)` if already made.
    """
    groups = s.groupby(["family", "day"], sort=True) if groups is None else groups
    fd = groups["taken_at"].min().rename("time").reset_index()
    g = fd.groupby("family", sort=False)
    fd["prev_day"] = g["day"].shift(1)
    fd["prev_time"] = g["time"].shift(1)
    fd["next_day"] = g["day"].shift(-1)
    return fd


def transitions(s: pd.DataFrame, values: Sequence[str] = ("downloads_all_time",)) -> Transitions:
    """Classify each model row of `prepare_snaps` output against the family's previous snapshot day.

    ``later`` carries, for each name in `values` present in `s`, the value now (float) and on the
    previous day (``prev_<name>``, NaN when the model was absent or had no value).
    """
    by_day = s.groupby(["family", "day"], sort=True)  # grouped once: the family-days and each row's own
    fd = family_days(s, by_day)
    values = [v for v in values if v in s.columns]
    base = s[["family", "day", "model_id", "created_at"]].assign(**{v: floats(s[v]) for v in values})
    # each row's family-day: its row in fd (sorted by family and day, as the groups are numbered), so a
    # family's previous snapshot day is the row before; a (family-day, model) pair is unique (prepare_snaps)
    grp = by_day.ngroup()  # NaN where family or day is missing
    known = grp.notna().to_numpy()
    fday = grp.fillna(-1).to_numpy(dtype="int64")
    model = pd.factorize(s["model_id"], use_na_sentinel=False)[0]
    step = int(model.max(initial=0)) + 1  # key + step: the same model on the family's next snapshot day
    key = np.where(known, fday * step + model, -1 - np.arange(len(s)))
    at = pd.Index(key)
    # (a row without a family-day, fday -1, reads the False appended at the end)
    has_prev = np.append(fd["prev_day"].notna().to_numpy(), False)[fday]
    has_next = np.append(fd["next_day"].notna().to_numpy(), False)[fday]

    sel = np.flatnonzero(has_prev)
    src = at.get_indexer(pd.Index(key[sel] - step))  # the model's row on the previous day, or -1
    later = base.iloc[sel].reset_index(drop=True)
    later["prev_day"] = fd["prev_day"].iloc[fday[sel]].reset_index(drop=True)
    later["prev_time"] = fd["prev_time"].iloc[fday[sel]].reset_index(drop=True)
    for v in values:
        later[f"prev_{v}"] = np.where(src >= 0, base[v].to_numpy()[np.maximum(src, 0)], np.nan)
    created_after = (later["created_at"] > later["prev_time"]).fillna(False).to_numpy(dtype=bool)
    later["status"] = np.where(src >= 0, "common", np.where(created_after, "new", "entered"))

    sel = np.flatnonzero(has_next)
    sel = sel[at.get_indexer(pd.Index(key[sel] + step)) < 0]  # absent from the next day
    left = pd.DataFrame(
        {
            "family": base["family"].iloc[sel].reset_index(drop=True),
            "day": fd["next_day"].iloc[fday[sel]].reset_index(drop=True),
            "prev_day": base["day"].iloc[sel].reset_index(drop=True),
            "model_id": base["model_id"].iloc[sel].reset_index(drop=True),
        }
    )
    return Transitions(later, left, fd)


DOWNLOADS_DAY_COLUMNS = [
    "day",
    "family",
    "downloads_day",
    "interval_start",
    "interval_days",
    "interval_downloads",
    "na_models",
]


def downloads_day(snaps: pd.DataFrame) -> pd.DataFrame:
    """Exact downloads per family per day from all-time counts.

    Input columns (one row per model per snapshot day):
        day, family, model_id, created_at (tz-aware UTC or naive = UTC; may be NA),
        downloads_all_time (Int64, may be NA), taken_at (optional, tz-aware).

    For each pair of consecutive snapshot days (d0, d1) of a family the interval's downloads are
        sum over models present on both days of max(all_time[d1] - all_time[d0], 0)
      + sum over models absent on d0 and created after d0's snapshot time of all_time[d1].
    A model absent on d0 but created before it merely entered the tracked set and adds nothing. A
    contributing model with NA in either snapshot adds nothing and is counted in ``na_models``.
    Falling all-time counts are clipped at 0 here and reported by `quality_flags`. An interval with
    no contributing value is NA. The total is spread evenly over the days d0+1 .. d1.

    Output columns (one row per family per day, from the day after the family's first snapshot;
    sorted by family, day): day, family, downloads_day (float, NaN = unknown), interval_start (d0),
    interval_days (d1 - d0), interval_downloads (float), na_models (int).
    """
    s = prepare_snaps(snaps)
    return downloads_from(transitions(s))


def downloads_from(tr: Transitions) -> pd.DataFrame:
    """`downloads_day` of already classified snapshots."""
    later = tr.later.copy()
    if later.empty or "downloads_all_time" not in later.columns:
        return empty(
            DOWNLOADS_DAY_COLUMNS,
            {
                "downloads_day": "float64",
                "interval_start": "datetime64[us]",
                "interval_days": "int64",
                "interval_downloads": "float64",
                "na_models": "int64",
            },
        )
    status = later["status"].to_numpy()
    at, prev_at = later["downloads_all_time"].to_numpy(), later["prev_downloads_all_time"].to_numpy()
    common, new = status == "common", status == "new"
    with np.errstate(invalid="ignore"):
        val = np.where(common, np.maximum(at - prev_at, 0.0), np.where(new, at, np.nan))
    later["val"] = val
    later["na"] = (common | new) & np.isnan(val)
    g = later.groupby(["family", "day", "prev_day"], sort=True)
    iv = pd.concat(
        [g["val"].sum(min_count=1).rename("interval_downloads"), g["na"].sum().rename("na_models")], axis=1
    ).reset_index()
    n = (pd.to_timedelta(iv["day"] - iv["prev_day"]) / pd.Timedelta(days=1)).astype("int64").to_numpy()
    rep = np.repeat(np.arange(len(iv)), n)
    k = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n) + 1  # offset 1..n within each interval
    start = iv["prev_day"].to_numpy()[rep]
    out = pd.DataFrame(
        {
            "day": (start + k * DAY).astype("datetime64[us]"),
            "family": iv["family"].to_numpy()[rep],
            "downloads_day": iv["interval_downloads"].to_numpy(dtype="float64")[rep] / n[rep],
            "interval_start": start.astype("datetime64[us]"),
            "interval_days": n[rep].astype("int64"),
            "interval_downloads": iv["interval_downloads"].to_numpy(dtype="float64")[rep],
            "na_models": iv["na_models"].to_numpy(dtype="int64")[rep],
        }
    )
    out["family"] = out["family"].astype("str")
    return out[DOWNLOADS_DAY_COLUMNS]


def trailing_week(family_daily: pd.DataFrame) -> pd.DataFrame:
    """Downloads over the 7 days ending on each snapshot day, from the spread daily downloads.

    Input: day, family, downloads_day (per day, spread evenly over the interval ending that day) and
    interval_days (the interval's length; 1 when absent). Each calendar day of an interval carries
    the interval's daily value, so a gap of several days is filled with its own average, never 0.
    Output: the input with a column downloads_week (float; NA unless all 7 days are covered).
    """
    fd = family_daily.copy()
    fd["day"] = days(fd["day"])
    if "interval_days" not in fd.columns:
        fd["interval_days"] = 1
    parts = []
    for _fam, g in fd.sort_values("day").groupby("family", sort=False):
        v = floats(g["downloads_day"])
        n = pd.to_numeric(g["interval_days"], errors="coerce").fillna(1).astype("int64").to_numpy()
        n = np.where(np.isnan(v), 1, np.maximum(n, 1))
        ends = g["day"].to_numpy()
        cal_days = np.concatenate([e - np.arange(k)[::-1] * DAY for e, k in zip(ends, n, strict=True)])
        cal = pd.Series(np.repeat(v, n), index=pd.DatetimeIndex(cal_days)).groupby(level=0).last()
        full = cal.reindex(pd.date_range(cal.index.min(), cal.index.max(), freq="D"))
        week = full.rolling(7, min_periods=7).sum()  # NaN anywhere in the 7 days -> NaN
        parts.append(pd.Series(week.reindex(g["day"]).to_numpy(), index=g.index))
    fd["downloads_week"] = pd.concat(parts) if parts else pd.Series(dtype="float64")
    return fd
