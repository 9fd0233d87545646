"""Trend math for Hub Tracker: pure pandas, DataFrame in -> DataFrame out.

No I/O, no DuckDB, no HTTP, no global state. Every function lists its input and
output columns in its docstring.

Conventions
-----------
- ``day`` columns are tz-naive ``datetime64[us]`` at midnight; ``datetime.date``
  objects, strings and tz-aware timestamps are accepted and normalised.
- A value the Hub did not give is NA, never 0. Sums use ``min_count=1``: a sum
  over only NA values is NA.
- Metrics known to the module, in output order: ``models``, ``downloads_30d``,
  ``downloads_all_time``, ``likes``, ``derivatives`` (plus ``downloads_day`` /
  ``downloads_week``, the exact downloads derived from all-time counts).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "METRICS",
    "PROJECTION_MIN_POINTS",
    "PROJECTION_MIN_R2",
    "PROJECTION_MIN_T",
    "crossovers",
    "downloads_day",
    "human",
    "model_crossovers",
    "pct",
    "projections",
    "quality_flags",
    "shares",
    "week_label",
    "week_start",
    "weekly",
]

#: Snapshot metrics in the order the weekly table shows them.
METRICS: tuple[str, ...] = ("models", "downloads_30d", "downloads_all_time", "likes", "derivatives")

# The projection rule (see `projections`). Thresholds are public so the report can quote them.
PROJECTION_MIN_POINTS = 14  # and at least half the window
PROJECTION_MIN_T = 5.0  # t-statistic of the slope of the difference series
PROJECTION_MIN_R2 = 0.6  # R^2 of the linear fit of the difference series

_DAY = np.timedelta64(1, "D")


# --------------------------------------------------------------------------- helpers


def _days(s: Any) -> pd.Series:
    """Normalise dates/timestamps/strings to tz-naive datetime64[us] at midnight."""
    s = pd.Series(s) if not isinstance(s, pd.Series) else s
    out = pd.to_datetime(s, format="ISO8601" if pd.api.types.is_string_dtype(s) else None)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)  # keep the wall-clock date the caller wrote
    return out.dt.normalize().astype("datetime64[us]")


def _day(x: Any) -> pd.Timestamp:
    ts = pd.Timestamp(x)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def _utc(s: pd.Series) -> pd.Series:
    """Timestamps to tz-aware UTC; naive values are taken to be UTC already."""
    fmt = "ISO8601" if pd.api.types.is_string_dtype(s) else None
    return pd.to_datetime(s, utc=True, format=fmt).astype("datetime64[us, UTC]")


def _float(s: pd.Series) -> np.ndarray:
    """Any numeric (incl. nullable Int64 with NA) to float64 with NaN for missing."""
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _nullable(s: pd.Series) -> pd.Series:
    """Numeric column to a nullable dtype (Int64 if integral dtype, else Float64)."""
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.astype("Int64")
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("Int64")
    return pd.to_numeric(s, errors="coerce").astype("Float64")


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den as Float64; NA where either is NA or den is 0."""
    n = _float(num)
    d = _float(den)
    ok = ~np.isnan(n) & ~np.isnan(d) & (d != 0)
    out = np.full(len(n), np.nan)
    np.divide(n, d, out=out, where=ok)
    return pd.Series(out, index=num.index).astype("Float64")


def _metric_list(metric: str | Iterable[str]) -> list[str]:
    return [metric] if isinstance(metric, str) else list(metric)


def week_label(day: Any) -> str:
    """ISO week label of a date: ``week_label("2026-08-17") == "2026-W34"``."""
    y, w, _ = _day(day).isocalendar()
    return f"{y}-W{w:02d}"


def week_start(week: str) -> pd.Timestamp:
    """Monday of an ISO week label: ``week_start("2026-W34") == Timestamp("2026-08-17")``."""
    year, w = week.split("-W")
    return pd.Timestamp(pd.Timestamp.fromisocalendar(int(year), int(w), 1)).normalize()


def human(n: Any) -> str:
    """Format a count for people: 283_000_000 -> "283.0M", 12_345 -> "12.3k", 950 -> "950".

    NA/NaN -> "n/a". Negative numbers keep their sign ("-12.3k").
    """
    if n is None or n is pd.NA or (isinstance(n, float) and math.isnan(n)):
        return "n/a"
    x = float(n)
    if math.isinf(x):
        return "n/a"
    sign = "-" if x < 0 else ""
    a = abs(x)
    units = ((1e9, "B"), (1e6, "M"), (1e3, "k"), (1.0, ""))
    for k, (div, suffix) in enumerate(units):
        if a >= div or div == 1.0:
            digits = 1 if suffix else 0
            # 999_960 would read "1000.0k": move up a unit when rounding reaches 1000
            if k > 0 and round(a / div, digits) >= 1000:
                div, suffix = units[k - 1]
                digits = 1
            return f"{sign}{a / div:.{digits}f}{suffix}"
    return f"{sign}{a:.0f}"  # pragma: no cover - the loop always returns


