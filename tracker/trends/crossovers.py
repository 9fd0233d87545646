"""Crossovers: the days on which one family (or model) moves ahead of another, and which of them
are news (the headlines).

The rule. A crossover of A over B in a metric is a day t on which A > B, while on the last earlier
day on which both had a value and differed, A < B; that day is the crossover's ``previous_day`` (the
snapshot on which A was last behind). Days on which A = B are skipped, never counted: a tie is
neither a lead nor a crossover. A crossover is

- ``reversed`` when B is ahead again within the next REVERSAL_SNAPSHOTS snapshots both have after t
  (looked for only in the data given, so a report as of a day never uses later data);
- not ``holds_same_models`` when it is produced by membership change alone: A's lead at t, recomputed
  from the values on previous_day plus each family's change over the models present on both days,
  is not positive (a change in the model count is membership by definition, so a crossover in
  ``models`` never holds);
- ``after_stale`` when A's or B's family was flagged stale for the metric on previous_day or a day
  between it and t: the crossing may have happened earlier, so it happened "on or before" t.

A headline is a crossover that is not reversed and holds over the same models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from tracker.metrics import STALE_ISSUE
from tracker.trends.common import day, days, empty, floats, metric_list

#: A crossover undone within this many later snapshots is shown as reversed, not as a headline.
REVERSAL_SNAPSHOTS = 3


def columns(entity: str) -> list[str]:
    return [
        "day",
        "metric",
        entity,
        "overtaken",
        f"{entity}_value",
        "overtaken_value",
        "previous_day",
        f"{entity}_previous_value",
        "overtaken_previous_value",
        "reversed",
        "reversed_day",
    ]


def _empty(entity: str) -> pd.DataFrame:
    num = dict.fromkeys(
        (f"{entity}_value", "overtaken_value", f"{entity}_previous_value", "overtaken_previous_value"), "float64"
    )
    return empty(columns(entity), {**num, "reversed": "bool", "reversed_day": "datetime64[us]"})


def wide(df: pd.DataFrame, metric: str, entity: str) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """day x entity float matrix (NaN = no value); only days present in df, both sorted; a cell holds
    the last value given for it (rows without a day or an entity are left out)."""
    d, e = days(df["day"]), df[entity]
    keyed = (d.notna() & e.notna()).to_numpy()
    d, e, vals = d[keyed], e[keyed], floats(df[metric])[keyed]
    di, day_u = pd.factorize(d, sort=True)
    ei, names = pd.factorize(e, sort=True)
    x = np.full((len(day_u), len(names)), np.nan)
    rows = np.flatnonzero(~np.isnan(vals))[::-1]  # valued rows, last first
    cell = di[rows] * len(names) + ei[rows]
    _, first = np.unique(cell, return_index=True)  # each cell's last valued row
    x.flat[cell[first]] = vals[rows[first]]
    return pd.DatetimeIndex(day_u), np.asarray(names), x


def _crossings(x: np.ndarray, block_cells: int = 4_000_000) -> tuple[np.ndarray, ...]:
    """(t, i, j, p): x[t,i] > x[t,j] and x[p,i] < x[p,j], p = the last earlier day both valid and unequal."""
    d, n = x.shape
    valid = ~np.isnan(x)
    ar = np.arange(d)[:, None, None]
    res: list[tuple[np.ndarray, ...]] = [(np.zeros(0, int),) * 4]
    bs = max(1, block_cells // max(1, d * n))
    for i0 in range(0, n, bs):
        i1 = min(n, i0 + bs)
        both = valid[:, i0:i1, None] & valid[:, None, :]
        with np.errstate(invalid="ignore"):
            diff = x[:, i0:i1, None] - x[:, None, :]
        differ = both & (diff != 0)
        last = np.maximum.accumulate(np.where(differ, ar, -1), axis=0)
        prev = np.full_like(last, -1)
        prev[1:] = last[:-1]
        with np.errstate(invalid="ignore"):
            hit = both & (diff > 0) & (prev >= 0) & (np.take_along_axis(diff, np.maximum(prev, 0), axis=0) < 0)
        t, i, j = np.nonzero(hit)
        res.append((t, i + i0, j, prev[t, i, j]))
    return tuple(np.concatenate(parts) for parts in zip(*res, strict=True))


def _reversal(x: np.ndarray, t: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Index of the first of the next REVERSAL_SNAPSHOTS common days on which j is ahead again, or -1."""
    out = np.full(len(t), -1)
    valid = ~np.isnan(x)
    for k, (tk, ik, jk) in enumerate(zip(t, i, j, strict=True)):
        after = np.flatnonzero(valid[tk + 1 :, ik] & valid[tk + 1 :, jk])[:REVERSAL_SNAPSHOTS] + tk + 1
        back = after[x[after, ik] < x[after, jk]]
        if len(back):
            out[k] = back[0]
    return out


