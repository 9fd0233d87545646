"""What the report's text and charts share: the data it is given, names, colours, formatting."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tracker.metrics import CROSSOVER_METRICS, QUALITY_ISSUES
from tracker.report.format import human

_DISPLAY = {
    "downloads_30d": "30-day downloads",
    "downloads_week": "weekly downloads",
    "downloads_all_time": "all-time downloads",
    "likes": "likes",
    "derivatives": "derivatives",
    "models": "models",
}
#: Display names, in the order the report shows the metrics.
METRIC_NAMES: dict[str, str] = {m: _DISPLAY[m] for m in CROSSOVER_METRICS}
_ISSUE_TEXT = {
    "stale": "stale days (every count identical to the previous day: the Hub did not refresh)",
    "stale_downloads": "stale downloads (the Hub refreshed likes but not download counts)",
    "stale_likes": "stale likes (the Hub refreshed download counts but not likes)",
    "missing_day": "missing days (no snapshot; charts leave the gap empty)",
    "all_time_fell": "all-time downloads fell (a Hub data error; counted as 0 downloads)",
    "all_time_jump": "all-time downloads jumped implausibly (left out of the day's downloads)",
    "entered": "models entered the tracked set (created before the previous snapshot: crossed the "
    "listing's threshold, renamed or a config change; no downloads added)",
    "left": "models left the tracked set",
    "new_model": "new models (released since the previous snapshot)",
}
ISSUES = {i: _ISSUE_TEXT[i] for i in QUALITY_ISSUES}
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
    whole_hub: Any = None  # tracker.report.whole_hub.WholeHub when a census is held
    model_daily: pd.DataFrame = field(default_factory=pd.DataFrame)  # day, model_id, metrics (crossover models)
    adoption: pd.DataFrame = field(default_factory=pd.DataFrame)  # tracker.trends.adoption as of week end
    imports: pd.DataFrame = field(default_factory=pd.DataFrame)  # day, family, run_id, models (imported days)
    all_time_known: bool = True  # the week-end snapshots carry all-time counts (top movers need them)


# --------------------------------------------------------------------------- formatting


def column(df: pd.DataFrame | None, name: str) -> pd.Series | None:
    return df[name] if df is not None and name in df.columns else None


def numbers(s: Any) -> np.ndarray:
    return pd.to_numeric(pd.Series(s), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def number(x: Any) -> float:
    """One value as `numbers` reads a column's: a float, NaN when missing or not a number (no Series built)."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return np.nan


def last_rows(cell: np.ndarray) -> np.ndarray:
    """The positions of each cell's last row (a negative cell is none), as ``drop_duplicates(keep="last")``
    keeps rows: ``cell`` numbers each row's place in a grid (a day, or a day and a family)."""
    rows = np.flatnonzero(cell >= 0)
    return rows[len(rows) - 1 - np.unique(cell[rows][::-1], return_index=True)[1]]


def to_days(s: Any) -> pd.Series:
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


def to_day(x: Any) -> pd.Timestamp:
    """One value as `to_days` reads it in a column: a Timestamp is cut to its (wall-clock) day, anything
    else is parsed; NaT when unparseable."""
    if isinstance(x, pd.Timestamp):  # (NaT is not one)
        return (x.tz_localize(None) if x.tzinfo is not None else x).normalize()
    return pd.Timestamp(to_days([x]).iloc[0])


def iso_day(x: Any) -> str:
    return "n/a" if x is None or pd.isna(x) else pd.Timestamp(x).strftime("%Y-%m-%d")


def signed(x: Any) -> str:
    """Absolute change: "+7.0M", "-700.0k", "0"; "n/a" when unknown."""
    v = number(x)
    if np.isnan(v):
        return "n/a"
    return "0" if v == 0 else ("+" if v > 0 else "") + human(v)


def share_pct(x: Any) -> str:
    v = number(x)
    return "n/a" if np.isnan(v) else f"{v * 100:.1f}%"


def axis_tick(x: float, _pos: Any = None) -> str:
    return re.sub(r"\.0(?=[kMB]?$)", "", human(x))  # "1.0M" -> "1M" on axes


def metric_name(m: Any) -> str:
    return METRIC_NAMES.get(str(m), str(m).replace("_", " "))


class FamilyNames:
    """Family labels, rules and regions, whichever frames know them."""

    def __init__(self, data: ReportData) -> None:
        self.label: dict[str, str] = {}
        self.order: list[str] = []
        for df in (data.family_weekly, data.family_daily, data.families):
            fam, lab = column(df, "family"), column(df, "label")
            if fam is None:
                continue
            df = df[[c for c in ("family", "label") if c in df.columns]].drop_duplicates()
            fam, lab = df["family"], column(df, "label")
            for f, lbl in zip(fam, lab if lab is not None else [None] * len(fam), strict=True):
                if pd.notna(f) and (pd.notna(lbl) or str(f) not in self.label):
                    self.label[str(f)] = str(lbl) if pd.notna(lbl) else str(f)
        fams = column(data.families, "family")
        known = [str(f) for f in (fams if fams is not None else []) if pd.notna(f)]
        others = sorted(set(self.label) - set(known))
        self.order = list(dict.fromkeys(known + others))

    def __call__(self, family: Any) -> str:
        return self.label.get(str(family), str(family))


def family_colors(data: ReportData, names: FamilyNames | None = None) -> dict[str, str]:
    """family -> hex colour: ``families.color`` when it is a valid colour, else the palette in order.

    ``names``: the report's `FamilyNames` of ``data``, when it has them (else they are worked out).
    """
    from matplotlib.colors import is_color_like, to_hex

    names = FamilyNames(data) if names is None else names
    given: dict[str, Any] = {}
    if column(data.families, "color") is not None:
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
class Table:
    headers: list[str]
    align: str  # one "l" or "r" per column
    rows: list[list[str]]


@dataclass
class Chart:
    slug: str
    title: str
    caption: str
    svg: str


# ("h1"|"h2"|"h3"|"p"|"note"|"ul"|"grid"|"end", payload), a table or a chart
Block = tuple[str, Any] | Table | Chart


def in_week(days: pd.Series, data: ReportData) -> np.ndarray:
    d = to_days(days)
    lo, hi = pd.Timestamp(data.week_start), pd.Timestamp(data.week_end)
    return ((d >= lo) & (d <= hi)).fillna(False).to_numpy(dtype=bool)


def imported_from(data: ReportData, family: Any, day: Any) -> pd.Series | None:
    """The import that a family's figure of a day comes from (run_id, models), or None."""
    im = data.imports
    if column(im, "family") is None or not len(im):
        return None
    hit = im[(im["family"].astype(str) == str(family)) & (to_days(im["day"]) == pd.Timestamp(day))]
    return hit.iloc[-1] if len(hit) else None


def at_most(items: list[str], limit: int = MAX_SENTENCES) -> list[str]:
    return items if len(items) <= limit else [*items[:limit], f"... and {len(items) - limit} more"]
