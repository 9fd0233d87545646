"""The commands that read the warehouse and print: sql (the user's read-only SQL) and status."""

from __future__ import annotations

import sys

import click

from tracker.cli.common import emit_json, fail, output_options, require_warehouse, with_settings


@click.command()
@click.argument("query")
@click.option(
    "-p",
    "--param",
    "params",
    nargs=2,
    multiple=True,
    metavar="NAME VALUE",
    help="Bind $NAME to VALUE (repeatable); values are never pasted into the SQL.",
)
@output_options
@with_settings
def sql(settings, query, params, fmt, headers):
    """Run a read-only SQL query against the warehouse and print the result.

    QUERY is SQL text, or - to read it from standard input. Only queries run (SELECT, WITH, FROM,
    DESCRIBE, SUMMARIZE, SHOW, EXPLAIN [ANALYZE] SELECT); they may read the warehouse folder and
    nothing else, and cannot write a file, attach a database, load an extension or change a setting.
    Output: a boxed table by default (whatever the terminal), or --format csv|tsv|json|jsonl|md;
    NULL is an empty cell (null in JSON), dates and times are ISO 8601.

    \b
    Examples:
      tracker sql "select * from family_daily order by day desc, downloads_30d desc"
      tracker sql "select * from models_latest where family = \\$f order by downloads_30d desc limit 10" -p f qwen
      echo "select count(*) from snapshots" | tracker sql - --format jsonl
    """
    from tracker import output

    text = sys.stdin.read() if query == "-" else query
    require_warehouse(settings)
    columns, rows = run_read_only(settings, text, dict(params) if params else None)
    click.echo(output.render(columns, rows, fmt, headers=headers), nl=False)


def run_read_only(settings, text: str, bound: dict | None) -> tuple[list[str], list[tuple]]:
    """Execute user SQL read-only; the last statement's column names and rows (Python values)."""
    import duckdb

    from tracker import sandbox
    from tracker.jobs.common import refresh_if_stale
    from tracker.warehouse import Warehouse

    try:
        statements = sandbox.check(text)
    except sandbox.Refused as exc:
        fail(str(exc))
    wh = Warehouse(settings.warehouse)
    wh.ensure()
    refresh_if_stale(settings)  # the tracker's own code, before the user's SQL is sandboxed
    with wh.connect() as con:
        sandbox.lock(con, wh.root)
        try:
            for st in statements[:-1]:  # as sandbox.run, keeping the cursor's Python values (DATE stays a date)
                con.execute(st, bound) if bound else con.execute(st)
            last = statements[-1]
            cur = con.execute(last, bound) if bound else con.execute(last)
            columns = [d[0] for d in cur.description or []]
            rows = cur.fetchall() if columns else []
        except duckdb.Error as exc:
            fail(
                f"{str(exc).splitlines()[0]}\n  (views: runs, snapshots, models_latest, family_daily, quarantine; "
                "see README 'The warehouse')"
            )
    return columns, rows


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output for monitoring.")
@click.option(
    "--runs",
    "n_runs",
    default=10,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="How many recent runs to show.",
)
@with_settings
def status(settings, as_json, n_runs):
    """Show the last runs, the data held and the warehouse size.

    \b
    Example:
      tracker status --json | jq '.runs[0].status'
    """
    from tracker import status as status_mod
    from tracker.jobs.common import refresh_if_stale

    require_warehouse(settings)
    refresh_if_stale(settings)
    info = status_mod.gather(settings, n_runs)
    if as_json:
        emit_json(info)
    else:
        click.echo(status_mod.render(info))