def crossovers(df: pd.DataFrame, metric: str | Iterable[str], entity: str = "family") -> pd.DataFrame:
    """Crossovers by the module's rule (ties skipped; reversal within REVERSAL_SNAPSHOTS snapshots).

    Input columns: day, <entity>, <metric> (``metric`` may be a list; each is handled separately).
    Days on which either is NA are skipped, never filled.
    Output columns (sorted by day, metric, <entity>, overtaken): day, metric, <entity> (A, the one
    that moved ahead), overtaken (B), <entity>_value, overtaken_value, previous_day (A last behind),
    <entity>_previous_value, overtaken_previous_value (values float64), reversed (bool),
    reversed_day (the day B was ahead again, NaT if not).
    """
    if df.empty or days(df["day"]).nunique() < 2:
        return _empty(entity)  # a crossing needs an earlier day
    parts: list[dict[str, np.ndarray]] = []  # each metric's crossings, as plain arrays
    for m in metric_list(metric):
        if m not in df.columns:
            continue
        d, names, x = wide(df, m, entity)
        if x.size == 0:
            continue
        t, i, j, p = _crossings(x)
        if len(t) == 0:
            continue
        r = _reversal(x, t, i, j)
        dv = d.to_numpy()
        parts.append(
            {
                "day": dv[t],
                "metric": np.full(len(t), m, dtype=object),
                entity: names[i],
                "overtaken": names[j],
                f"{entity}_value": x[t, i],
                "overtaken_value": x[t, j],
                "previous_day": dv[p],
                f"{entity}_previous_value": x[p, i],
                "overtaken_previous_value": x[p, j],
                "reversed": r >= 0,
                "reversed_day": np.where(r >= 0, dv[np.maximum(r, 0)], np.datetime64("NaT")),
            }
        )
    if not parts:
        return _empty(entity)
    col = {c: np.concatenate([part[c] for part in parts]) for c in columns(entity)}
    # sorted by day, metric, entity, overtaken (np.lexsort: the last key first; stable)
    rank = [pd.factorize(col[c], sort=True)[0] for c in ("overtaken", entity, "metric")]
    order = np.lexsort([*rank, col["day"].astype("datetime64[us]").view("int64")])
    kinds = dict.fromkeys(("day", "previous_day", "reversed_day"), "datetime64[us]")
    kinds.update(dict.fromkeys(("metric", entity, "overtaken"), "str"))
    return pd.DataFrame({c: pd.Series(v[order], dtype=kinds.get(c)) for c, v in col.items()})


def model_crossovers(model_daily: pd.DataFrame, metric: str, top: int = 25, as_of: Any = None) -> pd.DataFrame:
    """Crossovers among the ``top`` leading models of a metric, as of a day.

    Input columns: day, model_id, <metric>. Only days up to `as_of` (default: the latest) are used;
    leaders are ranked by their value on the latest of those days on which any model has a value
    (ties broken by model_id): a report as of a day does not change when later data arrives.
    Output: as `crossovers` with entity="model_id".
    """
    d = days(model_daily["day"]).to_numpy()
    vals = floats(model_daily[metric])  # NaN: no value
    use = ~np.isnat(d) if as_of is None else d <= day(as_of).to_datetime64()
    valued = use & ~np.isnan(vals)
    if not valued.any():
        return _empty("model_id")
    latest = valued & (d == d[valued].max())
    code, ids = pd.factorize(model_daily["model_id"].to_numpy()[latest], sort=True)
    best = np.full(len(ids), -np.inf)
    np.maximum.at(best, code, vals[latest])  # each model's value (its largest) on that day
    leaders = ids[np.lexsort((np.arange(len(ids)), -best))[:top]]  # largest first, then by model_id
    rows = use & model_daily["model_id"].isin(leaders).to_numpy()
    return crossovers(model_daily.loc[rows, ["day", "model_id", metric]], metric, entity="model_id")


