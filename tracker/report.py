"""Render a week's trends as Markdown and a self-contained HTML page with SVG charts.

This module only presents: it takes a `ReportData` (built from the warehouse by
the report job) and writes ``<week>.md`` / ``<week>.html``. It computes nothing
beyond what a reader needs to see (sorting, formatting, chart series).

- The HTML embeds every chart as inline SVG and its CSS inline: one file that
  opens offline, with no external fonts, scripts or images.
- The Markdown references the same charts as SVG files written beside it,
  ``<week>-<chart>.svg`` (a data URI would make the .md unreadable as text).
- matplotlib is imported inside the chart functions, so importing this module
  stays cheap; figures are built without pyplot (no global state, safe in the
  daemon's threads) on the Agg canvas and saved as SVG with text kept as text.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tracker.trends import human, pct

__all__ = ["METRIC_NAMES", "ReportData", "family_colors", "render"]

#: Display names, in the order the report shows the metrics.
METRIC_NAMES: dict[str, str] = {
    "downloads_30d": "30-day downloads",
    "downloads_week": "weekly downloads",
    "downloads_all_time": "all-time downloads",
    "likes": "likes",
    "derivatives": "derivatives",
    "models": "models",
}
RELATIONS = ("finetunes", "adapters", "quantizations", "merges")
ISSUES = {
    "stale": "stale days (values identical to the previous day: the Hub did not refresh)",
    "missing_day": "missing days (no snapshot; charts leave the gap empty)",
    "all_time_fell": "all-time downloads fell (a Hub data error; counted as 0 downloads)",
    "entered": "models entered the tracked set (config change or rename; no downloads added)",
    "left": "models left the tracked set",
    "new_model": "new models",
}
# tab10, the order matplotlib users know; a family keeps its colour in every chart.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
RELATION_COLORS = {"finetunes": "#4c72b0", "adapters": "#dd8452", "quantizations": "#55a868",
                   "merges": "#c44e52", "derivatives": "#8172b3"}  # fmt: skip
TOP = 10  # rows shown in the model tables
MAX_SENTENCES = 25  # headline sentences per list before "... and N more"


@dataclass
class ReportData:
    """Everything one weekly report shows; built by the report job from the warehouse views."""

    week: str  # "2026-W34"
    week_start: dt.date  # Monday
    week_end: dt.date  # Sunday
    generated_at: dt.datetime  # tz-aware UTC
    families: pd.DataFrame  # family, label, region, rule, color (optional)
    family_daily: pd.DataFrame  # day, family, label, region, metrics, downloads_day, source
    family_weekly: pd.DataFrame  # tracker.trends.weekly(family_daily)
    region_weekly: pd.DataFrame  # week, region, metric, value, share
    crossovers: pd.DataFrame  # day, metric, family, overtaken, family_value, overtaken_value, ...
    model_crossovers: pd.DataFrame  # day, metric, model_id, overtaken, model_id_value, ...
    projections: pd.DataFrame  # as_of, metric, family, overtaken, projected_day, window_days, ...
    projection_rule: str
    top_movers: pd.DataFrame  # model_id, family, downloads_week, downloads_30d, likes
    new_models: pd.DataFrame  # model_id, family, created_at, downloads_30d, likes
    quality: pd.DataFrame  # day, family, model_id, issue, detail
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- formatting


def _col(df: pd.DataFrame | None, name: str) -> pd.Series | None:
    return df[name] if df is not None and name in df.columns else None


def _num(s: Any) -> np.ndarray:
    return pd.to_numeric(pd.Series(s), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _days(s: Any) -> pd.Series:
    """Dates/timestamps/strings to tz-naive midnight timestamps (NaT when unparseable)."""
    s = pd.Series(s)
    fmt = "ISO8601" if pd.api.types.is_string_dtype(s) or s.dtype == object else None
    try:
        out = pd.to_datetime(s, errors="coerce", format=fmt)
    except (TypeError, ValueError):  # mixed tz-aware values
        out = pd.to_datetime(s, errors="coerce", utc=True)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    return out.dt.normalize()


def _iso(x: Any) -> str:
    return "n/a" if x is None or pd.isna(x) else pd.Timestamp(x).strftime("%Y-%m-%d")


def _signed(x: Any) -> str:
    """Absolute change: "+7.0M", "-700.0k", "0"; "n/a" when unknown."""
    v = _num([x])[0]
    if np.isnan(v):
        return "n/a"
    return "0" if v == 0 else ("+" if v > 0 else "") + human(v)


def _share(x: Any) -> str:
    v = _num([x])[0]
    return "n/a" if np.isnan(v) else f"{v * 100:.1f}%"


def _tick(x: float, _pos: Any = None) -> str:
    return re.sub(r"\.0(?=[kMB]?$)", "", human(x))  # "1.0M" -> "1M" on axes


def _metric(m: Any) -> str:
    return METRIC_NAMES.get(str(m), str(m).replace("_", " "))


class _Names:
    """Family labels, rules and regions, whichever frames know them."""

    def __init__(self, data: ReportData) -> None:
        self.label: dict[str, str] = {}
        self.order: list[str] = []
        for df in (data.family_weekly, data.family_daily, data.families):
            fam, lab = _col(df, "family"), _col(df, "label")
            if fam is None:
                continue
            df = df[[c for c in ("family", "label") if c in df.columns]].drop_duplicates()
            fam, lab = df["family"], _col(df, "label")
            for f, lbl in zip(fam, lab if lab is not None else [None] * len(fam), strict=True):
                if pd.notna(f) and (pd.notna(lbl) or str(f) not in self.label):
                    self.label[str(f)] = str(lbl) if pd.notna(lbl) else str(f)
        fams = _col(data.families, "family")
        known = [str(f) for f in (fams if fams is not None else []) if pd.notna(f)]
        others = sorted(set(self.label) - set(known))
        self.order = list(dict.fromkeys(known + others))

    def __call__(self, family: Any) -> str:
        return self.label.get(str(family), str(family))


def family_colors(data: ReportData) -> dict[str, str]:
    """family -> hex colour: ``families.color`` when it is a valid colour, else the palette in order."""
    from matplotlib.colors import is_color_like, to_hex

    names = _Names(data)
    given: dict[str, Any] = {}
    if _col(data.families, "color") is not None:
        given = dict(zip(data.families["family"].astype(str), data.families["color"], strict=True))
    out: dict[str, str] = {}
    free = [c for c in PALETTE if c not in {str(v).lower() for v in given.values() if pd.notna(v)}]
    for i, fam in enumerate(names.order):
        c = given.get(fam)
        if c is not None and pd.notna(c) and is_color_like(c):
            out[fam] = to_hex(c)
        else:
            out[fam] = (free or list(PALETTE))[i % len(free or PALETTE)]
    return out


# --------------------------------------------------------------------------- document model
# A report is a list of blocks rendered twice, to Markdown and to HTML, so both say the same.


@dataclass
class _Table:
    headers: list[str]
    align: str  # one "l" or "r" per column
    rows: list[list[str]]


@dataclass
class _Chart:
    slug: str
    title: str
    caption: str
    svg: str


Block = tuple[str, Any]  # ("h1"|"h2"|"h3"|"p"|"note"|"ul"|"grid"|"end", payload) | _Table | _Chart


def _in_week(days: pd.Series, data: ReportData) -> np.ndarray:
    d = _days(days)
    lo, hi = pd.Timestamp(data.week_start), pd.Timestamp(data.week_end)
    return ((d >= lo) & (d <= hi)).fillna(False).to_numpy(dtype=bool)


def _more(items: list[str], limit: int = MAX_SENTENCES) -> list[str]:
    return items if len(items) <= limit else [*items[:limit], f"... and {len(items) - limit} more"]


def _headlines(data: ReportData, names: _Names) -> list[Block]:
    out: list[Block] = [("h2", "Headlines")]
    order = {m: i for i, m in enumerate(METRIC_NAMES)}
    cx = data.crossovers
    fam_lines: list[str] = []
    if _col(cx, "day") is not None and len(cx):
        week = cx[_in_week(cx["day"], data)].copy()
        week["_o"] = week["metric"].map(lambda m: order.get(str(m), 99))
        for _, r in week.sort_values(["day", "_o", "family", "overtaken"], kind="stable").iterrows():
            fam_lines.append(
                f"{names(r['family'])} overtook {names(r['overtaken'])} in {_metric(r['metric'])} "
                f"on {_iso(r['day'])} ({human(r.get('family_value'))} vs "
                f"{human(r.get('overtaken_value'))})"
            )
    mx = data.model_crossovers
    model_lines: list[str] = []
    if _col(mx, "day") is not None and len(mx):
        week = mx[_in_week(mx["day"], data)].copy()
        week["_o"] = week["metric"].map(lambda m: order.get(str(m), 99))
        for _, r in week.sort_values(["day", "_o", "model_id"], kind="stable").iterrows():
            model_lines.append(
                f"{r['model_id']} passed {r['overtaken']} in {_metric(r['metric'])} on "
                f"{_iso(r['day'])} ({human(r.get('model_id_value'))} vs "
                f"{human(r.get('overtaken_value'))})"
            )
    if fam_lines:
        out.append(("ul", _more(fam_lines)))
    else:
        out.append(("p", "No crossover this week: no family overtook another in any metric."))
    if model_lines:
        out += [("h3", "Models"), ("ul", _more(model_lines))]
    else:
        out.append(("p", "No model crossover among the leading models this week."))

    out.append(("h3", "How families are counted"))
    fams = data.families
    rules = []
    for fam in names.order:
        row = fams[fams["family"].astype(str) == fam] if _col(fams, "family") is not None else None
        rule = row["rule"].iloc[0] if row is not None and len(row) and "rule" in row else None
        region = row["region"].iloc[0] if row is not None and len(row) and "region" in row else None
        where = f" ({region})" if region is not None and pd.notna(region) else ""
        rule = rule if rule is not None and pd.notna(rule) else "rule not recorded"
        rules.append(f"{names(fam)}{where}: {rule}")
    out.append(("ul", rules) if rules else ("p", "No families are configured."))
    return out


def _family_tables(data: ReportData, names: _Names) -> list[Block]:
    out: list[Block] = [("h2", "Families this week"), ("grid", None)]
    fw = data.family_weekly
    rows = fw[fw["week"].astype(str) == data.week] if _col(fw, "week") is not None else fw.iloc[0:0]
    shown = 0
    for m in METRIC_NAMES:
        if m not in fw.columns:
            continue
        vals = _num(rows[m]) if len(rows) else np.array([])
        if not len(vals) or np.isnan(vals).all():
            continue
        t = rows.assign(_v=vals).sort_values("_v", ascending=False, na_position="last", kind="stable")
        body = []
        partial = False
        for _, r in t.iterrows():
            lab = names(r["family"])
            days = r.get("downloads_week_days") if m == "downloads_week" else None
            if days is not None and pd.notna(days) and int(days) < 7 and pd.notna(r[m]):
                lab, partial = f"{lab} *", True
            body.append([lab, human(r[m]), _signed(r.get(f"{m}_wow")),
                         pct(r.get(f"{m}_wow_pct")), _share(r.get(f"{m}_share"))])  # fmt: skip
        out += [("h3", _metric(m).capitalize()),
                _Table(["Family", "Week end" if m != "downloads_week" else "Week",
                        "Change", "Change %", "Share"], "lrrrr", body)]  # fmt: skip
        if partial:
            out.append(("note", "* partial week: fewer than 7 days with downloads known."))
        shown += 1
    out.append(("end", None))
    if not shown:
        out = [("h2", "Families this week"), ("p", f"No family data for {data.week}.")]

    rw = data.region_weekly
    if _col(rw, "region") is not None and len(rw):
        rw = rw[rw["week"].astype(str) == data.week] if "week" in rw.columns else rw
        metrics = [m for m in METRIC_NAMES if m in set(rw["metric"].astype(str))]
        if len(rw) and metrics:
            first = rw[rw["metric"].astype(str) == metrics[0]].assign(_v=lambda d: _num(d["value"]))
            regions = list(first.sort_values("_v", ascending=False, kind="stable")["region"].astype(str))
            regions += sorted(set(rw["region"].astype(str)) - set(regions))
            body = []
            for reg in regions:
                cells = [reg]
                for m in metrics:
                    hit = rw[(rw["region"].astype(str) == reg) & (rw["metric"].astype(str) == m)]
                    cells.append(f"{_share(hit['share'].iloc[0])} ({human(hit['value'].iloc[0])})"
                                 if len(hit) else "n/a")  # fmt: skip
                body.append(cells)
            out += [("h3", "Region shares"),
                    _Table(["Region", *[_metric(m).capitalize() for m in metrics]],
                           "l" + "r" * len(metrics), body),
                    ("note", "Share of the tracked total per region, with the value in brackets.")]  # fmt: skip
    return out


def _models(data: ReportData, names: _Names) -> list[Block]:
    out: list[Block] = [("h2", "Top movers")]
    tm = data.top_movers
    if _col(tm, "model_id") is not None and len(tm):
        t = tm.assign(_v=_num(tm["downloads_week"]) if "downloads_week" in tm else np.nan)
        t = t.sort_values("_v", ascending=False, na_position="last", kind="stable")
        body = [[str(r["model_id"]), names(r.get("family")), _signed(r.get("downloads_week")),
                 human(r.get("downloads_30d")), human(r.get("likes"))]
                for _, r in t.head(TOP).iterrows()]  # fmt: skip
        out.append(_Table(["Model", "Family", "Downloads this week", "30-day downloads", "Likes"],
                          "llrrr", body))  # fmt: skip
    else:
        out.append(("p", "No model downloads were recorded this week."))

    out.append(("h2", "New models"))
    nm = data.new_models
    if _col(nm, "model_id") is not None and len(nm):
        t = nm.assign(_v=_num(nm["downloads_30d"]) if "downloads_30d" in nm else np.nan)
        t = t.sort_values("_v", ascending=False, na_position="last", kind="stable")
        body = [[str(r["model_id"]), names(r.get("family")), _iso(_days([r.get("created_at")]).iloc[0]),
                 human(r.get("downloads_30d")), human(r.get("likes"))]
                for _, r in t.head(TOP).iterrows()]  # fmt: skip
        out.append(_Table(["Model", "Family", "Created", "30-day downloads", "Likes"], "llrrr", body))
        if len(nm) > TOP:
            out.append(("note", f"{len(nm)} new models in all; the {TOP} most downloaded are shown."))
    else:
        out.append(("p", "No new models in the tracked families this week."))

    out.append(("h2", "Projected crossovers"))
    pj = data.projections
    if _col(pj, "projected_day") is not None and len(pj):
        ent = "family" if "family" in pj.columns else ("model_id" if "model_id" in pj else None)
        lines = []
        for _, r in pj.sort_values("projected_day", kind="stable").iterrows():
            who = names(r[ent]) if ent == "family" else str(r.get(ent))
            whom = names(r["overtaken"]) if ent == "family" else str(r.get("overtaken"))
            window = r.get("window_days")
            wtxt = f"{int(window)} days" if window is not None and pd.notna(window) else "recent days"
            lines.append(f"{who} is projected to overtake {whom} in {_metric(r['metric'])} "
                         f"around {_iso(r['projected_day'])} (linear trend of the {wtxt} to "
                         f"{_iso(r.get('as_of'))})")  # fmt: skip
        out.append(("ul", _more(lines)))
    else:
        out.append(("p", "None projected."))
    if data.projection_rule:
        out.append(("note", f"Rule: {data.projection_rule}"))
    return out


def _quality(data: ReportData, names: _Names) -> list[Block]:
    out: list[Block] = [("h2", "Data quality")]
    q = data.quality
    if _col(q, "issue") is None or not len(q):
        out.append(("p", "No data-quality issues were flagged for this week."))
    else:
        q = q.assign(_day=_days(q["day"]) if "day" in q else pd.NaT,
                     _fam=q["family"].map(names) if "family" in q else "",
                     _o=q["issue"].map(lambda i: list(ISSUES).index(i) if i in ISSUES else 99))  # fmt: skip
        body = []
        for (fam, _o, issue), g in q.groupby(["_fam", "_o", "issue"], sort=True):
            g = g.sort_values("_day", kind="stable")
            days = f"{_iso(g['_day'].min())} to {_iso(g['_day'].max())}"
            if g["_day"].min() == g["_day"].max():
                days = _iso(g["_day"].min())
            ex = []
            for _, r in g.head(3).iterrows():
                mid = r.get("model_id")
                who = f"{mid} " if mid is not None and pd.notna(mid) else ""
                ex.append(f"{who}{_iso(r['_day'])}: {r.get('detail', '')}")
            body.append([str(fam), ISSUES.get(str(issue), str(issue)), str(len(g)), days,
                         "; ".join(ex) + ("; ..." if len(g) > 3 else "")])  # fmt: skip
        out.append(("note", "Read the charts with these in mind: an artefact is not a trend."))
        out.append(_Table(["Family", "Issue", "Count", "Days", "Examples"], "llrll", body))
    out.append(("h2", "Notes"))
    out.append(("ul", list(data.notes)) if data.notes else ("p", "No notes."))
    return out


# --------------------------------------------------------------------------- charts


def _rc() -> dict[str, Any]:
    return {
        "svg.fonttype": "none",  # text stays text: small, searchable, sharp
        "svg.hashsalt": "hub-tracker",  # stable ids, so reruns give identical files
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#e6e8ee",
        "grid.linewidth": 0.8,
        "axes.edgecolor": "#9aa1b1",
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "legend.fontsize": 8,
        "legend.frameon": False,
    }


def _figure(width: float = 6.4, height: float = 3.9) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Type": None,
                                             "Format": None})  # fmt: skip
    text = buf.getvalue()
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)


def _inline(svg: str, slug: str) -> str:
    """SVG text for embedding in HTML: no prolog, ids prefixed so charts cannot clash."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{slug}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{slug}-\1)", svg)
    return re.sub(r'href="#([^"]+)"', rf'href="#{slug}-\1"', svg)


