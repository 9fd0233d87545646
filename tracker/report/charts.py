"""The report's charts: matplotlib figures (no pyplot, Agg canvas) saved as SVG with text kept as text."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tracker.report.common import (
    FamilyNames,
    ReportData,
    axis_tick,
    column,
    in_week,
    last_rows,
    numbers,
    to_days,
)

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType


def rc_params() -> dict[RcKeyType, Any]:
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
        "axes.titley": 1.0,  # no x ticks on top, no offset text: the title need not be placed by measuring them
        "legend.fontsize": 8,
        "legend.frameon": False,
    }


def new_figure(width: float = 6.4, height: float = 3.9) -> Any:
    """A figure on the Agg canvas, no layout engine: `to_svg` fits its Axes (`fit`) unless told not to."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


#: Where an Axes sits while `fit` measures it (left, bottom, right, top, figure fractions): near where the
#: fit puts it, because the y tick locator picks its ticks by the axis' length.
MEASURED_AT = (0.09, 0.25, 0.97, 0.92)


def fit(fig: Any) -> None:
    """Place each Axes so that it and all around it (tick labels, title, a legend below it) fill the figure
    less the padding constrained layout leaves (``figure.constrained_layout.w_pad``/``h_pad``).

    This is constrained layout's placement for a figure of one Axes, measured once: the engine measures
    twice, and savefig then draws the figure once more without output before drawing it for real (each
    pass lays out every tick label). A legend anchored below the Axes in Axes fractions moves with the Axes'
    height; its share is solved for instead of measured again.
    """
    from matplotlib import rcParams
    from matplotlib.transforms import Bbox

    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    pad_x = rcParams["figure.constrained_layout.w_pad"] * fig.dpi
    pad_y = rcParams["figure.constrained_layout.h_pad"] * fig.dpi
    for ax in fig.axes:
        ax.set_position(Bbox.from_extents(*MEASURED_AT))
        box = ax.get_window_extent(renderer)
        legend = ax.get_legend()
        others = [a for a in ax.get_default_bbox_extra_artists() if a is not legend]
        tight = ax.get_tightbbox(renderer, bbox_extra_artists=others, for_layout_only=True)
        below = box.y0 - tight.y0  # what hangs below the Axes whatever their height
        k, frac = -np.inf, 0.0  # a legend's depth below the Axes: k - frac * their height (frac < 0: anchored below)
        if legend is not None:
            lb = legend.get_window_extent(renderer)
            tight = Bbox.union([tight, lb])
            anchor = legend.get_bbox_to_anchor()
            if (anchor.y0 - box.y0) / box.height < 1:  # not anchored above the Axes
                frac, k = (anchor.y0 - box.y0) / box.height, anchor.y0 - lb.y0
        left, right, above = box.x0 - tight.x0, tight.x1 - box.x1, tight.y1 - box.y1
        room = height - 2 * pad_y - above
        h = min(room - below, (room - k) / (1 - frac))  # solves h + max(below, k - frac * h) = room
        bottom = height - pad_y - above - h
        x0, x1 = (pad_x + left) / width, 1 - (pad_x + right) / width
        ax.set_position(Bbox.from_extents(x0, bottom / height, x1, 1 - (pad_y + above) / height))


def to_svg(fig: Any, layout: bool = True) -> str:
    """The figure as SVG text without metadata; ``layout`` fits its Axes first (`fit`).

    An axis label left empty is fixed in place (``set_label_coords``): it draws nothing either way, but
    placing it by its tick labels lays every tick label out again each time the axis is measured or drawn.
    """
    for ax in fig.axes:
        for axis, at in ((ax.xaxis, (0.5, 0.0)), (ax.yaxis, (0.0, 0.5))):
            if not axis.label.get_text():
                axis.set_label_coords(*at)
    if layout:
        fit(fig)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Type": None,
                                             "Format": None})  # fmt: skip
    text = buf.getvalue()
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.DOTALL)