def pct(x: Any) -> str:
    """Format a fraction as a signed percentage: 0.1237 -> "+12.4%", -0.03 -> "-3.0%".

    A change that rounds to zero is "0.0%"; NA/NaN/inf -> "n/a".
    """
    if x is None or x is pd.NA:
        return "n/a"
    v = float(x)
    if math.isnan(v) or math.isinf(v):
        return "n/a"
    r = round(v * 100, 1)
    if r == 0:
        return "0.0%"
    return f"{r:+.1f}%"


# --------------------------------------------------------------------------- snapshots


def _prepare_snaps(snaps: pd.DataFrame) -> pd.DataFrame:
    cols = ["day", "family", "model_id"]
    missing = [c for c in cols if c not in snaps.columns]
    if missing:
        raise ValueError(f"snapshot frame lacks column(s) {missing}; has {list(snaps.columns)}")
    s = snaps.copy()
    s["day"] = _days(s["day"])
    if "created_at" in s.columns:
        s["created_at"] = _utc(s["created_at"])
    else:
        s["created_at"] = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
    if "taken_at" in s.columns:
        taken = _utc(s["taken_at"])
        s["taken_at"] = taken.fillna(s["day"].dt.tz_localize("UTC"))
    else:
        s["taken_at"] = s["day"].dt.tz_localize("UTC")
    s = s.drop_duplicates(["family", "day", "model_id"], keep="last")
    return s.reset_index(drop=True)


def _family_days(s: pd.DataFrame) -> pd.DataFrame:
    """One row per family snapshot day: family, day, time, prev_day, prev_time, next_day.

    A snapshot's time is the earliest taken_at of its rows (midnight of the day if
    absent): a model created during a collection counts as new, so its few
    downloads before the snapshot are not lost.
    """
    fd = s.groupby(["family", "day"], sort=True)["taken_at"].min().rename("time").reset_index()
    g = fd.groupby("family", sort=False)
    fd["prev_day"] = g["day"].shift(1)
    fd["prev_time"] = g["time"].shift(1)
    fd["next_day"] = g["day"].shift(-1)
    return fd