def _date_axis(ax: Any) -> None:
    import matplotlib.dates as mdates

    loc = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))


def _value_axis(ax: Any, values: np.ndarray) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    pos = values[np.isfinite(values) & (values > 0)]
    if len(pos) and pos.max() / pos.min() > 100:  # families a hundredfold apart: log scale
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(_tick))


def _wide(
    df: pd.DataFrame, x: str, value: str, families: list[str]
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """Rows -> (x index with every step, values[x, family] NaN when absent, alt[x, family]).

    ``alt`` marks backfilled/imported points. Absent days become NaN so lines break at gaps.
    """
    d = pd.DataFrame({"x": _days(df[x]), "family": df["family"].astype(str), "v": _num(df[value])})
    src = _col(df, "source")
    d["alt"] = (src.astype(str).isin(["backfill", "import"]).to_numpy(dtype=bool)
                if src is not None else False)  # fmt: skip
    d = d[d["x"].notna()]
    step = "7D" if x == "week_start" else "D"
    if d.empty:
        return pd.DatetimeIndex([]), np.zeros((0, len(families))), np.zeros((0, len(families)), bool)
    idx = pd.date_range(d["x"].min(), d["x"].max(), freq=step)
    d = d.drop_duplicates(["x", "family"], keep="last")
    v = d.pivot(index="x", columns="family", values="v").reindex(index=idx, columns=families)
    a = d.pivot(index="x", columns="family", values="alt").reindex(index=idx, columns=families)
    return idx, v.to_numpy(dtype="float64", na_value=np.nan), a.fillna(False).to_numpy(dtype=bool)


def _ranked(v: np.ndarray) -> list[int]:
    """Column order for plotting and the legend: by each family's latest value, largest first."""
    last = [(-col[np.isfinite(col)][-1] if np.isfinite(col).any() else np.inf) for col in v.T]
    return sorted(range(v.shape[1]), key=lambda j: (last[j], j))


def _line(ax: Any, x: Any, y: np.ndarray, alt: np.ndarray, color: str, label: str) -> None:
    """One family's line: solid for snapshots, dashed and lighter for backfill/import; NaN breaks it."""
    ok = np.isfinite(y)
    prev_alt = np.r_[False, alt[:-1]]
    next_alt = np.r_[alt[1:], False]
    solid = np.where(ok & ~alt, y, np.nan)
    dashed = np.where(ok & (alt | prev_alt | next_alt), y, np.nan)  # joins the solid part
    ax.plot(x, solid, color=color, lw=2.0, label=label, solid_capstyle="round")
    if np.isfinite(dashed).any():
        ax.plot(x, dashed, color=color, lw=1.6, ls=(0, (4, 2)), alpha=0.55)
    prev_ok, next_ok = np.r_[False, ok[:-1]], np.r_[ok[1:], False]
    lone = ok & ~prev_ok & ~next_ok  # a point between gaps would otherwise be invisible
    if lone.any():
        ax.plot(np.asarray(x)[lone], y[lone], "o", color=color, ms=3.5, alpha=0.55 if alt[lone].all() else 1)


def _mark_crossovers(ax: Any, data: ReportData, metrics: Iterable[str], names: _Names,
                     colors: dict[str, str], y_of: Any = None, x_of: Any = None) -> bool:  # fmt: skip
    """Dotted line + label for the week's crossovers, a diamond on the line for each crossover.

    ``y_of(row)`` / ``x_of(row)`` place the diamond on the chart's series (default: the
    crossover's own value and day).
    """
    from matplotlib.transforms import blended_transform_factory

    cx = data.crossovers
    if _col(cx, "day") is None or not len(cx):
        return False
    cx = cx[cx["metric"].astype(str).isin(list(metrics))]
    if cx.empty:
        return False
    cx = cx.assign(_day=_days(cx["day"])).sort_values("_day", kind="stable")
    week = _in_week(cx["day"], data)
    import matplotlib.dates as mdates

    trans = blended_transform_factory(ax.transData, ax.transAxes)
    lo, hi = ax.get_xlim()
    for k, (day, g) in enumerate(cx[week].groupby("_day", sort=True)):
        right = mdates.date2num(day) > lo + 0.6 * (hi - lo)  # label on the side with room
        ax.axvline(day, color="#3b4252", lw=1, ls=":", zorder=1)
        text = "\n".join(f"{names(r['family'])} > {names(r['overtaken'])}" for _, r in g.head(3).iterrows())
        if len(g) > 3:
            text += f"\n+{len(g) - 3} more"
        ax.text(day, 0.98 - 0.14 * (k % 3), f" {text} ", transform=trans, va="top",
                ha="right" if right else "left",
                fontsize=7.5, color="#3b4252", zorder=5,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8})  # fmt: skip
    marks = cx if y_of is not None else cx[week]
    marks = marks.tail(40)
    for _, r in marks.iterrows():
        y = y_of(r) if y_of is not None else r.get("family_value")
        if y is not None and np.isfinite(y):
            ax.plot([x_of(r) if x_of is not None else r["_day"]], [y], marker="D", ms=5, color=colors.get(str(r["family"]), "#333"),
                    mec="#1d2433", mew=0.8, zorder=6)  # fmt: skip
    return True