def inline_svg(svg: str, slug: str) -> str:
    """SVG text for embedding in HTML: no prolog, ids prefixed so charts cannot clash."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{slug}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{slug}-\1)", svg)
    return re.sub(r'href="#([^"]+)"', rf'href="#{slug}-\1"', svg)


def date_axis(ax: Any) -> None:
    import matplotlib.dates as mdates

    loc = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))


def value_axis(ax: Any, values: np.ndarray) -> bool:
    """Linear axis, or log when the values are a hundredfold apart; True when log."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    pos = values[np.isfinite(values) & (values > 0)]
    log = bool(len(pos) and pos.max() / pos.min() > 100)
    if log:  # families a hundredfold apart: log scale
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(axis_tick))
    return log


def wide_frame(
    df: pd.DataFrame, x: str, value: str, families: list[str]
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """Rows -> (x index with every step, values[x, family] NaN when absent, alt[x, family]).

    ``alt`` marks backfilled/imported points. Absent days become NaN so lines break at gaps.
    """
    days = to_days(df[x])
    src = column(df, "source")
    alt = (src.astype(str).isin(["backfill", "import"]).to_numpy(dtype=bool) if src is not None
           else np.zeros(len(df), bool))  # fmt: skip
    held = days.notna().to_numpy(dtype=bool)
    if not held.any():
        return pd.DatetimeIndex([]), np.zeros((0, len(families))), np.zeros((0, len(families)), bool)
    idx = pd.date_range(days[held].min(), days[held].max(), freq="7D" if x == "week_start" else "D")
    # each row's cell (-1: off the steps, or a family not charted); a cell given twice keeps its last row
    row = idx.get_indexer(pd.DatetimeIndex(days))
    col = pd.Index(families).get_indexer(pd.Index(df["family"].astype(str)))
    cell = row * len(families) + col
    rows = last_rows(np.where(held & (row >= 0) & (col >= 0), cell, -1))
    v, a = np.full(len(idx) * len(families), np.nan), np.zeros(len(idx) * len(families), bool)
    v[cell[rows]], a[cell[rows]] = numbers(df[value])[rows], alt[rows]
    return idx, v.reshape(len(idx), len(families)), a.reshape(len(idx), len(families))


def ranked(v: np.ndarray) -> list[int]:
    """Column order for plotting and the legend: by each family's latest value, largest first."""
    last = [(-col[np.isfinite(col)][-1] if np.isfinite(col).any() else np.inf) for col in v.T]
    return sorted(range(v.shape[1]), key=lambda j: (last[j], j))


def plot_line(ax: Any, x: Any, y: np.ndarray, alt: np.ndarray, color: str, label: str) -> None:
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


def mark_crossovers(ax: Any, data: ReportData, metrics: Iterable[str], names: FamilyNames,
                     colors: dict[str, str], y_of: Any = None, x_of: Any = None) -> bool:  # fmt: skip
    """Dotted line + label for the week's crossovers, a diamond on the line for each crossover.

    ``y_of(row)`` / ``x_of(row)`` place the diamond on the chart's series (default: the
    crossover's own value and day).
    """
    from matplotlib.transforms import blended_transform_factory

    cx = data.crossovers
    if column(cx, "day") is None or not len(cx):
        return False
    cx = cx[cx["metric"].astype(str).isin(list(metrics))]
    if "headline" in cx.columns:
        cx = cx[cx["headline"].astype("boolean").fillna(True).to_numpy(dtype=bool)]
    if cx.empty:
        return False
    cx = cx.assign(_day=to_days(cx["day"])).sort_values("_day", kind="stable")
    week = in_week(cx["day"], data)
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
            ax.plot(
                [x_of(r) if x_of is not None else r["_day"]],
                [y],
                marker="D",
                ms=5,
                color=colors.get(str(r["family"]), "#333"),
                mec="#1d2433",
                mew=0.8,
                zorder=6,
            )
    return True


def add_legend(ax: Any, backfill: bool, crossover: bool, partial: bool = False) -> None:
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
        labels.append("open: partial week, scaled to 7 days")
    if handles:  # below the plot, so the plot keeps the figure's full width
        ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.1),
                  ncol=min(3, len(handles)), columnspacing=1.2, handlelength=2.2)  # fmt: skip


def shade_week(ax: Any, data: ReportData, centre: bool = False) -> None:
    """Shade the report's week; ``centre`` for weekly points plotted on their Monday."""
    lo = pd.Timestamp(data.week_start) - pd.Timedelta(hours=84 if centre else 0)
    ax.axvspan(lo, lo + pd.Timedelta(days=7), color="#f1f3f8", zorder=0, lw=0)
