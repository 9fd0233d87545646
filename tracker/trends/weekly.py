"""Weekly family tables: values at week end, week-over-week change, like-for-like change, shares;
and the week's top movers and new models."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tracker.metrics import METRICS
from tracker.trends.common import day, days, floats, monday, nullable, ratio, utc, week_label
from tracker.trends.intervals import prepare_snaps, transitions

#: Per-model values whose like-for-like change `like_for_like` computes (models is 0 by definition).
MODEL_VALUES = ("downloads_30d", "downloads_all_time", "likes", "derivatives")
MEMBERSHIP_COLUMNS = ("models_new", "models_entered", "models_left")


def like_for_like(ends: pd.DataFrame) -> pd.DataFrame:
    """Week-over-week change over the models present at both ends of the week.

    Input: model rows at each family's last snapshot of each ISO week (day, family, model_id,
    created_at, taken_at optional, and any of downloads_30d, downloads_all_time, likes, derivatives).
    Two weeks are compared only when they are consecutive ISO weeks.

    Output (one row per family and week with a previous week): week_start, family, and
        <m>_wow_same      sum over models in both snapshots (with a value in both) of m now - m then
        <m>_base_same     the same models' sum of m then (the base of the percentage)
    for m in downloads_30d, downloads_all_time, likes, derivatives (the ones given), models (0: the
    same models are the same number), downloads_week (a model's gain this week minus its gain last
    week, over models with both gains: needs all-time counts at three week ends); and the membership
    counts models_new (absent then, created after that snapshot), models_entered (absent then,
    created before it), models_left (present then, absent now).
    """
    s = prepare_snaps(ends)
    vals = [m for m in MODEL_VALUES if m in s.columns]
    tr = transitions(s, vals)
    later = tr.later.assign(week_start=monday(tr.later["day"]))
    later = later[(later["week_start"] - monday(later["prev_day"])) == pd.Timedelta(days=7)]
    keys = ["family", "week_start"]
    flags = later[keys].assign(
        models_new=later["status"].eq("new").astype("int64"),
        models_entered=later["status"].eq("entered").astype("int64"),
    )
    out = flags.groupby(keys).sum()
    left = tr.left.assign(week_start=monday(tr.left["day"]))
    left = left[(left["week_start"] - monday(left["prev_day"])) == pd.Timedelta(days=7)]
    out = out.join(left.groupby(keys).size().rename("models_left"), how="outer").fillna(0).astype("int64")
    common = later[later["status"] == "common"]
    sums = {}  # per metric: the change and the base over the models with a value at both ends, else NaN
    for m in vals:
        now, then = common[m].to_numpy(), common[f"prev_{m}"].to_numpy()
        both = ~np.isnan(now) & ~np.isnan(then)
        sums[f"{m}_wow_same"] = np.where(both, now - then, np.nan)
        sums[f"{m}_base_same"] = np.where(both, then, np.nan)
    if sums:  # one groupby for every metric; a group without such a model sums to NaN (min_count=1)
        per = pd.DataFrame(sums, index=common.index).groupby([common[k] for k in keys]).sum(min_count=1)
        out = out.join(per)
    out["models_wow_same"], out["models_base_same"] = 0.0, np.nan
    if "downloads_all_time" in vals:
        both = common[common["downloads_all_time"].notna() & common["prev_downloads_all_time"].notna()]
        gain = both.assign(g=both["downloads_all_time"] - both["prev_downloads_all_time"])[
            ["family", "model_id", "week_start", "g"]
        ]
        prev = gain.assign(week_start=gain["week_start"] + pd.Timedelta(days=7)).rename(columns={"g": "g0"})
        pair = gain.merge(prev, on=["family", "model_id", "week_start"], how="inner")
        g = pair.assign(_d=pair["g"] - pair["g0"]).groupby(keys)
        out = out.join(g["_d"].sum().rename("downloads_week_wow_same")).join(
            g["g0"].sum().rename("downloads_week_base_same")
        )
    return out.reset_index()


def weekly(family_daily: pd.DataFrame, same: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per ISO week per family: metrics at week end, week-over-week change (all and like-for-like), share.

    Input columns: day, family, label (optional), region (optional) and any subset of models,
    downloads_30d, downloads_all_time, likes, derivatives, downloads_day; `same`: the output of
    `like_for_like` for these families (optional; without it the like-for-like columns are NA).

    Output columns (sorted by week_start, family):
        week ("2026-W34"), week_start (Monday, datetime64), family, label, region,
        then for each metric m present among models, downloads_30d, downloads_all_time, likes,
        derivatives, downloads_week (in that order):
            m               value at week end: the last day of the week with a value
                            (downloads_week: sum of downloads_day over the week, NA if none)
            m_wow           m - m of the previous ISO week (NA if that week is absent/NA)
            m_wow_pct       m_wow / previous (Float64; NA when previous is 0 or NA)
            m_wow_same      the change over the models present at both week ends (`like_for_like`)
            m_wow_pct_same  m_wow_same / those models' previous value
            m_share         m / sum of m over families with a value that week
        then models_new, models_entered, models_left (membership changes between the week ends) and,
        with downloads_day, downloads_week_days (days of the week with a value; < 7: a partial week).
    """
    df = family_daily.copy()
    df["day"] = days(df["day"])
    metrics = [m for m in METRICS if m in df.columns]
    has_dd = "downloads_day" in df.columns
    # the week labels of the distinct days (a few), put back on the rows
    uniq, where = np.unique(df["day"].to_numpy(), return_inverse=True)
    labels = np.array([week_label(d) for d in uniq], dtype=object)
    df["week"] = pd.Series(labels[where.reshape(-1)], index=df.index, dtype="str")
    df["week_start"] = monday(df["day"])
    for c in ("label", "region"):
        if c not in df.columns:
            df[c] = pd.Series(pd.NA, index=df.index, dtype="str")
    for m in metrics:
        df[m] = nullable(df[m])
    if has_dd:
        df["_dd"] = pd.to_numeric(df["downloads_day"], errors="coerce").astype("Float64")
    df = df.sort_values(["family", "day"], kind="stable")
    keys = ["week", "week_start", "family"]
    g = df.groupby(keys, sort=True)
    wk = g[["label", "region", *metrics]].last()  # last non-NA value in the week
    if has_dd:
        gd = g["_dd"]  # the same groups
        wk["downloads_week"] = gd.sum(min_count=1)
        wk["downloads_week_days"] = gd.count().astype("int64")
        metrics = [*metrics, "downloads_week"]
    wk = wk.reset_index()

    # each row's previous ISO week (same family, week_start - 7 days): its values, NA when absent
    row_of = {key: k for k, key in enumerate(zip(wk["family"], wk["week_start"], strict=True))}  # a few rows
    week = pd.Timedelta(days=7)
    before = np.array(
        [row_of.get((f, w - week), -1) for f, w in zip(wk["family"], wk["week_start"], strict=True)], dtype="int64"
    )
    for m in metrics:
        wk[f"{m}__prev"] = pd.Series(wk[m].array.take(before, allow_fill=True), index=wk.index)
    if same is not None and len(same):
        sm = same.copy()
        sm["week_start"] = days(sm["week_start"])
        wk = wk.merge(sm, on=["family", "week_start"], how="left")
    cols = ["week", "week_start", "family", "label", "region"]
    totals = wk.groupby("week_start")[metrics].transform("sum")  # all-NA -> 0 -> share NA
    new: dict[str, pd.Series] = {}  # the computed columns (collected, then put in one frame)
    no_value = pd.Series(pd.NA, index=wk.index, dtype="Float64")
    for m in metrics:
        prev_m = wk[f"{m}__prev"]
        wow = new[f"{m}_wow"] = wk[m] - prev_m
        new[f"{m}_wow_pct"] = ratio(wow, prev_m)
        if f"{m}_wow_same" in wk.columns:
            same_m = new[f"{m}_wow_same"] = pd.to_numeric(wk[f"{m}_wow_same"], errors="coerce").astype("Float64")
            new[f"{m}_wow_pct_same"] = ratio(same_m, prev_m if m == "models" else wk[f"{m}_base_same"])
        else:
            new[f"{m}_wow_same"] = new[f"{m}_wow_pct_same"] = no_value
        new[f"{m}_share"] = ratio(wk[m], totals[m])
        cols += [m, f"{m}_wow", f"{m}_wow_pct", f"{m}_wow_same", f"{m}_wow_pct_same", f"{m}_share"]
    for c in ("models_new", "models_entered", "models_left"):
        new[c] = (
            pd.to_numeric(wk[c], errors="coerce") if c in wk.columns else pd.Series(np.nan, index=wk.index)
        ).astype("Int64")
        cols.append(c)
    if has_dd:
        cols.append("downloads_week_days")
    # every column is aligned with wk: the frame is made of their arrays (aligning ~45 Series costs more)
    out = pd.DataFrame({c: (new[c] if c in new else wk[c]).array for c in cols}, index=wk.index)
    return out.sort_values(["week_start", "family"], kind="stable").reset_index(drop=True)