def _legend(ax: Any, backfill: bool, crossover: bool, partial: bool = False) -> None:
    from matplotlib.lines import Line2D

    handles, labels = ax.get_legend_handles_labels()
    if backfill:
        handles.append(Line2D([], [], color="#777", lw=1.6, ls=(0, (4, 2)), alpha=0.7))
        labels.append("dashed: backfilled / imported")
    if crossover:
        handles.append(Line2D([], [], marker="D", ls="", color="#bbb", mec="#1d2433", ms=5))
        labels.append("crossover (dotted: this week)")
    if partial:
        handles.append(Line2D([], [], marker="o", ls="", mfc="white", mec="#555", ms=5))
        labels.append("open: partial week")
    if handles:  # below the plot, so the plot keeps the figure's full width
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.1),
                  ncol=min(3, len(handles)), columnspacing=1.2, handlelength=2.2)  # fmt: skip


def _shade_week(ax: Any, data: ReportData, centre: bool = False) -> None:
    """Shade the report's week; ``centre`` for weekly points plotted on their Monday."""
    lo = pd.Timestamp(data.week_start) - pd.Timedelta(hours=84 if centre else 0)
    ax.axvspan(lo, lo + pd.Timedelta(days=7), color="#f1f3f8", zorder=0, lw=0)


