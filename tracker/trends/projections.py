"""Projected crossovers: when a follower's lead over a leader closes on a straight line, the range of
days on which it would move ahead — claimed only when the line is credible, and backtested."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tracker.metrics import MEMBERSHIP
from tracker.trends.common import DAY, day, days, empty, floats
from tracker.trends.crossovers import wide

if TYPE_CHECKING:
    from pandas.api.typing import NaTType, NAType

# The projection rule (see `projections`). Public so that the report can quote them.
PROJECTION_MIN_POINTS = 14  # and at least half the window
PROJECTION_MIN_T = 5.0  # t-statistic of the slope of the difference series
PROJECTION_MIN_R2 = 0.6  # R^2 of the linear fit of the difference series
PROJECTION_Z = 2.0  # width of the prediction band (in residual standard errors) that gives the range
HOLDOUT_DAYS = 7  # the history check looks back at least this far (see `_foresaw`)
JUMP_FACTOR = 3.0  # a membership change whose step exceeds this many times the median step is a jump
NOT_PROJECTED = ("models",)  # a model count moves by whole models entering or leaving: never projected

COLUMNS = [
    "as_of",
    "metric",
    "family",
    "overtaken",
    "projected_from",
    "projected_to",
    "projected_day",
    "window_days",
    "first_day",
    "last_day",
    "n_points",
    "slope_diff",
    "t_stat",
    "r2",
    "gap",
]


def _empty(entity: str) -> pd.DataFrame:
    cols = [entity if c == "family" else c for c in COLUMNS]
    dt = dict.fromkeys(("projected_from", "projected_to", "projected_day", "first_day", "last_day"), "datetime64[us]")
    dt.update(
        window_days="int64", n_points="int64", slope_diff="float64", t_stat="float64", r2="float64", gap="float64"
    )
    return empty(cols, dt)


def membership_jumps(
    df: pd.DataFrame, metric: str, quality: pd.DataFrame | None, entity: str = "family"
) -> set[tuple[str, pd.Timestamp]]:
    """(family, day) pairs on which a membership change (new_model, entered, left) moved the metric by
    more than JUMP_FACTOR times the family's median day-to-day step in `df`."""
    if quality is None or quality.empty:
        return set()
    q = quality[quality["issue"].astype(str).isin(MEMBERSHIP)]
    flagged = {(str(f), d) for f, d in zip(q["family"], days(q["day"]), strict=True)}
    out = set()
    for fam, g in df.assign(_d=days(df["day"])).sort_values("_d").groupby(entity):
        step = np.abs(np.diff(floats(g[metric])))
        ok = step[~np.isnan(step)]
        if not len(ok):
            continue
        med = float(np.median(ok))
        for d, s in zip(g["_d"].iloc[1:], step, strict=True):
            if (str(fam), d) in flagged and s > JUMP_FACTOR * med and s > 0:
                out.add((str(fam), d))
    return out


def _fit(t: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float, float, float] | None:
    """Least squares y = a + b*t over the finite points: (a, b, s2, n, mean t, sxx), None if < 3 points."""
    ok = np.isfinite(y)
    t, y = t[ok], y[ok]
    if len(t) < 3:
        return None
    mt = t.mean()
    sxx = float(((t - mt) ** 2).sum())
    if sxx == 0:
        return None
    b = float(((t - mt) * (y - y.mean())).sum() / sxx)
    a = float(y.mean() - b * mt)
    s2 = float(((y - a - b * t) ** 2).sum() / (len(t) - 2))
    return a, b, s2, float(len(t)), float(mt), sxx


def _band(fit: tuple, t: np.ndarray | float) -> np.ndarray:
    _, _, s2, n, mt, sxx = fit
    return PROJECTION_Z * np.sqrt(s2 * (1 + 1 / n + (np.asarray(t) - mt) ** 2 / sxx))