def _transitions(s: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Classify each model row against the family's previous snapshot day.

    Returns (later, left, family_days). ``later`` has one row per model per
    non-first snapshot day with columns family, day, prev_day, prev_time,
    model_id, created_at, at (all-time, float), prev_at (float) and status:
    "common" (in both snapshots), "new" (absent before and created after the
    earlier snapshot's time) or "entered" (absent before, created earlier or
    unknown). ``left`` has family, day (the later day), prev_day, model_id for
    models present on prev_day but absent on day.
    """
    fd = _family_days(s)
    at = _float(s["downloads_all_time"]) if "downloads_all_time" in s.columns else np.nan
    base = s[["family", "day", "model_id", "created_at"]].assign(at=at)

    later = base.merge(
        fd.loc[fd["prev_day"].notna(), ["family", "day", "prev_day", "prev_time"]],
        on=["family", "day"],
        how="inner",
    )
    earlier = base[["family", "day", "model_id", "at"]].rename(
        columns={"day": "prev_day", "at": "prev_at"}
    )
    earlier["in_prev"] = True
    later = later.merge(earlier, on=["family", "prev_day", "model_id"], how="left")
    in_prev = later["in_prev"].fillna(False).astype(bool).to_numpy()
    created_after = (later["created_at"] > later["prev_time"]).fillna(False).to_numpy(dtype=bool)
    later["status"] = np.where(in_prev, "common", np.where(created_after, "new", "entered"))
    later = later.drop(columns="in_prev")

    nxt = fd.loc[fd["next_day"].notna(), ["family", "day", "next_day"]]
    left = base[["family", "day", "model_id"]].merge(nxt, on=["family", "day"], how="inner")
    present = base[["family", "day", "model_id"]].rename(columns={"day": "next_day"})
    present["still"] = True
    left = left.merge(present, on=["family", "next_day", "model_id"], how="left")
    left = left.loc[left["still"].isna(), ["family", "next_day", "day", "model_id"]]
    left = left.rename(columns={"day": "prev_day", "next_day": "day"}).reset_index(drop=True)
    return later, left, fd


def downloads_day(snaps: pd.DataFrame) -> pd.DataFrame:
    """Exact downloads per family per day from all-time counts.

    Input columns (one row per model per snapshot day):
        day, family, model_id, created_at (tz-aware UTC or naive = UTC; may be NA),
        downloads_all_time (Int64, may be NA), taken_at (optional, tz-aware).

    For each pair of consecutive snapshot days (d0, d1) of a family the interval's
    downloads are
        sum over models present on both days of max(all_time[d1] - all_time[d0], 0)
      + sum over models absent on d0 and created after d0's snapshot time of all_time[d1].
    A model absent on d0 but created before it merely entered the tracked set
    (config change, rename) and adds nothing. A contributing model with NA in
    either snapshot adds nothing and is counted in ``na_models``. Falling all-time
    counts are clipped at 0 here and reported by `quality_flags`. An interval with
    no contributing value is NA. The total is spread evenly over the days
    d0+1 .. d1.

    Cost is linear in rows (about 1 s per 300k rows); at collect time pass only the
    previous and the new snapshot day to get the new interval's rows.

    Output columns (one row per family per day, from the day after the family's
    first snapshot; sorted by family, day):
        day, family, downloads_day (float, NaN = unknown), interval_start (d0),
        interval_days (d1 - d0), interval_downloads (float), na_models (int).
    """
    s = _prepare_snaps(snaps)
    return _downloads_day(s, _transitions(s))


def _downloads_day(s: pd.DataFrame, transitions: tuple) -> pd.DataFrame:
    out_cols = [
        "day", "family", "downloads_day", "interval_start", "interval_days",
        "interval_downloads", "na_models",
    ]  # fmt: skip
    later, _, _ = transitions
    later = later.copy()
    if later.empty:
        return pd.DataFrame(
            {
                "day": pd.Series(dtype="datetime64[us]"),
                "family": pd.Series(dtype="str"),
                "downloads_day": pd.Series(dtype="float64"),
                "interval_start": pd.Series(dtype="datetime64[us]"),
                "interval_days": pd.Series(dtype="int64"),
                "interval_downloads": pd.Series(dtype="float64"),
                "na_models": pd.Series(dtype="int64"),
            }
        )[out_cols]

    status = later["status"].to_numpy()
    at = later["at"].to_numpy()
    prev_at = later["prev_at"].to_numpy()
    common = status == "common"
    new = status == "new"
    with np.errstate(invalid="ignore"):
        val = np.where(common, np.maximum(at - prev_at, 0.0), np.where(new, at, np.nan))
    later["val"] = val
    later["na"] = (common | new) & np.isnan(val)

    g = later.groupby(["family", "day", "prev_day"], sort=True)
    iv = pd.concat(
        [g["val"].sum(min_count=1).rename("interval_downloads"), g["na"].sum().rename("na_models")],
        axis=1,
    ).reset_index()
    n = ((iv["day"] - iv["prev_day"]) / pd.Timedelta(days=1)).astype("int64").to_numpy()
    rep = np.repeat(np.arange(len(iv)), n)
    # offset k = 1..n within each interval
    k = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n) + 1
    start = iv["prev_day"].to_numpy()[rep]
    out = pd.DataFrame(
        {
            "day": (start + k * _DAY).astype("datetime64[us]"),
            "family": iv["family"].to_numpy()[rep],
            "downloads_day": iv["interval_downloads"].to_numpy(dtype="float64")[rep] / n[rep],
            "interval_start": start.astype("datetime64[us]"),
            "interval_days": n[rep].astype("int64"),
            "interval_downloads": iv["interval_downloads"].to_numpy(dtype="float64")[rep],
            "na_models": iv["na_models"].to_numpy(dtype="int64")[rep],
        }
    )
    out["family"] = out["family"].astype("str")
    return out[out_cols]


# --------------------------------------------------------------------------- weekly / shares


def weekly(family_daily: pd.DataFrame) -> pd.DataFrame:
    """Per ISO week per family: metrics at week end, week-over-week change and share.

    Input columns: day, family, label (optional), region (optional) and any subset
    of models, downloads_30d, downloads_all_time, likes, derivatives, downloads_day.

    Output columns (sorted by week_start, family):
        week ("2026-W34"), week_start (Monday, datetime64), family, label, region,
        then for each metric m present among models, downloads_30d,
        downloads_all_time, likes, derivatives, downloads_week (in that order):
            m          value at week end: the last day of the week with a value
                       (downloads_week: sum of downloads_day over the week, NA if none)
            m_wow      m - m of the previous ISO week (NA if that week is absent/NA)
            m_wow_pct  m_wow / previous (Float64; NA when previous is 0 or NA)
            m_share    m / sum of m over families with a value that week
                       (Float64; NA when the total is 0 or NA)
        and, with downloads_day, downloads_week_days (days of the week with a value;
        fewer than 7 means a partial week).
    """
    df = family_daily.copy()
    df["day"] = _days(df["day"])
    metrics = [m for m in METRICS if m in df.columns]
    has_dd = "downloads_day" in df.columns
    iso = df["day"].dt.isocalendar()
    df["week"] = (
        iso["year"].astype(int).astype(str) + "-W" + iso["week"].astype(int).map("{:02d}".format)
    )
    df["week_start"] = (df["day"] - pd.to_timedelta(df["day"].dt.day_of_week, unit="D")).astype(
        "datetime64[us]"
    )
    for c in ("label", "region"):
        if c not in df.columns:
            df[c] = pd.Series(pd.NA, index=df.index, dtype="str")
    for m in metrics:
        df[m] = _nullable(df[m])

    df = df.sort_values(["family", "day"], kind="stable")
    keys = ["week", "week_start", "family"]
    g = df.groupby(keys, sort=True)
    wk = g[["label", "region", *metrics]].last()  # last non-NA value in the week
    if has_dd:
        dd = pd.to_numeric(df["downloads_day"], errors="coerce").astype("Float64")
        gd = dd.groupby([df[k] for k in keys], sort=True)
        wk["downloads_week"] = gd.sum(min_count=1)
        wk["downloads_week_days"] = gd.count().astype("int64")
        metrics = [*metrics, "downloads_week"]
    wk = wk.reset_index()

    prev = wk[["family", "week_start", *metrics]].copy()
    prev["week_start"] = prev["week_start"] + pd.Timedelta(days=7)
    prev = prev.rename(columns={m: f"{m}__prev" for m in metrics})
    wk = wk.merge(prev, on=["family", "week_start"], how="left")

    cols = ["week", "week_start", "family", "label", "region"]
    for m in metrics:
        wk[f"{m}_wow"] = wk[m] - wk[f"{m}__prev"]
        wk[f"{m}_wow_pct"] = _ratio(wk[f"{m}_wow"], wk[f"{m}__prev"])
        total = wk.groupby("week_start")[m].transform("sum")  # all-NA -> 0 -> share NA
        wk[f"{m}_share"] = _ratio(wk[m], total)
        cols += [m, f"{m}_wow", f"{m}_wow_pct", f"{m}_share"]
    if has_dd:
        cols.append("downloads_week_days")
    wk = wk.sort_values(["week_start", "family"], kind="stable").reset_index(drop=True)
    return wk[cols]


def shares(df: pd.DataFrame, metric: str, by: str = "family") -> pd.DataFrame:
    """Share of each group in the tracked total, per period.

    Input columns: day (or week, when there is no day column), <by>, <metric>.
    With by="region" (or any column other than the entity) rows are summed per
    group first (NA only if every summed value is NA).

    Output columns (sorted by period, <by>): day|week, <by>, value, share.
    ``share`` = value / sum of values of the period (Float64); NA for a group
    without a value and for every group when the total is 0 or NA. Shares of
    the groups with values sum to 1 per period.
    """
    if "day" in df.columns:
        period = "day"
        per = _days(df["day"])
    elif "week" in df.columns:
        period = "week"
        per = df["week"]
    else:
        raise ValueError(f"shares() needs a 'day' or 'week' column; has {list(df.columns)}")
    vals = pd.to_numeric(df[metric], errors="coerce").astype("Float64")
    grp = df[by].rename(by)
    agg = vals.groupby([per.rename(period), grp], sort=True).sum(min_count=1).rename("value")
    out = agg.reset_index()
    total = out.groupby(period)["value"].transform("sum")  # all-NA -> 0 -> share NA
    out["share"] = _ratio(out["value"], total)
    return out[[period, by, "value", "share"]]


# --------------------------------------------------------------------------- crossovers


def _wide(
    df: pd.DataFrame, metric: str, entity: str
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """day x entity float matrix (NaN = no value); only days present in df."""
    vals = pd.to_numeric(df[metric], errors="coerce").astype("Float64")
    s = vals.groupby([_days(df["day"]).rename("day"), df[entity].rename("entity")]).last()
    w = s.unstack("entity").sort_index().sort_index(axis=1)
    x = w.to_numpy(dtype="float64", na_value=np.nan)
    return pd.DatetimeIndex(w.index), np.asarray(w.columns), x


def _crossings(x: np.ndarray, block_cells: int = 4_000_000) -> tuple[np.ndarray, ...]:
    """(t, i, j, p) where x[t,i] > x[t,j] and x[p,i] <= x[p,j], p = previous day both valid."""
    d, n = x.shape
    valid = ~np.isnan(x)
    ar = np.arange(d)[:, None, None]
    res: list[tuple[np.ndarray, ...]] = []
    bs = max(1, block_cells // max(1, d * n))
    for i0 in range(0, n, bs):
        i1 = min(n, i0 + bs)
        xa = np.broadcast_to(x[:, i0:i1, None], (d, i1 - i0, n))
        xb = np.broadcast_to(x[:, None, :], (d, i1 - i0, n))
        both = valid[:, i0:i1, None] & valid[:, None, :]
        last = np.maximum.accumulate(np.where(both, ar, -1), axis=0)
        prev = np.full_like(last, -1)
        prev[1:] = last[:-1]
        pc = np.maximum(prev, 0)
        with np.errstate(invalid="ignore"):
            hit = (
                both
                & (prev >= 0)
                & (xa > xb)
                & (np.take_along_axis(xa, pc, axis=0) <= np.take_along_axis(xb, pc, axis=0))
            )
        t, i, j = np.nonzero(hit)
        res.append((t, i + i0, j, prev[t, i, j]))
    return tuple(np.concatenate(parts) for parts in zip(*res, strict=True))


def _crossover_frame(entity: str, rows: list[pd.DataFrame]) -> pd.DataFrame:
    cols = [
        "day", "metric", entity, "overtaken", f"{entity}_value", "overtaken_value",
        "previous_day", f"{entity}_previous_value", "overtaken_previous_value",
    ]  # fmt: skip
    if not rows:
        empty = {c: pd.Series(dtype="float64") for c in cols}
        empty.update(
            day=pd.Series(dtype="datetime64[us]"),
            previous_day=pd.Series(dtype="datetime64[us]"),
            metric=pd.Series(dtype="str"),
            overtaken=pd.Series(dtype="str"),
        )
        empty[entity] = pd.Series(dtype="str")
        return pd.DataFrame(empty)[cols]
    out = pd.concat(rows, ignore_index=True)[cols]
    return out.sort_values(["day", "metric", entity, "overtaken"], kind="stable").reset_index(
        drop=True
    )


def crossovers(
    df: pd.DataFrame, metric: str | Iterable[str], entity: str = "family"
) -> pd.DataFrame:
    """Days on which one entity moves ahead of another.

    Input columns: day, <entity>, <metric> (``metric`` may also be a list of
    metric columns; each is handled separately).

    For every ordered pair (A, B) a row is emitted for each day t on which
    A > B while A <= B on the previous day for which *both* have values; days on
    which either is NA are skipped, never filled. Ties count as "not ahead".

    Output columns (sorted by day, metric, <entity>, overtaken):
        day, metric, <entity> (A, the one that moved ahead), overtaken (B),
        <entity>_value, overtaken_value, previous_day,
        <entity>_previous_value, overtaken_previous_value   (values float64)
    """
    rows = []
    for m in _metric_list(metric):
        days, names, x = _wide(df, m, entity)
        if x.size == 0:
            continue
        t, i, j, p = _crossings(x)
        if len(t) == 0:
            continue
        rows.append(
            pd.DataFrame(
                {
                    "day": days[t].astype("datetime64[us]"),
                    "metric": pd.Series([m] * len(t), dtype="str"),
                    entity: pd.Series(names[i], dtype="str"),
                    "overtaken": pd.Series(names[j], dtype="str"),
                    f"{entity}_value": x[t, i],
                    "overtaken_value": x[t, j],
                    "previous_day": days[p].astype("datetime64[us]"),
                    f"{entity}_previous_value": x[p, i],
                    "overtaken_previous_value": x[p, j],
                }
            )
        )
    return _crossover_frame(entity, rows)


def model_crossovers(model_daily: pd.DataFrame, metric: str, top: int = 25) -> pd.DataFrame:
    """Crossovers among the ``top`` leading models of a metric.

    Input columns: day, model_id, <metric> (other columns ignored).
    Leaders are ranked by their value on the latest day on which any model has a
    value of the metric (ties broken by model_id); then `crossovers` with
    entity="model_id" over the whole period for those models.

    Output columns: day, metric, model_id, overtaken, model_id_value,
    overtaken_value, previous_day, model_id_previous_value, overtaken_previous_value.
    """
    df = model_daily[["day", "model_id", metric]].copy()
    df["day"] = _days(df["day"])
    df[metric] = pd.to_numeric(df[metric], errors="coerce").astype("Float64")
    valued = df[df[metric].notna()]
    if valued.empty:
        return crossovers(df.iloc[0:0], metric, entity="model_id")
    latest = valued[valued["day"] == valued["day"].max()]
    leaders = (
        latest.groupby("model_id")[metric]
        .max()
        .reset_index()
        .sort_values([metric, "model_id"], ascending=[False, True], kind="stable")
        .head(top)["model_id"]
    )
    return crossovers(df[df["model_id"].isin(set(leaders))], metric, entity="model_id")


# --------------------------------------------------------------------------- projections


def projections(
    df: pd.DataFrame,
    metric: str,
    as_of: Any,
    window_days: int = 28,
    horizon_days: int = 180,
    entity: str = "family",
) -> pd.DataFrame:
    """Projected crossovers from the recent linear trend.

    Input columns: day, <entity>, <metric>.

    Window: the ``window_days`` days ending on ``as_of`` (as_of - window_days + 1
    .. as_of). For each ordered pair (F, L) the difference series
    D(t) = F(t) - L(t) is taken on the window's days where both have values,
    and fitted by least squares D(t) = a + b*t (the difference of the two
    series' own least-squares lines). A projection is claimed only if ALL hold:

    1. n >= max(PROJECTION_MIN_POINTS = 14, ceil(window_days / 2)) common points;
    2. F is behind L on the latest common day of the window (F < L; level is not
       behind);
    3. F grows faster: b > 0;
    4. the slope is significant: t = b / se(b) >= PROJECTION_MIN_T = 5
       (se from the residuals with n - 2 degrees of freedom);
    5. the line explains the gap: R^2 of the fit of D >= PROJECTION_MIN_R2 = 0.6;
    6. the fitted lines cross after as_of and within ``horizon_days``: the
       projected day is the first whole day t > as_of with a + b*t > 0.

    Under iid noise around a common level rule 4+5 together require
    |t| >= max(5, sqrt(1.5 * (n - 2))), a one-sided chance of ~1e-4 at n = 14 and
    ~1e-6 at n = 28 per pair; a real trend in 30-day or all-time counts clears it
    by a wide margin. (Autocorrelated noise, e.g. a random walk, can still look
    like a trend: a projection is a forecast, not a fact.)

    Output columns (sorted by projected_day, <entity>, overtaken):
        as_of, metric, <entity> (the follower), overtaken (the leader),
        projected_day, window_days, slope_diff (b, per day), t_stat, r2, n_points,
        gap (L - F on the latest common day).
    """
    as_of_ts = _day(as_of)
    first = as_of_ts - pd.Timedelta(days=window_days - 1)
    d = df[["day", entity, metric]].copy()
    d["day"] = _days(d["day"])
    d = d[(d["day"] >= first) & (d["day"] <= as_of_ts)]
    cols = [
        "as_of", "metric", entity, "overtaken", "projected_day", "window_days",
        "slope_diff", "t_stat", "r2", "n_points", "gap",
    ]  # fmt: skip
    empty = pd.DataFrame(
        {
            "as_of": pd.Series(dtype="datetime64[us]"),
            "metric": pd.Series(dtype="str"),
            entity: pd.Series(dtype="str"),
            "overtaken": pd.Series(dtype="str"),
            "projected_day": pd.Series(dtype="datetime64[us]"),
            "window_days": pd.Series(dtype="int64"),
            "slope_diff": pd.Series(dtype="float64"),
            "t_stat": pd.Series(dtype="float64"),
            "r2": pd.Series(dtype="float64"),
            "n_points": pd.Series(dtype="int64"),
            "gap": pd.Series(dtype="float64"),
        }
    )[cols]
    if d.empty:
        return empty
    days, names, x = _wide(d, metric, entity)
    t = ((days - as_of_ts) / pd.Timedelta(days=1)).to_numpy(dtype="float64")  # <= 0

    diff = x[:, :, None] - x[:, None, :]  # (T, N, N): F - L
    ok = ~np.isnan(diff)
    n = ok.sum(axis=0).astype("float64")
    tt = np.where(ok, t[:, None, None], 0.0)
    yy = np.where(ok, diff, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mt = tt.sum(0) / n
        my = yy.sum(0) / n
        dt = np.where(ok, tt - mt, 0.0)
        dy = np.where(ok, yy - my, 0.0)
        sxx = (dt * dt).sum(0)
        sxy = (dt * dy).sum(0)
        syy = (dy * dy).sum(0)
        b = sxy / sxx
        a = my - b * mt  # value of the fitted difference at as_of (t = 0)
        ssr = np.maximum(syy - b * sxy, 0.0)
        se = np.sqrt(ssr / (n - 2) / sxx)
        tstat = np.where(se > 0, b / se, np.where(b > 0, np.inf, 0.0))
        r2 = np.where(syy > 0, 1.0 - ssr / syy, 0.0)
        # latest common day: last index where ok
        last_idx = np.where(ok, np.arange(len(t))[:, None, None], -1).max(axis=0)
        gap_now = np.take_along_axis(diff, np.maximum(last_idx, 0)[None], axis=0)[0]
        cross = -a / b  # days after as_of where the fitted difference reaches 0
    min_n = max(PROJECTION_MIN_POINTS, math.ceil(window_days / 2))
    keep = (
        (n >= min_n)
        & (last_idx >= 0)
        & (gap_now < 0)
        & (b > 0)
        & (tstat >= PROJECTION_MIN_T)
        & (r2 >= PROJECTION_MIN_R2)
        & (cross < horizon_days)  # first whole day past the crossing must be <= horizon
        & (cross >= 0)
    )
    i, j = np.nonzero(keep)
    if len(i) == 0:
        return empty
    # first whole day strictly after the crossing point (a + b*t > 0)
    ahead = np.floor(cross[i, j]) + 1
    keep2 = (ahead >= 1) & (ahead <= horizon_days)
    i, j, ahead = i[keep2], j[keep2], ahead[keep2]
    if len(i) == 0:
        return empty
    out = pd.DataFrame(
        {
            "as_of": pd.Series([as_of_ts] * len(i), dtype="datetime64[us]"),
            "metric": pd.Series([metric] * len(i), dtype="str"),
            entity: pd.Series(names[i], dtype="str"),
            "overtaken": pd.Series(names[j], dtype="str"),
            "projected_day": (as_of_ts.to_datetime64() + ahead.astype("int64") * _DAY).astype(
                "datetime64[us]"
            ),
            "window_days": np.full(len(i), window_days, dtype="int64"),
            "slope_diff": b[i, j],
            "t_stat": tstat[i, j],
            "r2": r2[i, j],
            "n_points": n[i, j].astype("int64"),
            "gap": -gap_now[i, j],
        }
    )
    return out.sort_values(["projected_day", entity, "overtaken"], kind="stable").reset_index(
        drop=True
    )[cols]


# --------------------------------------------------------------------------- quality


def _iso(ts: Any) -> str:
    return "?" if pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d")


def _stamp(ts: Any) -> str:
    return "unknown" if pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%dT%H:%MZ")


def _family_level(snaps: pd.DataFrame) -> pd.DataFrame:
    """Aggregate model snapshots to family x day: models + sums of the snapshot metrics."""
    present = [m for m in METRICS[1:] if m in snaps.columns]
    g = snaps.groupby(["family", "day"], sort=True)
    out = g["model_id"].nunique().rename("models").to_frame()
    for m in present:
        v = pd.to_numeric(snaps[m], errors="coerce").astype("Float64")
        out[m] = v.groupby([snaps["family"], snaps["day"]]).sum(min_count=1)
    return out.reset_index()


def quality_flags(snaps: pd.DataFrame, family_daily: pd.DataFrame | None = None) -> pd.DataFrame:
    """Data-quality notes so that no reader mistakes an artefact for a trend.

    Input: ``snaps`` with day, family, model_id and optionally created_at,
    taken_at, downloads_all_time, downloads_30d, likes, derivatives (one row per
    model per snapshot day); optional ``family_daily`` (day, family and any of
    models, downloads_30d, downloads_all_time, likes, derivatives) used for
    "stale" instead of sums of ``snaps``.

    Issues (model_id is NA for family-level issues):
      stale          family-level: every metric with a value on both days equals
                     the previous snapshot day's value (at least one metric other
                     than ``models`` compared): the Hub did not refresh.
      all_time_fell  a model's downloads_all_time is lower than its previous
                     non-NA value in the family (a Hub data error; clipped to 0
                     in `downloads_day`).
      missing_day    a calendar day without a snapshot between two snapshot days
                     of a family; one row per missing day.
      entered        a model present on a snapshot day, absent on the family's
                     previous snapshot day and created before it (config change,
                     rename; adds no downloads).
      new_model      as entered, but created after the previous snapshot.
      left           a model present on the previous snapshot day, absent now.

    Output columns (sorted by day, family, issue, model_id):
        day, family, model_id (str, NA for family-level), issue, detail.
    """
    s = _prepare_snaps(snaps)
    return _quality_flags(s, _transitions(s), family_daily)


def interval_stats(snaps: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`downloads_day(snaps)` and `quality_flags(snaps)` at once (the snapshots are classified once)."""
    s = _prepare_snaps(snaps)
    tr = _transitions(s)
    return _downloads_day(s, tr), _quality_flags(s, tr, None)


def _quality_flags(s: pd.DataFrame, transitions: tuple, family_daily: pd.DataFrame | None) -> pd.DataFrame:
    rows: list[pd.DataFrame] = []

    def add(day: Any, family: Any, model_id: Any, issue: str, detail: Any) -> None:
        n = len(day)
        if n == 0:
            return
        rows.append(
            pd.DataFrame(
                {
                    "day": pd.Series(np.asarray(day), dtype="datetime64[us]"),
                    "family": pd.Series(np.asarray(family, dtype=object), dtype="str"),
                    "model_id": pd.Series(
                        np.asarray(model_id, dtype=object) if model_id is not None else [None] * n,
                        dtype="str",
                    ),
                    "issue": pd.Series([issue] * n, dtype="str"),
                    "detail": pd.Series(list(detail), dtype="str"),
                }
            )
        )

    later, left, fd = transitions

    # stale
    if family_daily is not None:
        fam = family_daily.copy()
        fam["day"] = _days(fam["day"])
    else:
        fam = _family_level(s)
    metrics = [m for m in METRICS if m in fam.columns]
    fam = fam.sort_values(["family", "day"], kind="stable").reset_index(drop=True)
    if metrics and len(fam):
        prevf = fam.groupby("family", sort=False)[["day", *metrics]].shift(1)
        has_prev = prevf["day"].notna().to_numpy()
        compared = np.zeros(len(fam), dtype=int)
        compared_non_models = np.zeros(len(fam), dtype=bool)
        equal = np.ones(len(fam), dtype=bool)
        for m in metrics:
            cur, prv = _float(fam[m]), _float(prevf[m])
            both = ~np.isnan(cur) & ~np.isnan(prv)
            compared += both
            if m != "models":
                compared_non_models |= both
            equal &= ~both | (cur == prv)
        stale = has_prev & compared_non_models & equal
        st = fam[stale]
        names = [
            ", ".join(m for m in metrics if pd.notna(r[m]) and pd.notna(p[m]))
            for (_, r), (_, p) in zip(st.iterrows(), prevf[stale].iterrows(), strict=True)
        ]
        add(
            st["day"],
            st["family"],
            None,
            "stale",
            [
                f"{nm} unchanged since {_iso(pd_)}"
                for nm, pd_ in zip(names, prevf.loc[stale, "day"], strict=True)
            ],
        )

    # all_time_fell: against the model's previous non-NA value in the family
    if "downloads_all_time" in s.columns:
        a = s[["family", "model_id", "day"]].assign(at=_float(s["downloads_all_time"]))
        a = a[~np.isnan(a["at"].to_numpy())].sort_values(["family", "model_id", "day"])
        g = a.groupby(["family", "model_id"], sort=False)
        a["prev_at"] = g["at"].shift(1)
        a["prev_day"] = g["day"].shift(1)
        fell = a[a["at"] < a["prev_at"]]
        add(
            fell["day"],
            fell["family"],
            fell["model_id"],
            "all_time_fell",
            [
                f"downloads_all_time {human(p)} -> {human(c)} ({c - p:+.0f}) since {_iso(d)}"
                for p, c, d in zip(fell["prev_at"], fell["at"], fell["prev_day"], strict=True)
            ],
        )

    # missing_day
    gaps = fd[fd["prev_day"].notna()]
    n = ((gaps["day"] - gaps["prev_day"]) / pd.Timedelta(days=1)).astype("int64").to_numpy() - 1
    if n.sum() > 0:
        rep = np.repeat(np.arange(len(gaps)), n)
        k = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n) + 1
        pdays = gaps["prev_day"].to_numpy()[rep]
        ndays = gaps["day"].to_numpy()[rep]
        add(
            pdays + k * _DAY,
            gaps["family"].to_numpy()[rep],
            None,
            "missing_day",
            [
                f"no snapshot between {_iso(p)} and {_iso(q)}"
                for p, q in zip(pdays, ndays, strict=True)
            ],
        )

    # entered / new_model / left
    for status, issue in (("entered", "entered"), ("new", "new_model")):
        e = later[later["status"] == status]
        add(
            e["day"],
            e["family"],
            e["model_id"],
            issue,
            [
                f"created {_stamp(c)}, absent from the snapshot of {_iso(p)}"
                for c, p in zip(e["created_at"], e["prev_day"], strict=True)
            ],
        )
    add(
        left["day"],
        left["family"],
        left["model_id"],
        "left",
        [f"present on {_iso(p)}, absent now" for p in left["prev_day"]],
    )

    if not rows:
        return pd.DataFrame(
            {
                "day": pd.Series(dtype="datetime64[us]"),
                "family": pd.Series(dtype="str"),
                "model_id": pd.Series(dtype="str"),
                "issue": pd.Series(dtype="str"),
                "detail": pd.Series(dtype="str"),
            }
        )
    out = pd.concat(rows, ignore_index=True)
    return out.sort_values(["day", "family", "issue", "model_id"], kind="stable").reset_index(
        drop=True
    )