def _series_chart(data: ReportData, names: _Names, colors: dict[str, str], metric: str,
                  title: str, share: bool = False) -> str | None:  # fmt: skip
    fd = data.family_daily
    if _col(fd, metric) is None or _col(fd, "day") is None or not len(fd):
        return None
    fams = [f for f in names.order if f in set(fd["family"].astype(str))]
    idx, v, alt = _wide(fd, "day", metric, fams)
    if not np.isfinite(v).any():
        return None
    if share:
        ok = np.isfinite(v)
        first = np.where(ok.any(0), ok.argmax(0), len(idx))
        last = np.where(ok.any(0), len(idx) - 1 - ok[::-1].argmax(0), -1)
        rows = np.arange(len(idx))[:, None]
        expected = (rows >= first) & (rows <= last)
        # a day missing a family that is tracked around it would inflate the others' shares
        complete = (ok | ~expected).all(1) & ok.any(1)
        total = np.where(ok, v, 0.0).sum(1)
        keep = complete[:, None] & ok & (total[:, None] > 0)
        v = np.where(keep, v / np.where(total > 0, total, 1)[:, None], np.nan)
    fig = _figure()
    ax = fig.add_subplot()
    _shade_week(ax, data)
    for j in _ranked(v):
        fam = fams[j]
        label = names(fam) + ("" if np.isfinite(v[:, j]).any() else " (no data)")
        _line(ax, idx, v[:, j], alt[:, j], colors[fam], label)
    if share:
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylim(bottom=0)
        marked = _mark_crossovers(ax, data, [metric], names, colors, y_of=lambda r: _share_at(r, idx, v, fams))
    else:
        _value_axis(ax, v)
        marked = _mark_crossovers(ax, data, [metric], names, colors,
                                  y_of=lambda r: _num([r["family_value"]])[0])  # fmt: skip
    _date_axis(ax)
    ax.set_title(title)
    _legend(ax, bool((alt & np.isfinite(v)).any()), marked)
    return _svg(fig)


