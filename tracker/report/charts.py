"""The report's charts: matplotlib figures (no pyplot, Agg canvas) saved as SVG with text kept as text."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from tracker.report.common import (
    RELATION_COLORS,
    RELATIONS,
    Block,
    ReportData,
    _Chart,
    _col,
    _days,
    _in_week,
    _iso,
    _Names,
    _num,
    _tick,
    family_colors,
)
from tracker.trends import human


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


