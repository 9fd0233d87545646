"""The report's headlines: crossovers by the rule of `tracker.trends.crossovers`, each with a small
chart of the lead around its day, and the crossovers that are not news (reversed, membership only)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tracker.report.charts import date_axis, new_figure, rc_params, to_svg
from tracker.report.common import (
    METRIC_NAMES,
    Block,
    Chart,
    FamilyNames,
    ReportData,
    at_most,
    axis_tick,
    column,
    imported_from,
    in_week,
    iso_day,
    last_rows,
    metric_name,
    numbers,
    to_day,
    to_days,
)
from tracker.report.format import distinct

MAX_CHARTS = 6  # crossover charts per report
CHART_DAYS_BEFORE, CHART_DAYS_AFTER = 14, 7

RULE = (
    "How crossovers are counted: A overtakes B on a day on which A is ahead while on the last earlier "
    "snapshot on which the two differed A was behind (days on which they are level are skipped, never "
    "counted). A crossover undone within the next three snapshots is listed as reversed, not as a "
    "headline, and so is one that does not hold over the same models (recomputed with each family's "
    "change over the models present on both days, A would still be behind: models entering or leaving "
    'made it; a crossover in model counts is always of that kind). "On or before": a count was stale '
    "(not refreshed by the Hub) in between, so the crossing may have come earlier. Everything is as of "
    "the end of the week."
)


def _order(df: pd.DataFrame, entity: str) -> pd.DataFrame:
    order = {m: i for i, m in enumerate(METRIC_NAMES)}
    return df.assign(_o=df["metric"].map(lambda m: order.get(str(m), 99))).sort_values(
        ["day", "_o", entity, "overtaken"], kind="stable"
    )


def _when(r: pd.Series) -> str:
    on = "on or before" if bool(r.get("after_stale", False)) else "on"
    prev = r.get("previous_day")
    behind = f" (last behind on {iso_day(prev)})" if prev is not None and pd.notna(prev) else ""
    return f"{on} {iso_day(r['day'])}{behind}"


def _source(data: ReportData, r: pd.Series) -> str:
    a, b = imported_from(data, r["family"], r["day"]), imported_from(data, r["overtaken"], r["day"])
    if a is None and b is None:
        return ""
    n = [f"{int(x['models'])}" if x is not None else "all" for x in (a, b)]
    src = a if a is not None else b
    assert src is not None  # both None returned above
    run = src["run_id"]
    return f"; imported listing {run}: sums over {n[0]} and {n[1]} listed models"


def _week(df: pd.DataFrame, data: ReportData) -> pd.DataFrame:
    if column(df, "day") is None or not len(df):
        return pd.DataFrame(columns=["day", "metric", "overtaken"])
    return df[in_week(df["day"], data)]


def _flag(df: pd.DataFrame, col: str, default: bool) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), default)
    return df[col].astype("boolean").fillna(default).to_numpy(dtype=bool)


def headlines(data: ReportData, names: FamilyNames) -> list[Block]:
    out: list[Block] = [("h2", "Headlines")]
    fam = _week(data.crossovers, data)
    fam = _order(fam, "family") if len(fam) else fam
    is_head = _flag(fam, "headline", True)
    lines, others, charts = [], [], []
    for (_, r), head in zip(fam.iterrows(), is_head, strict=True):
        a, b = distinct(r.get("family_value"), r.get("overtaken_value"))
        what = (
            f"{names(r['family'])} overtook {names(r['overtaken'])} in {metric_name(r['metric'])} "
            f"{_when(r)}: {a} vs {b}{_source(data, r)}"
        )
        if head:
            lines.append(what)
            charts.append(("family", r))
        elif bool(r.get("reversed", False)):
            others.append(f"{what} — reversed on {iso_day(r.get('reversed_day'))}")
        else:
            others.append(f"{what} — membership change alone: over the same models it did not happen")
    mx = _week(data.model_crossovers, data)
    mx = _order(mx, "model_id") if len(mx) else mx
    is_head = _flag(mx, "headline", True)
    model_lines = []
    for (_, r), head in zip(mx.iterrows(), is_head, strict=True):
        a, b = distinct(r.get("model_id_value"), r.get("overtaken_value"))
        what = f"{r['model_id']} passed {r['overtaken']} in {metric_name(r['metric'])} {_when(r)}: {a} vs {b}"
        if head:
            model_lines.append(what)
            charts.append(("model", r))
        else:
            others.append(f"{what} — reversed on {iso_day(r.get('reversed_day'))}")
    out.append(
        ("ul", at_most(lines)) if lines else ("p", "No crossover this week: no family overtook another in any metric.")
    )
    out += (
        [("h3", "Leading models"), ("ul", at_most(model_lines))]
        if model_lines
        else [("p", "No model crossover among the leading models this week.")]
    )
    out += chart_blocks(data, names, charts)
    if others:
        out += [("h3", "Crossovers that are not headlines"), ("ul", at_most(others))]
    out.append(("note", RULE))
    return out


def _lead(
    data: ReportData, kind: str, r: pd.Series, read: dict[tuple[str, str], np.ndarray]
) -> tuple[pd.DatetimeIndex, np.ndarray] | None:
    """Days and the lead A - B around the crossover (up to the week's end): each side's last value of a day.

    ``read`` keeps the columns parsed for one chart (a kind's days and names, a metric's values) for the
    report's next charts.
    """
    src = data.family_daily if kind == "family" else data.model_daily
    ent = "family" if kind == "family" else "model_id"
    m = str(r["metric"])
    if column(src, m) is None or column(src, ent) is None:
        return None
    if (kind, "day") not in read:
        read[kind, "day"], read[kind, ent] = to_days(src["day"]).to_numpy(), src[ent].astype(str).to_numpy()
    if (kind, m) not in read:
        read[kind, m] = numbers(src[m])
    day = to_day(r["day"])
    lo = day - pd.Timedelta(days=CHART_DAYS_BEFORE)
    if pd.notna(r.get("previous_day")):
        lo = min(lo, to_day(r["previous_day"]))
    hi = min(day + pd.Timedelta(days=CHART_DAYS_AFTER), pd.Timestamp(data.week_end))
    idx = pd.date_range(lo, hi, freq="D")
    at, ents, values = idx.get_indexer(pd.DatetimeIndex(read[kind, "day"])), read[kind, ent], read[kind, m]

    def daily(who: str) -> np.ndarray:
        rows = last_rows(np.where((ents == who) & ~np.isnan(values), at, -1))
        out = np.full(len(idx), np.nan)
        out[at[rows]] = values[rows]
        return out

    lead = daily(str(r[ent])) - daily(str(r["overtaken"]))
    return (idx, lead) if np.isfinite(lead).any() else None


class _LeadCharts:
    """Draws a report's lead charts on one figure (a fixed layout: the small charts are many).

    The first chart builds the figure; each next one replaces the line's data, the crossover's day and
    the title, and autoscales as a new Axes would (`relim`: the same limits from the same lines), so the
    Axes, its ticks and their texts are made once per report, not once per chart. The figure lives as long
    as this object: nothing carries over to another report.
    """

    def __init__(self) -> None:
        self.fig: Any = None

    def svg(self, idx: pd.DatetimeIndex, lead: np.ndarray, r: pd.Series, who: str, whom: str) -> str:
        ok = np.isfinite(lead)
        values, day = np.where(ok, lead, np.nan), pd.Timestamp(r["day"])
        if self.fig is None:
            from matplotlib.ticker import FuncFormatter

            self.fig = new_figure(4.6, 2.6)
            self.fig.subplots_adjust(left=0.14, right=0.97, top=0.88, bottom=0.16)
            self.ax = self.fig.add_subplot()
            self.ax.axhline(0, color="#1d2433", lw=0.9)
            (self.line,) = self.ax.plot(idx, values, color="#1f77b4", lw=1.8, marker="o", ms=3)
            self.day = self.ax.axvline(day, color="#3b4252", lw=1, ls=":")
            self.ax.yaxis.set_major_formatter(FuncFormatter(axis_tick))
            date_axis(self.ax)
        else:
            self.line.set_data(idx, values)
            self.day.set_xdata([day, day])
            self.ax.relim()
            self.ax.autoscale_view()
        self.ax.set_title(f"{who} minus {whom}: {metric_name(r['metric'])}", fontsize=9.5)
        return to_svg(self.fig, layout=False)


def chart_blocks(data: ReportData, names: FamilyNames, picks: list[tuple[str, pd.Series]]) -> list[Block]:
    from matplotlib import rc_context

    out: list[Block] = []
    read: dict[tuple[str, str], np.ndarray] = {}
    charts = _LeadCharts()
    with rc_context(rc_params()):
        for k, (kind, r) in enumerate(picks[:MAX_CHARTS]):
            got = _lead(data, kind, r, read)
            if got is None:
                continue
            ent = "family" if kind == "family" else "model_id"
            who = names(r[ent]) if kind == "family" else str(r[ent])
            whom = names(r["overtaken"]) if kind == "family" else str(r["overtaken"])
            idx, lead = got
            svg = charts.svg(idx, lead, r, who, whom)
            cap = (
                f"Lead of {who} over {whom} in {metric_name(r['metric'])} ({who} \N{MINUS SIGN} {whom}, linear axis), "
                f"{iso_day(idx[0])} to {iso_day(idx[-1])}: above the zero line {who} is ahead. Dotted: "
                f"{iso_day(r['day'])}, the crossover. Gaps are days without a value for either."
            )
            out.append(Chart(f"crossover-{k + 1}", f"{who} vs {whom}", cap, svg))
    if len(picks) > MAX_CHARTS:
        out.append(("note", f"Charts for the first {MAX_CHARTS} of {len(picks)} headline crossovers."))
    return [("grid", None), *out, ("end", None)] if any(isinstance(b, Chart) for b in out) else out