def _share_at(r: pd.Series, idx: pd.DatetimeIndex, v: np.ndarray, fams: list[str]) -> float:
    fam = str(r["family"])
    if fam not in fams or r["_day"] not in idx:
        return np.nan
    return float(v[idx.get_loc(r["_day"]), fams.index(fam)])


def _weekly_frame(data: ReportData) -> pd.DataFrame | None:
    """week_start, family, downloads_week, days, source: from family_weekly, else summed downloads_day."""
    fw, fd = data.family_weekly, data.family_daily
    alt = None
    if _col(fd, "day") is not None and len(fd):
        d = _days(fd["day"])
        wk = d - pd.to_timedelta(d.dt.day_of_week, unit="D")
        src = _col(fd, "source")
        isalt = (src.astype(str).isin(["backfill", "import"]) if src is not None
                 else pd.Series(False, index=fd.index))  # fmt: skip
        alt = (isalt.groupby([wk.rename("week_start"), fd["family"].astype(str).rename("family")]).any()
               .rename("alt").reset_index())  # fmt: skip
    if _col(fw, "downloads_week") is not None and _col(fw, "week_start") is not None and len(fw):
        out = pd.DataFrame({"week_start": _days(fw["week_start"]), "family": fw["family"].astype(str),
                            "downloads_week": _num(fw["downloads_week"]),
                            "days": (_num(fw["downloads_week_days"])
                                     if "downloads_week_days" in fw else 7.0)})  # fmt: skip
    elif _col(fd, "downloads_day") is not None and len(fd):
        d = _days(fd["day"])
        g = pd.DataFrame({"week_start": d - pd.to_timedelta(d.dt.day_of_week, unit="D"),
                          "family": fd["family"].astype(str), "v": _num(fd["downloads_day"])})  # fmt: skip
        agg = g.groupby(["week_start", "family"])["v"]
        out = pd.concat([agg.sum(min_count=1).rename("downloads_week"), agg.count().rename("days")],
                        axis=1).reset_index()  # fmt: skip
    else:
        return None
    out = out[out["week_start"] <= pd.Timestamp(data.week_start)]
    if alt is not None:
        out = out.merge(alt, on=["week_start", "family"], how="left")
        out["source"] = np.where(out["alt"].fillna(False).astype(bool), "backfill", "snapshot")
    return out