def _history_error(t: np.ndarray, y: np.ndarray, window_days: int, min_n: int, lead: int) -> float | None:
    """How far off today's gap the same fit made `lead` days earlier (same window length) was: the
    pair's own out-of-sample error at that lead. None when the history is too short to tell."""
    last = np.flatnonzero(np.isfinite(y))
    if not len(last):
        return None
    now = t[last[-1]]
    cut = (t <= now - lead) & (t > now - lead - window_days)
    if np.isfinite(y[cut]).sum() < min_n:
        return None  # not enough history to check: no claim
    old = _fit(t[cut], y[cut])
    if old is None:
        return None
    return float(abs(y[last[-1]] - (old[0] + old[1] * now)))


def projections(
    df: pd.DataFrame,
    metric: str,
    as_of: Any,
    window_days: int = 28,
    horizon_days: int = 180,
    entity: str = "family",
    quality: pd.DataFrame | None = None,
    check_history: bool = True,
) -> pd.DataFrame:
    """Projected crossovers from the recent linear trend.

    Input columns: day, <entity>, <metric>; `quality` (day, family, issue) marks membership changes.
    Window: the ``window_days`` days ending on ``as_of``. For each ordered pair (F, L) the difference
    D(t) = F(t) - L(t) on the window's days where both have values is fitted by least squares
    D(t) = a + b*t. A projection is claimed only if ALL hold:

    0. the metric is not a model count, and neither family has a membership jump in the window
       (`membership_jumps`): a series that stepped because a model entered or left is no trend;
    1. n >= max(PROJECTION_MIN_POINTS = 14, ceil(window_days / 2)) common points;
    2. F is behind L on the latest common day of the window (F < L);
    3. F grows faster: b > 0, and the slope is significant: t = b / se(b) >= PROJECTION_MIN_T = 5;
    4. the line explains the gap: R^2 >= PROJECTION_MIN_R2 = 0.6;
    5. it is checked on history: the same fit made L days earlier, L being how far ahead the range
       ends (at least HOLDOUT_DAYS = 7; the window ending then, with at least as many points), missed
       today's gap by an error e with PROJECTION_Z * e smaller than the gap itself, and that widens
       the range (below). A
       projection 60 days ahead thus needs 60 + window_days days of data;
    6. the range closes within ``horizon_days``: the range runs from the first whole day after as_of
       on which the fitted line plus its margin is above 0 to the first day on which the line minus
       its margin is; the margin is the prediction band (PROJECTION_Z residual standard errors,
       widened for the distance from the window) plus PROJECTION_Z * e, e being the line's error on its
       own history at that lead (a straight line through a curve looks precise in its window and is not);
       ``projected_day`` is the first day the fitted line itself is above 0.

    Under iid noise rules 3+4 together require |t| >= max(5, sqrt(1.5 * (n - 2))), a one-sided
    chance of ~1e-4 at n = 14 per pair. (Autocorrelated noise can still look like a trend: a
    projection is a forecast, not a fact; `backtest` measures how often it was right.)

    Output columns (sorted by projected_from, <entity>, overtaken): as_of, metric, <entity> (the
    follower), overtaken (the leader), projected_from, projected_to, projected_day, window_days,
    first_day and last_day (the span of the points fitted), n_points, slope_diff (b, per day),
    t_stat, r2, gap (L - F on the latest common day). ``check_history=False`` skips rule 5 (for the
    benchmark's side-by-side baseline only).
    """
    as_of_ts = day(as_of)
    first = as_of_ts - pd.Timedelta(days=window_days - 1)
    out = _empty(entity)
    if metric in NOT_PROJECTED or metric not in df.columns:
        return out
    all_days = days(df["day"])
    in_window = ((all_days >= first) & (all_days <= as_of_ts)).to_numpy()
    min_n = max(PROJECTION_MIN_POINTS, math.ceil(window_days / 2))
    if all_days[in_window].nunique() < min_n or df[entity][in_window].nunique() < 2:
        return out  # rule 1 cannot hold: a pair has at most as many common points as the window has days
    d = df.loc[in_window, ["day", entity, metric]].assign(day=all_days[in_window].to_numpy())
    dd, names, x = wide(d, metric, entity)
    t = ((dd - as_of_ts) / pd.Timedelta(days=1)).to_numpy(dtype="float64")  # <= 0
    diff = x[:, :, None] - x[:, None, :]  # (T, N, N): F - L
    ok = ~np.isnan(diff)
    n = ok.sum(axis=0).astype("float64")
    tt, yy = np.where(ok, t[:, None, None], 0.0), np.where(ok, diff, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mt, my = tt.sum(0) / n, yy.sum(0) / n
        dt_, dy = np.where(ok, tt - mt, 0.0), np.where(ok, yy - my, 0.0)
        sxx, sxy, syy = (dt_ * dt_).sum(0), (dt_ * dy).sum(0), (dy * dy).sum(0)
        b = sxy / sxx
        a = my - b * mt  # the fitted difference at as_of (t = 0)
        ssr = np.maximum(syy - b * sxy, 0.0)
        s2 = ssr / (n - 2)
        se = np.sqrt(s2 / sxx)
        tstat = np.where(se > 0, b / se, np.where(b > 0, np.inf, 0.0))
        r2 = np.where(syy > 0, 1.0 - ssr / syy, 0.0)
        last_idx = np.where(ok, np.arange(len(t))[:, None, None], -1).max(axis=0)
        first_idx = np.where(ok, np.arange(len(t))[:, None, None], len(t)).min(axis=0)
        gap_now = np.take_along_axis(diff, np.maximum(last_idx, 0)[None], axis=0)[0]
    keep = (
        (n >= min_n)
        & (last_idx >= 0)
        & (gap_now < 0)
        & (b > 0)
        & (tstat >= PROJECTION_MIN_T)
        & (r2 >= PROJECTION_MIN_R2)
    )
    # the history check needs the days before the window too
    hist = df[["day", entity, metric]].copy()
    hist["day"] = days(hist["day"])
    hist = hist[(hist["day"] >= first - pd.Timedelta(days=max(HOLDOUT_DAYS, horizon_days))) & (hist["day"] <= as_of_ts)]
    hd, hnames, hx = wide(hist, metric, entity)
    ht = ((hd - as_of_ts) / pd.Timedelta(days=1)).to_numpy(dtype="float64")
    hcol = {nm: k for k, nm in enumerate(hnames)}
    jumps = membership_jumps(d, metric, quality, entity)
    jumped = {str(f) for f, _ in jumps}
    grid = np.arange(1, horizon_days + 1, dtype="float64")
    rows = []
    for i, j in zip(*np.nonzero(keep), strict=True):
        if names[i] in jumped or names[j] in jumped:
            continue
        fit = a[i, j] + b[i, j] * grid
        band = _band((a[i, j], b[i, j], s2[i, j], n[i, j], mt[i, j], sxx[i, j]), grid)
        err = 0.0
        for _ in range(3):  # the error at the range's far end widens the range, which moves its far end
            lower = np.flatnonzero(fit - band - err > 0)
            if not len(lower):
                break
            if not check_history:
                break
            e = _history_error(
                ht,
                hx[:, hcol[names[i]]] - hx[:, hcol[names[j]]],
                window_days,
                min_n,
                max(HOLDOUT_DAYS, int(grid[lower[0]])),
            )
            if e is None or PROJECTION_Z * e >= -gap_now[i, j]:
                lower = np.zeros(0, dtype=int)  # no history, or it missed by more than the gap: no claim
                break
            if PROJECTION_Z * e <= err:
                break
            err = PROJECTION_Z * e
        upper, centre = np.flatnonzero(fit + band + err > 0), np.flatnonzero(fit > 0)
        if not len(lower) or not len(centre):
            continue  # the range does not close within the horizon, or history does not bear it out
        rows.append(
            (
                names[i],
                names[j],
                grid[upper[0]],
                grid[lower[0]],
                grid[centre[0]],
                n[i, j],
                b[i, j],
                tstat[i, j],
                r2[i, j],
                -gap_now[i, j],
                dd[first_idx[i, j]],
                dd[last_idx[i, j]],
            )
        )
    if not rows:
        return out
    f, l_, lo, hi, mid, npts, slope, ts, rr, gap, d0, d1 = map(np.array, zip(*rows, strict=True))
    at = as_of_ts.to_datetime64()
    res = pd.DataFrame(
        {
            "as_of": pd.Series([as_of_ts] * len(f), dtype="datetime64[us]"),
            "metric": pd.Series([metric] * len(f), dtype="str"),
            entity: pd.Series(f, dtype="str"),
            "overtaken": pd.Series(l_, dtype="str"),
            "projected_from": (at + lo.astype("int64") * DAY).astype("datetime64[us]"),
            "projected_to": (at + hi.astype("int64") * DAY).astype("datetime64[us]"),
            "projected_day": (at + mid.astype("int64") * DAY).astype("datetime64[us]"),
            "window_days": np.full(len(f), window_days, dtype="int64"),
            "first_day": pd.Series(d0, dtype="datetime64[us]"),
            "last_day": pd.Series(d1, dtype="datetime64[us]"),
            "n_points": npts.astype("int64"),
            "slope_diff": slope.astype(float),
            "t_stat": ts.astype(float),
            "r2": rr.astype(float),
            "gap": gap.astype(float),
        }
    )
    return res.sort_values(["projected_from", entity, "overtaken"], kind="stable").reset_index(drop=True)


def backtest(
    df: pd.DataFrame,
    metric: str,
    as_of_days: list[Any],
    window_days: int = 28,
    horizon_days: int = 180,
    entity: str = "family",
    check_history: bool = True,
) -> pd.DataFrame:
    """Every projection made as of each of `as_of_days` from the data up to that day, checked against
    what the rest of `df` shows: actual_day is the first day after as_of on which the follower is
    ahead of the leader; hit is True when it falls within [projected_from, projected_to], False when
    it falls outside or the data pass projected_to without it, NA when the data end before either.
    Output: `projections` columns plus actual_day, hit."""
    d = df.assign(day=days(df["day"]))
    alldays, names, x = wide(d, metric, entity)
    col = {nm: k for k, nm in enumerate(names)}
    parts = []
    for as_of in as_of_days:
        p = projections(
            d[d["day"] <= day(as_of)], metric, as_of, window_days, horizon_days, entity, check_history=check_history
        )
        if p.empty:
            continue
        actual: list[pd.Timestamp | NaTType] = []
        hit: list[bool | NAType] = []
        rows = zip(p[entity], p["overtaken"], p["as_of"], p["projected_from"], p["projected_to"], strict=True)
        for who, whom, as_of_day, p_from, p_to in rows:
            fi, li = col[who], col[whom]
            later = (alldays > pd.Timestamp(as_of_day)) & (x[:, fi] > x[:, li])
            k = np.flatnonzero(later)
            a_day = alldays[k[0]] if len(k) else pd.NaT
            actual.append(a_day)
            if pd.notna(a_day):
                hit.append(bool(p_from <= a_day <= p_to))
            else:
                hit.append(False if alldays.max() > p_to else pd.NA)
        parts.append(
            p.assign(actual_day=pd.Series(actual, dtype="datetime64[us]"), hit=pd.Series(hit, dtype="boolean"))
        )
    if not parts:
        return _empty(entity).assign(actual_day=pd.Series(dtype="datetime64[us]"), hit=pd.Series(dtype="boolean"))
    return pd.concat(parts, ignore_index=True)
