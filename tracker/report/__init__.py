"""Render a week's trends as Markdown and a self-contained HTML page with SVG charts.

This module only presents: it takes a `ReportData` (built from the warehouse by
the report job) and writes ``<week>.md`` / ``<week>.html``. It computes nothing
beyond what a reader needs to see (sorting, formatting, chart series).

- The HTML embeds every chart as inline SVG and its CSS inline: one file that
  opens offline, with no external fonts, scripts or images.
- The Markdown references the same charts as SVG files written beside it,
  ``<week>-<chart>.svg`` (a data URI would make the .md unreadable as text).
- matplotlib is imported inside the chart functions (charts.py, figures.py), so
  importing this package stays cheap; figures are built without pyplot (no global state, safe in the
  daemon's threads) on the Agg canvas and saved as SVG with text kept as text.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from tracker.report import tables, whole_hub
from tracker.report.charts import inline_svg
from tracker.report.common import (
    METRIC_NAMES,
    Block,
    Chart,
    FamilyNames,
    ReportData,
    Table,
    family_colors,
    iso_day,
)
from tracker.report.figures import chart_blocks
from tracker.report.format import distinct, human, pct
from tracker.report.headlines import headlines

__all__ = ["METRIC_NAMES", "ReportData", "distinct", "family_colors", "human", "pct", "render"]


# --------------------------------------------------------------------------- writers


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _markdown(blocks: list[Block], week: str) -> str:
    lines: list[str] = []
    for b in blocks:
        if isinstance(b, Table):
            lines.append("| " + " | ".join(_md_cell(h) for h in b.headers) + " |")
            lines.append("|" + "|".join("---:" if a == "r" else "---" for a in b.align) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in b.rows]
            lines.append("")
        elif isinstance(b, Chart):
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


def _html(blocks: list[Block], title: str) -> str:
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width,initial-scale=1">',
             f"<title>{e(title)}</title><style>{CSS}</style></head><body>"]  # fmt: skip
    in_grid = False
    card_open = False
    prev_heading = ""
    for b in blocks:
        if isinstance(b, Table):
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
        if isinstance(b, Chart):
            parts.append(f'<figure id="chart-{b.slug}" aria-label="{e(b.title)}">{inline_svg(b.svg, b.slug)}'
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
            ul_cls = ' class="headlines"' if prev_heading == "Headlines" else ""
            parts.append(f"<ul{ul_cls}>" + "".join(f"<li>{e(i)}</li>" for i in payload) + "</ul>")
        prev_heading = payload if kind in ("h2", "h3") else ("h1" if kind == "h1" else prev_heading)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _file_mode() -> int:
    """The mode an ordinary new file gets here (0666 less the umask), as the warehouse's Parquet files do."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _write(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory, then rename: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _file_mode())  # mkstemp makes 0600; a report gets the mode the warehouse's files get
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _blocks(data: ReportData) -> list[Block]:
    names = FamilyNames(data)
    gen = pd.Timestamp(data.generated_at)
    gen = gen.tz_localize("UTC") if gen.tzinfo is None else gen.tz_convert("UTC")
    head: list[Block] = [
        ("h1", f"Hub Tracker weekly report: {data.week}"),
        (
            "note",
            f"{iso_day(data.week_start)} to {iso_day(data.week_end)} (Monday to Sunday, UTC) · "
            f"generated at {gen:%Y-%m-%d %H:%M} UTC",
        ),
    ]
    return (
        head
        + headlines(data, names)
        + tables.family_rules(data, names)
        + chart_blocks(data, names)
        + tables.family_tables(data, names)
        + whole_hub.blocks(data.whole_hub, data, names)
        + tables.models(data, names)
        + tables.quality(data, names)
    )


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
                if isinstance(b, Chart):
                    _write(out_dir / f"{data.week}-{b.slug}.svg", b.svg)
            _write(path, _markdown(blocks, data.week))
        else:
            _write(path, _html(blocks, f"Hub Tracker {data.week}"))
        written.append(path)
    return written