def _weekly_chart(data: ReportData, names: _Names, colors: dict[str, str]) -> str | None:
    wf = _weekly_frame(data)
    if wf is None or not np.isfinite(wf["downloads_week"].to_numpy(dtype=float)).any():
        return None
    fams = [f for f in names.order if f in set(wf["family"])]
    idx, v, alt = _wide(wf, "week_start", "downloads_week", fams)
    _, days, _ = _wide(wf.assign(downloads_week=wf["days"]), "week_start", "downloads_week", fams)
    fig = _figure()
    ax = fig.add_subplot()
    _shade_week(ax, data, centre=True)
    partial = np.isfinite(v) & (days < 7)
    dots = len(idx) <= 16  # a dot per week reads well for a few months, clutters a year
    for j in _ranked(v):
        fam = fams[j]
        label = names(fam) + ("" if np.isfinite(v[:, j]).any() else " (no data)")
        _line(ax, idx, v[:, j], alt[:, j], colors[fam], label)
        full = np.isfinite(v[:, j]) & ~partial[:, j]
        if dots:
            ax.plot(idx[full], v[full, j], "o", color=colors[fam], ms=3.5)
        if partial[:, j].any():
            ax.plot(idx[partial[:, j]], v[partial[:, j], j], "o", mfc="white", mec=colors[fam], ms=5, mew=1.4)
    _value_axis(ax, v)
    lookup = {(t, f): v[i, j] for i, t in enumerate(idx) for j, f in enumerate(fams)}

    def monday(r: pd.Series) -> pd.Timestamp:
        return r["_day"] - pd.Timedelta(days=r["_day"].day_of_week)

    def y_of(r: pd.Series) -> float:  # a daily (trailing-week) crossover sits on its week's point
        return lookup.get((monday(r), str(r["family"])), np.nan)

    marked = _mark_crossovers(ax, data, ["downloads_week"], names, colors, y_of=y_of, x_of=monday)
    _date_axis(ax)
    ax.set_title("Weekly downloads per family (week starting)")
    _legend(ax, bool((alt & np.isfinite(v)).any()), marked, bool(partial.any()))
    return _svg(fig)