def holds_same_models(cx: pd.DataFrame, rows: pd.DataFrame) -> pd.Series:
    """For each family crossover: does it hold over the same models (see the module docstring)?

    `rows`: model values (day, family, model_id and the metric columns) on at least each crossover's
    day and previous_day. A metric without model values (downloads_week, or a day not given) gives
    NA: not known. Output: a nullable boolean Series aligned with `cx`.
    """
    out = pd.Series(pd.NA, index=cx.index, dtype="boolean")
    if cx.empty:
        return out
    r = rows.assign(day=days(rows["day"])) if len(rows) else rows
    if len(r):  # only the families and days the crossovers look at
        fams = set(cx["family"].astype(str)) | set(cx["overtaken"].astype(str))
        when = set(days(cx["day"])) | set(days(cx["previous_day"]))
        r = r[r["family"].isin(fams) & r["day"].isin(when)]
    groups = {k: g.set_index("model_id") for k, g in r.groupby(["family", "day"])} if len(r) else {}

    def change(fam: str, p: pd.Timestamp, t: pd.Timestamp, m: str) -> float:
        a, b = groups.get((fam, p)), groups.get((fam, t))
        if a is None or b is None or m not in a.columns:
            return np.nan
        if not (a.index.is_unique and b.index.is_unique):  # a model listed twice: every pair of its rows
            both = a[[m]].add_suffix("_p").join(b[[m]].add_suffix("_t"), how="inner").dropna()
            return float((floats(both[f"{m}_t"]) - floats(both[f"{m}_p"])).sum())
        at = a.index.get_indexer(b.index)  # each model of t on p, or -1
        now, then = floats(b[m])[at >= 0], floats(a[m])[at[at >= 0]]
        both = ~np.isnan(now) & ~np.isnan(then)
        return float((now[both] - then[both]).sum())

    for k, c in cx.iterrows():
        m, p, t = str(c["metric"]), day(c["previous_day"]), day(c["day"])
        if m == "models":
            out.at[k] = False
            continue
        da, db = change(str(c["family"]), p, t, m), change(str(c["overtaken"]), p, t, m)
        if np.isnan(da) or np.isnan(db):
            continue
        out.at[k] = bool((c["family_previous_value"] + da) - (c["overtaken_previous_value"] + db) > 0)
    return out


def after_stale(
    cx: pd.DataFrame, quality: pd.DataFrame, entity: str = "family", family_of: dict[str, str] | None = None
) -> pd.Series:
    """For each crossover: was A's or B's family flagged ``stale`` or stale for the metric
    (metrics.STALE_ISSUE) on previous_day or a day after it and before the crossover's day?
    `family_of` maps model ids to families for model crossovers. Output: boolean Series."""
    out = pd.Series(False, index=cx.index, dtype="bool")
    if cx.empty or quality is None or quality.empty:
        return out
    q = quality.assign(day=days(quality["day"]))
    q = q[q["issue"].astype(str).str.startswith("stale")]
    flagged = {(str(f), str(i)): set(g) for (f, i), g in q.groupby(["family", "issue"])["day"]}
    fam: Callable[[Any], str] = str if family_of is None else (lambda e: str(family_of.get(str(e), e)))
    for k, c in cx.iterrows():
        issues = {"stale", STALE_ISSUE.get(str(c["metric"]), "stale")}
        lo, hi = day(c["previous_day"]), day(c["day"])
        for who in (c[entity], c["overtaken"]):
            for issue in issues:
                if any(lo <= d < hi for d in flagged.get((fam(who), issue), ())):
                    out.at[k] = True
    return out


def annotate(
    cx: pd.DataFrame,
    rows: pd.DataFrame | None = None,
    quality: pd.DataFrame | None = None,
    entity: str = "family",
    family_of: dict[str, str] | None = None,
) -> pd.DataFrame:
    """`crossovers` output plus holds_same_models (family crossovers; NA when not known), after_stale and
    headline (not reversed and not known to fail over the same models)."""
    cx = cx.copy()
    if entity == "family" and rows is not None:
        cx["holds_same_models"] = holds_same_models(cx, rows)
    else:
        cx["holds_same_models"] = pd.Series(pd.NA, index=cx.index, dtype="boolean")
    cx["after_stale"] = after_stale(cx, quality if quality is not None else pd.DataFrame(), entity, family_of)
    holds = cx["holds_same_models"].fillna(True).astype(bool)
    if entity == "family":
        holds &= cx["metric"].astype(str) != "models"
    cx["headline"] = (~cx["reversed"].astype(bool) & holds).astype(bool)
    return cx
