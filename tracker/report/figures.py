"""The report's figures: family series over time, weekly downloads, derivatives by relation, shares;
drawn with the helpers of `tracker.report.charts`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tracker.metrics import RELATIONS
from tracker.report.charts import (
    add_legend,
    date_axis,
    mark_crossovers,
    new_figure,
    plot_line,
    ranked,
    rc_params,
    shade_week,
    to_svg,
    value_axis,
    wide_frame,
)
from tracker.report.common import (
    RELATION_COLORS,
    Block,
    Chart,
    FamilyNames,
    ReportData,
    axis_tick,
    column,
    family_colors,
    iso_day,
    numbers,
    to_days,
)
from tracker.report.format import human


def _series_chart(data: ReportData, names: FamilyNames, colors: dict[str, str], metric: str,
                  title: str, share: bool = False) -> tuple[str, bool, bool] | None:  # fmt: skip
    fd = data.family_daily
    if column(fd, metric) is None or column(fd, "day") is None or not len(fd):
        return None
    fams = [f for f in names.order if f in set(fd["family"].astype(str))]
    idx, v, alt = wide_frame(fd, "day", metric, fams)
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
    fig = new_figure()
    ax = fig.add_subplot()
    shade_week(ax, data)
    for j in ranked(v):
        fam = fams[j]
        label = names(fam) + ("" if np.isfinite(v[:, j]).any() else " (no data)")
        plot_line(ax, idx, v[:, j], alt[:, j], colors[fam], label)
    if share:
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylim(bottom=0)
        marked = mark_crossovers(ax, data, [metric], names, colors, y_of=lambda r: _share_at(r, idx, v, fams))
    log = False
    if not share:
        log = value_axis(ax, v)
        marked = mark_crossovers(ax, data, [metric], names, colors,
                                  y_of=lambda r: numbers([r["family_value"]])[0])  # fmt: skip
    date_axis(ax)
    ax.set_title(title)
    add_legend(ax, bool((alt & np.isfinite(v)).any()), marked)
    return to_svg(fig), log, False


def _share_at(r: pd.Series, idx: pd.DatetimeIndex, v: np.ndarray, fams: list[str]) -> float:
    fam = str(r["family"])
    if fam not in fams or r["_day"] not in idx:
        return np.nan
    return float(v[idx.get_loc(r["_day"]), fams.index(fam)])


def _weekly_frame(data: ReportData) -> pd.DataFrame | None:
    """week_start, family, downloads_week, days, source: from family_weekly, else summed downloads_day."""
    fw, fd = data.family_weekly, data.family_daily
    alt = None
    if column(fd, "day") is not None and len(fd):
        d = to_days(fd["day"])
        wk = d - pd.to_timedelta(d.dt.day_of_week, unit="D")
        src = column(fd, "source")
        isalt = (src.astype(str).isin(["backfill", "import"]) if src is not None
                 else pd.Series(False, index=fd.index))  # fmt: skip
        alt = (isalt.groupby([wk.rename("week_start"), fd["family"].astype(str).rename("family")]).any()
               .rename("alt").reset_index())  # fmt: skip
    if column(fw, "downloads_week") is not None and column(fw, "week_start") is not None and len(fw):
        out = pd.DataFrame({"week_start": to_days(fw["week_start"]), "family": fw["family"].astype(str),
                            "downloads_week": numbers(fw["downloads_week"]),
                            "days": (numbers(fw["downloads_week_days"])
                                     if "downloads_week_days" in fw else 7.0)})  # fmt: skip
    elif column(fd, "downloads_day") is not None and len(fd):
        d = to_days(fd["day"])
        g = pd.DataFrame({"week_start": d - pd.to_timedelta(d.dt.day_of_week, unit="D"),
                          "family": fd["family"].astype(str), "v": numbers(fd["downloads_day"])})  # fmt: skip
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


def _weekly_chart(data: ReportData, names: FamilyNames, colors: dict[str, str]) -> tuple[str, bool, bool] | None:
    wf = _weekly_frame(data)
    if wf is None or not np.isfinite(wf["downloads_week"].to_numpy(dtype=float)).any():
        return None
    fams = [f for f in names.order if f in set(wf["family"])]
    idx, v, alt = wide_frame(wf, "week_start", "downloads_week", fams)
    _, days, _ = wide_frame(wf.assign(downloads_week=wf["days"]), "week_start", "downloads_week", fams)
    fig = new_figure()
    ax = fig.add_subplot()
    shade_week(ax, data, centre=True)
    partial = np.isfinite(v) & (days < 7)
    # a partial week is no crash: off the line, as an open marker at its daily average times 7
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.where(partial, v * 7 / np.where(days > 0, days, np.nan), np.nan)
    v = np.where(partial, np.nan, v)
    dots = len(idx) <= 16  # a dot per week reads well for a few months, clutters a year
    for j in ranked(np.where(partial, scaled, v)):
        fam = fams[j]
        label = names(fam) + ("" if np.isfinite(v[:, j]).any() or partial[:, j].any() else " (no data)")
        plot_line(ax, idx, v[:, j], alt[:, j], colors[fam], label)
        full = np.isfinite(v[:, j])
        if dots:
            ax.plot(idx[full], v[full, j], "o", color=colors[fam], ms=3.5)
        if partial[:, j].any():
            ax.plot(idx[partial[:, j]], scaled[partial[:, j], j], "o", mfc="white", mec=colors[fam], ms=5, mew=1.4)
    log = value_axis(ax, np.where(partial, scaled, v))
    lookup = {(t, f): v[i, j] for i, t in enumerate(idx) for j, f in enumerate(fams)}

    def monday(r: pd.Series) -> pd.Timestamp:
        return r["_day"] - pd.Timedelta(days=r["_day"].day_of_week)

    def y_of(r: pd.Series) -> float:  # a daily (trailing-week) crossover sits on its week's point
        return lookup.get((monday(r), str(r["family"])), np.nan)

    marked = mark_crossovers(ax, data, ["downloads_week"], names, colors, y_of=y_of, x_of=monday)
    date_axis(ax)
    ax.set_title("Weekly downloads per family (week starting)")
    add_legend(ax, bool((alt & np.isfinite(v)).any()), marked, bool(partial.any()))
    return to_svg(fig), log, bool(partial.any())


def _derivatives_chart(data: ReportData, names: FamilyNames, colors: dict[str, str]) -> tuple[str, str] | None:
    fd = data.family_daily
    rels = [r for r in RELATIONS if column(fd, r) is not None]
    if not rels and column(fd, "derivatives") is not None:
        rels = ["derivatives"]
    if not rels or column(fd, "day") is None or not len(fd):
        return None
    d = fd.assign(_day=to_days(fd["day"]), _fam=fd["family"].astype(str))
    d = d[d["_day"] <= pd.Timestamp(data.week_end)]
    vals = np.column_stack([numbers(d[r]) for r in rels])
    d = d[np.isfinite(vals).any(1)]
    if d.empty:
        return None
    latest = d.sort_values("_day", kind="stable").groupby("_fam").tail(1)
    rels = [r for r in rels if np.isfinite(numbers(latest[r])).any()]  # no empty legend entries
    latest = latest.assign(_total=np.nansum(np.column_stack([numbers(latest[r]) for r in rels]), 1))
    latest = latest.sort_values("_total", kind="stable")  # largest at the top of a barh chart
    fig = new_figure(height=max(2.4, 1.3 + 0.42 * len(latest)))
    ax = fig.add_subplot()
    ax.grid(axis="y", visible=False)
    ax.set_axisbelow(True)
    y = np.arange(len(latest))
    left = np.zeros(len(latest))
    for r in rels:
        w = np.nan_to_num(numbers(latest[r]), nan=0.0)
        ax.barh(y, w, left=left, color=RELATION_COLORS[r], label=r, height=0.62)
        left += w
    for yi, tot in zip(y, latest["_total"], strict=True):
        ax.text(tot, yi, " " + human(tot), va="center", fontsize=8, color="#1d2433")
    ax.set_yticks(y, [names(f) for f in latest["_fam"]])
    for tick, fam in zip(ax.get_yticklabels(), latest["_fam"], strict=True):
        tick.set_color(colors.get(fam, "#1d2433"))
        tick.set_fontweight("bold")
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(axis_tick))
    ax.set_xlim(0, max(1.0, float(left.max()) * 1.12))
    ax.set_title("Derivatives by relation")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(rels))
    days = sorted({iso_day(x) for x in latest["_day"]})
    when = f"as of {days[0]}" if len(days) == 1 else f"latest day per family ({days[0]} to {days[-1]})"
    return to_svg(fig), when


def chart_blocks(data: ReportData, names: FamilyNames) -> list[Block]:
    from matplotlib import rc_context

    colors = family_colors(data, names)

    def derivatives() -> tuple[str, str] | None:
        der = _derivatives_chart(data, names, colors)
        return der and (der[0], f"Derivative models by relation, {der[1]}.")

    # slug, title, what is missing when it cannot be drawn, draw() -> (svg, caption) | None
    specs = [
        ("downloads-30d", "30-day downloads per family", "30-day downloads",
         lambda: _captioned(_series_chart(data, names, colors, "downloads_30d",
                                          "30-day downloads per family"),
                            "Each family's 30-day downloads (the rolling count the Hub reports); "
                            "the shaded band is this week; diamonds mark headline crossovers, dotted lines "
                            "this week's.")),
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
    with rc_context(rc_params()):
        for slug, title, lack, draw in specs:
            got = draw()
            if got:
                out.append(Chart(slug, title, got[1], got[0]))
            else:
                missing.append(lack)
    out.append(("end", None))
    if missing:
        out.append(("note", "No data to chart: " + ", ".join(missing) + "."))
    return out


def _captioned(got: tuple[str, bool, bool] | None, caption: str) -> tuple[str, str] | None:
    """(svg, caption) with what the chart draws: a log axis, partial weeks."""
    if not got:
        return None
    svg, log, partial = got
    if partial:
        caption += " Open markers are partial weeks, drawn at their daily average times 7 and not joined to the line."
    if log:
        caption += (
            " Log axis (the families are a hundredfold apart): close values can look like one line; "
            "each headline's own chart shows the lead on a linear axis."
        )
    return svg, caption


# --------------------------------------------------------------------------- writers