def _derivatives_chart(data: ReportData, names: _Names, colors: dict[str, str]) -> tuple[str, str] | None:
    fd = data.family_daily
    rels = [r for r in RELATIONS if _col(fd, r) is not None]
    if not rels and _col(fd, "derivatives") is not None:
        rels = ["derivatives"]
    if not rels or _col(fd, "day") is None or not len(fd):
        return None
    d = fd.assign(_day=_days(fd["day"]), _fam=fd["family"].astype(str))
    d = d[d["_day"] <= pd.Timestamp(data.week_end)]
    vals = np.column_stack([_num(d[r]) for r in rels])
    d = d[np.isfinite(vals).any(1)]
    if d.empty:
        return None
    latest = d.sort_values("_day", kind="stable").groupby("_fam").tail(1)
    rels = [r for r in rels if np.isfinite(_num(latest[r])).any()]  # no empty legend entries
    latest = latest.assign(_total=np.nansum(np.column_stack([_num(latest[r]) for r in rels]), 1))
    latest = latest.sort_values("_total", kind="stable")  # largest at the top of a barh chart
    fig = _figure(height=max(2.4, 1.3 + 0.42 * len(latest)))
    ax = fig.add_subplot()
    ax.grid(axis="y", visible=False)
    ax.set_axisbelow(True)
    y = np.arange(len(latest))
    left = np.zeros(len(latest))
    for r in rels:
        w = np.nan_to_num(_num(latest[r]), nan=0.0)
        ax.barh(y, w, left=left, color=RELATION_COLORS[r], label=r, height=0.62)
        left += w
    for yi, tot in zip(y, latest["_total"], strict=True):
        ax.text(tot, yi, " " + human(tot), va="center", fontsize=8, color="#1d2433")
    ax.set_yticks(y, [names(f) for f in latest["_fam"]])
    for tick, fam in zip(ax.get_yticklabels(), latest["_fam"], strict=True):
        tick.set_color(colors.get(fam, "#1d2433"))
        tick.set_fontweight("bold")
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(_tick))
    ax.set_xlim(0, max(1.0, float(left.max()) * 1.12))
    ax.set_title("Derivatives by relation")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(rels))
    days = sorted({_iso(x) for x in latest["_day"]})
    when = f"as of {days[0]}" if len(days) == 1 else f"latest day per family ({days[0]} to {days[-1]})"
    return _svg(fig), when


def _charts(data: ReportData, names: _Names) -> list[Block]:
    from matplotlib import rc_context

    colors = family_colors(data)

    def derivatives() -> tuple[str, str] | None:
        der = _derivatives_chart(data, names, colors)
        return der and (der[0], f"Derivative models by relation, {der[1]}.")

    # slug, title, what is missing when it cannot be drawn, draw() -> (svg, caption) | None
    specs = [
        ("downloads-30d", "30-day downloads per family", "30-day downloads",
         lambda: _captioned(_series_chart(data, names, colors, "downloads_30d",
                                          "30-day downloads per family"),
                            "Each family's 30-day downloads (the rolling count the Hub reports); "
                            "the shaded band is this week.")),
        ("downloads-week", "Weekly downloads per family", "weekly downloads",
         lambda: _captioned(_weekly_chart(data, names, colors),
                            "Downloads per ISO week, exact from all-time counts.")),
        ("derivatives", "Derivatives by relation", "derivatives (no tree data yet)", derivatives),
        ("share", "Share of tracked 30-day downloads", "share of the tracked total",
         lambda: _captioned(_series_chart(data, names, colors, "downloads_30d",
                                          "Share of tracked 30-day downloads", share=True),
                            "Each family's share of the tracked families' 30-day downloads; "
                            "days missing a family are left out.")),
    ]  # fmt: skip
    out: list[Block] = [("h2", "Charts"), ("grid", None)]
    missing = []
    with rc_context(_rc()):
        for slug, title, lack, draw in specs:
            got = draw()
            if got:
                out.append(_Chart(slug, title, got[1], got[0]))
            else:
                missing.append(lack)
    out.append(("end", None))
    if missing:
        out.append(("note", "No data to chart: " + ", ".join(missing) + "."))
    return out


def _captioned(svg: str | None, caption: str) -> tuple[str, str] | None:
    return (svg, caption) if svg else None