# --------------------------------------------------------------------------- helpers for the derived views


def family_quality(family_daily: pd.DataFrame) -> pd.DataFrame:
    """Family-level data-quality notes (stale days, missing days) from the daily family series.

    Input: family_daily (day, family and any of models, downloads_30d, downloads_all_time, likes,
    derivatives). Output: as `quality_flags` (day, family, model_id = NA, issue, detail), issues
    ``stale`` and ``missing_day`` only.
    """
    pseudo = pd.DataFrame({"day": family_daily["day"], "family": family_daily["family"],
                           "model_id": "(family)"})
    q = quality_flags(pseudo, family_daily=family_daily)
    q = q[q["issue"].isin(["stale", "missing_day"])].reset_index(drop=True)
    q["model_id"] = pd.Series([None] * len(q), dtype="str")
    return q


def trailing_week(family_daily: pd.DataFrame) -> pd.DataFrame:
    """Downloads over the 7 days ending on each snapshot day, from the spread daily downloads.

    Input: day, family, downloads_day (per day, spread evenly over the interval ending that day) and
    interval_days (the interval's length; 1 when absent). Each calendar day of an interval carries
    the interval's daily value, so a gap of several days is filled with its own average, never 0.
    Output: the input with a column downloads_week (float; NA unless all 7 days are covered).
    """
    fd = family_daily.copy()
    fd["day"] = _days(fd["day"])
    if "interval_days" not in fd.columns:
        fd["interval_days"] = 1
    parts = []
    for fam, g in fd.sort_values("day").groupby("family", sort=False):
        v = _float(g["downloads_day"])
        n = pd.to_numeric(g["interval_days"], errors="coerce").fillna(1).astype("int64").to_numpy()
        n = np.where(np.isnan(v), 1, np.maximum(n, 1))
        ends = g["day"].to_numpy()
        cal_days = np.concatenate([e - np.arange(k)[::-1] * _DAY for e, k in zip(ends, n, strict=True)])
        cal_vals = np.repeat(v, n)
        cal = pd.Series(cal_vals, index=pd.DatetimeIndex(cal_days)).groupby(level=0).last()
        full = cal.reindex(pd.date_range(cal.index.min(), cal.index.max(), freq="D"))
        week = full.rolling(7, min_periods=7).sum()  # NaN anywhere in the 7 days -> NaN
        parts.append(pd.Series(week.reindex(g["day"]).to_numpy(), index=g.index))
    fd["downloads_week"] = pd.concat(parts) if parts else pd.Series(dtype="float64")
    return fd