def shares(df: pd.DataFrame, metric: str, by: str = "family") -> pd.DataFrame:
    """Share of each group in the tracked total, per period.

    Input columns: day (or week, when there is no day column), <by>, <metric>. With by="region" (or
    any column other than the entity) rows are summed per group first (NA only if every summed value
    is NA). Output columns (sorted by period, <by>): day|week, <by>, value, share. ``share`` = value /
    sum of values of the period (Float64); NA for a group without a value and for every group when
    the total is 0 or NA. Shares of the groups with values sum to 1 per period.
    """
    if "day" in df.columns:
        period, per = "day", days(df["day"])
    elif "week" in df.columns:
        period, per = "week", df["week"]
    else:
        raise ValueError(f"shares() needs a 'day' or 'week' column; has {list(df.columns)}")
    vals = pd.to_numeric(df[metric], errors="coerce").astype("Float64")
    agg = vals.groupby([per.rename(period), df[by].rename(by)], sort=True).sum(min_count=1).rename("value")
    out = agg.reset_index()
    out["share"] = ratio(out["value"], out.groupby(period)["value"].transform("sum"))
    return out[[period, by, "value", "share"]]


def week_models(
    at_end: pd.DataFrame, before: pd.DataFrame, start: Any, end: Any, top: int = 10
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The week's top movers and new models, from the snapshots at its end and just before it.

    Input frames: family, model_id, downloads_all_time, downloads_30d, likes, created_at and
    optionally day (one row per model and family). Rows of `at_end` dated outside the week are
    ignored: a week without a snapshot has no movers. A model's gain is its all-time growth over the
    week; a model created during the week gains all its downloads; one that merely entered the family
    gains nothing known (left out); a model that gained nothing is not a mover.
    Output: (top movers: model_id, family, downloads_week, downloads_30d, likes — largest gain first,
    at most `top`; new models: model_id, family, created_at, downloads_30d, likes — most downloaded first).
    """
    mover_cols = ["model_id", "family", "downloads_week", "downloads_30d", "likes"]
    new_cols = ["model_id", "family", "created_at", "downloads_30d", "likes"]
    lo, hi = day(start), day(end)
    if "day" in at_end.columns and len(at_end):
        d = days(at_end["day"])
        at_end = at_end[((d >= lo) & (d <= hi)).to_numpy()]
    if at_end.empty:
        return pd.DataFrame(columns=mover_cols), pd.DataFrame(columns=new_cols)
    first, after = pd.Timestamp(lo, tz="UTC"), pd.Timestamp(hi, tz="UTC") + pd.Timedelta(days=1)
    created = utc(at_end["created_at"]).reset_index(drop=True)
    at_end = at_end.reset_index(drop=True)
    in_week = ((created >= first) & (created < after)).fillna(False).to_numpy(dtype=bool)
    new_models = at_end[in_week][new_cols].sort_values("downloads_30d", ascending=False)
    prev = before[["family", "model_id", "downloads_all_time"]].rename(columns={"downloads_all_time": "prev"})
    m = at_end.merge(prev, on=["family", "model_id"], how="left")
    now_at = m["downloads_all_time"].astype("Float64")
    gain = (now_at - m["prev"].astype("Float64")).where(m["prev"].notna(), now_at.where(in_week))
    movers = m.assign(downloads_week=gain.clip(lower=0)).dropna(subset=["downloads_week"])
    movers = movers[floats(movers["downloads_week"]) > 0]
    movers = movers.sort_values("downloads_week", ascending=False).head(top)[mover_cols]
    return movers.reset_index(drop=True), new_models.reset_index(drop=True)