# --------------------------------------------------------------------------- writers


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _markdown(blocks: list[Any], week: str) -> str:
    lines: list[str] = []
    for b in blocks:
        if isinstance(b, _Table):
            lines.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
            lines.append("|" + "|".join("---:" if a == "r" else "---" for a in b.align) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
            lines.append("")
        elif isinstance(b, _Chart):
            lines += [f"![{b.title}]({week}-{b.slug}.svg)", "", f"*{b.caption}*", ""]
        else:
            kind, payload = b
            if kind in ("h1", "h2", "h3"):
                lines += ["#" * int(kind[1]) + " " + payload, ""]
            elif kind == "p":
                lines += [payload, ""]
            elif kind == "note":
                lines += [f"*{payload}*", ""]
            elif kind == "ul":
                lines += [f"- {item}" for item in payload] + [""]
    return "\n".join(lines).rstrip() + "\n"


CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d2433;
 background:#fff;margin:0 auto;max-width:1240px;padding:20px 28px 40px}
h1{font-size:26px;margin:0 0 2px}.sub{color:#5b6478;margin:0 0 8px}
h2{font-size:19px;border-bottom:1px solid #e3e6ee;padding-bottom:4px;margin:26px 0 10px}
h3{font-size:15px;margin:14px 0 6px}
ul{margin:6px 0;padding-left:22px}li{margin:2px 0}
.headlines li{font-size:16px;font-weight:500}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(540px,1fr));gap:14px 26px;align-items:start}
.grid>h3{grid-column:1/-1}
figure{margin:0;border:1px solid #e3e6ee;border-radius:6px;padding:8px 10px 6px}
figcaption{color:#5b6478;font-size:12.5px;margin-top:2px}
figure svg{width:100%;height:auto;display:block}
table{border-collapse:collapse;font-size:13.5px;width:100%;margin:4px 0 8px}
th,td{padding:4px 8px;border-bottom:1px solid #eceef3;text-align:left;vertical-align:top}
th{background:#f6f7fa;font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.pos{color:#1a7f37}td.neg{color:#b42318}
.note{color:#5b6478;font-size:13px;margin:4px 0 10px}
section.card{min-width:0}
"""


def _html(blocks: list[Any], title: str) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width,initial-scale=1">',
             f"<title>{e(title)}</title><style>{CSS}</style></head><body>"]  # fmt: skip
    in_grid = False
    card_open = False
    prev_heading = ""
    for b in blocks:
        if isinstance(b, _Table):
            parts.append("<table><thead><tr>" + "".join(
                f'<th class="num">{e(h)}</th>' if a == "r" else f"<th>{e(h)}</th>"
                for h, a in zip(b.headers, b.align, strict=True)) + "</tr></thead><tbody>")  # fmt: skip
            for row in b.rows:
                cells = []
                for c, a in zip(row, b.align, strict=True):
                    cls = ["num"] if a == "r" else []
                    if a == "r" and c[:1] in "+-" and c[1:2].isdigit():
                        cls.append("pos" if c[0] == "+" else "neg")
                    cells.append(f'<td class="{" ".join(cls)}">{e(c)}</td>' if cls else f"<td>{e(c)}</td>")
                parts.append("<tr>" + "".join(cells) + "</tr>")
            parts.append("</tbody></table>")
            continue
        if isinstance(b, _Chart):
            parts.append(f'<figure id="chart-{b.slug}" aria-label="{e(b.title)}">{_inline(b.svg, b.slug)}'
                         f"<figcaption>{e(b.caption)}</figcaption></figure>")  # fmt: skip
            continue
        kind, payload = b
        if in_grid and kind == "h3":  # each metric's heading + table is one grid cell
            if card_open:
                parts.append("</section>")
            parts.append('<section class="card">')
            card_open = True
            parts.append(f"<h3>{e(payload)}</h3>")
            continue
        if kind == "grid":
            parts.append('<div class="grid">')
            in_grid = True
        elif kind == "end":
            if card_open:
                parts.append("</section>")
            parts.append("</div>")
            in_grid = card_open = False
        elif kind == "h1":
            parts.append(f"<h1>{e(payload)}</h1>")
        elif kind in ("h2", "h3"):
            parts.append(f"<{kind}>{e(payload)}</{kind}>")
        elif kind == "p":
            parts.append(f"<p>{e(payload)}</p>")
        elif kind == "note":
            parts.append(f'<p class="{"sub" if prev_heading == "h1" else "note"}">{e(payload)}</p>')
        elif kind == "ul":
            cls = ' class="headlines"' if prev_heading == "Headlines" else ""
            parts.append(f"<ul{cls}>" + "".join(f"<li>{e(i)}</li>" for i in payload) + "</ul>")
        prev_heading = payload if kind in ("h2", "h3") else ("h1" if kind == "h1" else prev_heading)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _write(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory, then rename: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _blocks(data: ReportData) -> list[Any]:
    names = _Names(data)
    gen = pd.Timestamp(data.generated_at)
    gen = gen.tz_localize("UTC") if gen.tzinfo is None else gen.tz_convert("UTC")
    head: list[Any] = [
        ("h1", f"Hub Tracker weekly report: {data.week}"),
        ("note", f"{_iso(data.week_start)} to {_iso(data.week_end)} (Monday to Sunday, UTC) · "
                 f"generated at {gen:%Y-%m-%d %H:%M} UTC"),  # fmt: skip
    ]
    return (head + _headlines(data, names) + _charts(data, names) + _family_tables(data, names)
            + _models(data, names) + _quality(data, names))  # fmt: skip


def render(data: ReportData, out_dir: Path, formats: Sequence[str] = ("md", "html")) -> list[Path]:
    """Write ``out_dir/<week>.md`` and/or ``out_dir/<week>.html``; return those paths in ``formats`` order.

    With "md", the charts are also written beside it as ``<week>-<chart>.svg`` (charts: downloads-30d,
    downloads-week, derivatives, share; a chart without data is left out) before the .md that links
    them. Every file is written atomically. Example::

        render(data, Path("reports"), formats=("html",))  # -> [Path("reports/2026-W34.html")]
    """
    unknown = set(formats) - {"md", "html"}
    if unknown:
        raise ValueError(f"unknown report format(s) {sorted(unknown)}; use md and/or html, e.g. ('md', 'html')")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    blocks = _blocks(data)
    written: list[Path] = []
    for fmt in formats:
        path = out_dir / f"{data.week}.{fmt}"
        if fmt == "md":
            for b in blocks:
                if isinstance(b, _Chart):
                    _write(out_dir / f"{data.week}-{b.slug}.svg", b.svg)
            _write(path, _markdown(blocks, data.week))
        else:
            _write(path, _html(blocks, f"Hub Tracker {data.week}"))
        written.append(path)
    return written