def week_models(at_end: pd.DataFrame, before: pd.DataFrame, start: Any, end: Any,
                top: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The week's top movers and new models, from the snapshots at its end and just before it.

    Input frames: family, model_id, downloads_all_time, downloads_30d, likes, created_at (one row per
    model and family). A model's gain is its all-time growth over the week; a model created during
    the week gains all its downloads; one that merely entered the family gains nothing known (left out).
    Output: (top movers: model_id, family, downloads_week, downloads_30d, likes — largest gain first,
    at most `top`; new models: model_id, family, created_at, downloads_30d, likes — most downloaded first).
    """
    mover_cols = ["model_id", "family", "downloads_week", "downloads_30d", "likes"]
    new_cols = ["model_id", "family", "created_at", "downloads_30d", "likes"]
    if at_end.empty:
        return pd.DataFrame(columns=mover_cols), pd.DataFrame(columns=new_cols)
    first = pd.Timestamp(_day(start), tz="UTC")
    after = pd.Timestamp(_day(end), tz="UTC") + pd.Timedelta(days=1)
    created = _utc(at_end["created_at"]).reset_index(drop=True)
    at_end = at_end.reset_index(drop=True)
    in_week = ((created >= first) & (created < after)).fillna(False).to_numpy(dtype=bool)
    new_models = at_end[in_week][new_cols].sort_values("downloads_30d", ascending=False)
    prev = before[["family", "model_id", "downloads_all_time"]].rename(columns={"downloads_all_time": "prev"})
    m = at_end.merge(prev, on=["family", "model_id"], how="left")
    now_at = m["downloads_all_time"].astype("Float64")
    gain = (now_at - m["prev"].astype("Float64")).where(m["prev"].notna(), now_at.where(in_week))
    movers = m.assign(downloads_week=gain.clip(lower=0)).dropna(subset=["downloads_week"])
    movers = movers.sort_values("downloads_week", ascending=False).head(top)[mover_cols]
    return movers.reset_index(drop=True), new_models.reset_index(drop=True)
