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

import html
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tracker.report import whole_hub
from tracker.report.charts import _charts, _inline
from tracker.report.common import (
    ISSUES,
    METRIC_NAMES,
    TOP,
    Block,
    ReportData,
    _Chart,
    _col,
    _days,
    _in_week,
    _iso,
    _metric,
    _more,
    _Names,
    _num,
    _share,
    _signed,
    _Table,
    family_colors,
)
from tracker.trends import human, pct

__all__ = ["METRIC_NAMES", "ReportData", "family_colors", "render"]


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


def _FILE_MODE() -> int:
    """The mode an ordinary new file gets here (0666 less the umask), as the warehouse's Parquet files do."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _write(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory, then rename: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _FILE_MODE())  # mkstemp makes 0600; a report gets the mode the warehouse's files get
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
            + whole_hub.blocks(data.whole_hub, data) + _models(data, names) + _quality(data, names))  # fmt: skip


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
