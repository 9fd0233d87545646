"""The commands that write files out of the warehouse: report (the weekly trend report) and export
(hive-partitioned day folders)."""

from __future__ import annotations

import click

from tracker.cli.common import checked_out_dir, emit_json, fail, json_option, require_warehouse, with_settings


@click.command()
@click.option("--week", metavar="YYYY-Www", help="The ISO week, e.g. 2026-W34. Default: the last complete week.")
@click.option(
    "--out", "out", default="reports", show_default=True, help="The folder to write into (created if missing)."
)
@click.option(
    "--format",
    "fmt",
    default="md,html",
    show_default=True,
    metavar="md,html",
    help="Comma-separated formats: md, html.",
)
@json_option
@with_settings
def report(settings, week, out, fmt, as_json):
    """Write the weekly trend report: who grew, who overtook whom, charts.

    Writes <out>/<week>.md and a self-contained <out>/<week>.html (charts embedded, opens offline)
    and prints their paths. Recorded as a `report` run (see `tracker status`).

    \b
    Example:
      tracker report --week 2026-W34 --out reports/
    """
    import re

    from tracker import jobs

    formats = tuple(f.strip() for f in fmt.split(",") if f.strip())
    bad = [f for f in formats if f not in ("md", "html")]
    if bad or not formats:
        fail(f"--format takes md, html or md,html (got '{fmt}')", 2)
    if week and not re.fullmatch(r"\d{4}-W(0[1-9]|[1-4]\d|5[0-3])", week):
        fail(f"--week must be an ISO week like 2026-W34 (got '{week}')", 2)
    from tracker.jobs.common import refresh_if_stale

    if week:
        import datetime as dt

        try:
            dt.date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
        except ValueError:
            fail(f"--week {week}: {week[:4]} has no week {int(week[6:])}", 2)
    out_dir = checked_out_dir(out)
    require_warehouse(settings)
    refresh_if_stale(settings)
    run = jobs.recorded_report(settings, week=week, out=out_dir, formats=formats)
    if as_json:
        emit_json({**run, "paths": [str(p) for p in run["paths"]]})
        return
    for path in run["paths"]:
        click.echo(str(path))


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "csv"]),
    default=None,
    help="File format (default: config.yaml's export.format, else parquet).",
)
@click.option("--out", "out", help="The folder to write into, created if missing (default: config.yaml's export.out).")
@click.option(
    "--since",
    "since",
    metavar="DAY",
    help="Check only the days from DAY (YYYY-MM-DD) on; older day folders are left as they are.",
)
@json_option
@with_settings
def export(settings, fmt, out, since, as_json):
    """Export snapshots and the daily family series as hive-partitioned files (DIR/VIEW/day=YYYY-MM-DD/).

    Only the days whose rows changed since the last export into DIR are written, each day folder
    swapped in at once (a reader never sees half a day; a killed export leaves the old one). Spark,
    Trino, Polars and DuckDB read the folders as they are; see the README's "Scale-out" section for
    the command that makes a Spark or Trino table see new days.

    \b
    Examples:
      tracker export --out export/
      tracker export --out export/ --since 2026-08-01     # only look at recent days (long histories)
    """
    import datetime as dt

    from tracker.export import export as run_export
    from tracker.warehouse import Warehouse

    conf = settings.export
    out = out or (conf.out if conf else None)
    if not out:
        fail("say where to export: --out DIR, or `export: {out: DIR}` in config.yaml", 2)
    fmt = fmt or (conf.format if conf else "parquet")
    day = None
    if since is not None:
        try:
            day = dt.date.fromisoformat(since)
        except ValueError:
            fail(f"--since must be a day such as 2026-08-01 (got '{since}')", 2)
    out_dir = checked_out_dir(out)
    require_warehouse(settings)
    results = run_export(Warehouse(settings.warehouse), out_dir, fmt, since=day)
    if as_json:
        emit_json(
            [
                {
                    "view": r.view,
                    "folder": str(r.folder),
                    "checked": r.checked,
                    "new": r.new,
                    "changed": r.changed,
                    "removed": r.removed,
                    "rows": r.rows,
                    "unchanged": r.unchanged,
                }
                for r in results
            ]
        )
        return
    for res in results:
        click.echo(res.summary())
