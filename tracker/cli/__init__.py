"""The `tracker` command line. Parses arguments, calls one function per command, formats output.

Heavy libraries (duckdb, pandas, huggingface_hub) are imported inside the commands that need them,
so that `tracker --help` answers at once.
"""

from __future__ import annotations

import functools
import sys
from typing import NoReturn

import click

from tracker import __version__

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(message: str, code: int = 1) -> NoReturn:
    from tracker.redact import redact

    click.echo(f"error: {redact(message)}", err=True)
    sys.exit(code)


def with_settings(fn):
    """Add --config (also TRACKER_CONFIG) and pass the validated Settings; config mistakes exit 2.

    An error meant for users (config, warehouse) prints its message; any other exception prints one
    line and the path of the log that holds its traceback, exit 1; Ctrl-C exits 130."""

    @click.option(
        "--config",
        "config_path",
        envvar="TRACKER_CONFIG",
        default="config.yaml",
        show_default=True,
        type=click.Path(dir_okay=False),
        help="The config file (also read from TRACKER_CONFIG).",
    )
    @functools.wraps(fn)
    def wrapper(config_path, **kwargs):
        from tracker import config, log

        log.configure()
        try:
            settings = config.load(config_path)
        except config.ConfigError as exc:
            _fail(str(exc), 2)
        try:
            return fn(settings, **kwargs)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            _fail("interrupted; nothing half-written is visible (the next run resumes or redoes it)", 130)
        except Exception as exc:  # noqa: BLE001 - the one place every failure becomes a message; users' errors carry their own
            from tracker import machine
            from tracker.jobs.snapshot import CollectFailed
            from tracker.warehouse import WarehouseError

            if isinstance(exc, (WarehouseError, config.ConfigError)):
                _fail(str(exc), 2 if isinstance(exc, config.ConfigError) else 1)
            if isinstance(exc, CollectFailed):
                note = "recorded as failed" if exc.recorded else "not even its failure could be recorded"
                _fail(f"{exc} [run {exc.record['run_id']}, {note}]")
            paragraph = machine.explain(exc, settings.warehouse)
            if paragraph is not None:  # a full disk, a fatal DuckDB error: no traceback
                _fail(paragraph)
            internal_error(exc)

    return wrapper


def internal_error(exc: BaseException) -> None:
    """One line for an unexpected error, the traceback in the error log (and at debug level); exit 1."""
    from tracker import log

    ctx = click.get_current_context(silent=True)
    path = log.record_crash(ctx.command_path if ctx else "tracker")
    where = f"; the traceback is in {path}" if path else ""
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    _fail(f"unexpected error ({type(exc).__name__}: {first}){where}. Please report it with that file.", 1)


def require_warehouse(settings) -> None:
    """Read-only commands never create a warehouse: say where none was found, exit 1."""
    root = settings.warehouse
    if not ((root / "hub.duckdb").is_file() or (root / "runs").is_dir()):
        _fail(f"no warehouse at {root} (check `warehouse:` in {settings.path}, or run `tracker collect` first)", 1)


def checked_out_dir(value: str, option: str = "--out"):
    """An output folder that exists or can be created: a file there, or a folder that cannot be made or
    written, is a usage error (exit 2), before any work is done."""
    import os
    from pathlib import Path

    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        _fail(f"{option} {value}: is a file, not a folder", 2)
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK) or _pseudo_fs(probe):
        _fail(f"{option} {value}: cannot write into {probe} (choose a folder you can write to)", 2)
    return path


def _pseudo_fs(path) -> bool:
    """/proc and /sys look writable to root but cannot hold files."""
    resolved = str(path.resolve())
    return any(resolved == p or resolved.startswith(p + "/") for p in ("/proc", "/sys", "/dev"))


def check_hf_endpoint(settings) -> None:
    """HF_ENDPOINT (used when config.yaml has no hub.endpoint) must be an http(s) URL: exit 2 otherwise."""
    import os
    from urllib.parse import urlparse

    value = os.environ.get("HF_ENDPOINT")
    if settings.hub.endpoint is None and value is not None:
        u = urlparse(value)
        if u.scheme not in ("http", "https") or not u.netloc:
            _fail(
                f"the environment variable HF_ENDPOINT is '{value}', not an http(s) URL "
                "(e.g. export HF_ENDPOINT=http://127.0.0.1:8765, or unset it for huggingface.co)",
                2,
            )


def emit_json(obj) -> None:
    from tracker import output

    click.echo(output.render_obj(obj), nl=False)


def output_options(fn):
    """--format table|csv|tsv|json|jsonl|md, the shortcuts --table/--csv/--json (one at most), --no-headers."""
    from tracker.output import DEFAULT, FORMATS

    @click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=None,
        help=f"Output format (default: {DEFAULT}, whatever the terminal).",
    )
    @click.option("--table", "as_table", is_flag=True, help="Shortcut for --format table: a boxed table.")
    @click.option("--csv", "as_csv", is_flag=True, help="Shortcut for --format csv.")
    @click.option("--json", "as_json", is_flag=True, help="Shortcut for --format json: an array of objects.")
    @click.option("--no-headers", is_flag=True, help="Leave out the header row (table, csv, tsv, md).")
    @functools.wraps(fn)
    def wrapper(*args, fmt=None, as_table=False, as_csv=False, as_json=False, no_headers=False, **kwargs):
        chosen = [name for name, on in (("table", as_table), ("csv", as_csv), ("json", as_json)) if on]
        given = [f"--{c}" for c in chosen] + ([f"--format {fmt}"] if fmt else [])
        if len(given) > 1:
            _fail(f"choose one output format: {' and '.join(given)} were given together", 2)
        return fn(*args, fmt=fmt or (chosen[0] if chosen else DEFAULT), headers=not no_headers, **kwargs)

    return wrapper


def json_option(fn):
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(fn)


def finish(run: dict, summary: str, as_json: bool = False) -> None:
    """Print a job's one-line summary (or its run record with --json) and its errors; exit 0 only when
    the run was fully ok."""
    from tracker.redact import redact

    if as_json:
        emit_json({**run, "error": redact(run["error"]) if run.get("error") else run.get("error")})
    else:
        click.echo(f"{summary} [run {run['run_id']}]")
    if run["error"]:
        click.echo(f"errors: {redact(run['error'])}", err=True)
    sys.exit(0 if run["status"] == "ok" else 1)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="tracker")
def cli() -> None:
    """Hub Tracker: download, like and derivative counts of open model families on the Hugging Face Hub,
    snapshotted into a DuckDB warehouse you can query with plain SQL.

    \b
    Start here:
      tracker collect                 # one snapshot of every family in config.yaml
      tracker sql "select * from family_daily order by day desc"
      tracker status                  # last runs, warehouse size
    """


@cli.command()
@click.option(
    "--family",
    "families",
    multiple=True,
    metavar="NAME",
    help="Collect only this family (repeatable). Default: every family in the config.",
)
@click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: only in a terminal).")
@json_option
@with_settings
def collect(settings, families, progress, as_json):
    """Take one snapshot of every tracked family into the warehouse.

    Lists each family's models on the Hub (downloads, all-time downloads, likes, trending score, ...)
    and publishes them as one run: a family is stored whole or not at all.
    Exit code 0 when every family succeeded, 1 when any failed (the run is then `partial` or `failed`).

    \b
    Example:
      HF_ENDPOINT=http://127.0.0.1:8765 tracker collect --family qwen --family llama
    """
    from tracker import jobs

    check_hf_endpoint(settings)
    [settings.family(n) for n in families]  # an unknown name stops here, before the warehouse is touched
    run = jobs.collect(settings, families=list(families) or None, show_progress=progress)
    finish(
        run,
        f"{run['status']}: {_n(run['families_ok'], 'family', 'families')} stored, {run['families_failed']} failed, "
        f"{_n(run['models'], 'model')}, {_n(run['requests'], 'request')} ({run['retries']} retried) "
        f"-> {settings.warehouse}",
        as_json,
    )


@cli.command()
@click.option(
    "--family",
    "families",
    multiple=True,
    metavar="NAME",
    help="Only this family (repeatable). Default: every family in the config.",
)
@click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: only in a terminal).")
@json_option
@with_settings
def tree(settings, families, progress, as_json):
    """Count each family's derivatives: fine-tunes, adapters, quantizations and merges.

    Asks the Hub for childrenModelCount of every official model in the family's latest snapshot (one
    request per model), paced by the Hub's RateLimit headers so that it runs at the fastest rate the
    quota allows without a 429. Interrupted, it keeps what it fetched: run it again the same day and it
    fetches only the models still missing. Families with `ecosystem: true` also list the children of
    their top models. Run `tracker collect` first.

    \b
    Example:
      tracker tree --family qwen
      tracker sql "select day, family, derivatives, finetunes, quantizations from family_daily"
    """
    from tracker import jobs

    check_hf_endpoint(settings)
    [settings.family(n) for n in families]
    run = jobs.tree(settings, families=list(families) or None, show_progress=progress)
    finish(
        run,
        f"{run['status']}: {_n(run['models'], 'model')} fetched, {_n(run['requests'], 'request')}, "
        f"{run['rate_limited']} answered 429, {run['quota_wait_s']:.1f} s waiting for quota; "
        f"{_n(run['families_ok'], 'family', 'families')} complete, {run['families_failed']} incomplete",
        as_json,
    )


@cli.command()
@click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: only in a terminal).")
@with_settings
def census(settings, progress):
    """List the whole Hub once: every model, its downloads, likes and model tree.

    One paginated listing of every model (no author filter): about ⌈N/1000⌉ requests for N models
    (2,000 for 2 million: about 10 minutes within a free token's quota, 20 anonymous), paced by the
    Hub's RateLimit headers. Every model is attributed to the families whose models are among its
    roots (through any number of fine-tunes, merges, quantizations). Stopped part way, it keeps what it
    listed: run it again the same day and it resumes; nothing is visible until it is complete.

    \b
    Example:
      tracker census
      tracker sql "select family, descendants, direct, quantizations from family_ecosystem order by day desc"
    """
    from tracker import jobs
    from tracker.census_store import CensusBusy

    try:
        run = jobs.census(settings, show_progress=progress)
    except CensusBusy as exc:
        _fail(str(exc))
    if run["status"] == "ok":
        summary = (
            f"ok: {run['models']} models, {run['edges']} edges, {run['dangling_parents']} dangling parents, "
            f"{run['cycles']} cycles, {run['self_references']} self-references; {run['requests']} requests, "
            f"{run['quota_wait_s']:.1f} s waiting for quota"
        )
    else:
        summary = (
            f"{run['status']}: listing incomplete after {run['pages']} pages ({run['requests']} requests); "
            "run `tracker census` again today to resume"
        )
    finish(run, summary)


@cli.command()
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
        _fail(f"--format takes md, html or md,html (got '{fmt}')", 2)
    if week and not re.fullmatch(r"\d{4}-W(0[1-9]|[1-4]\d|5[0-3])", week):
        _fail(f"--week must be an ISO week like 2026-W34 (got '{week}')", 2)
    from tracker.jobs.common import refresh_if_stale

    if week:
        import datetime as dt

        try:
            dt.date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
        except ValueError:
            _fail(f"--week {week}: {week[:4]} has no week {int(week[6:])}", 2)
    out_dir = checked_out_dir(out)
    require_warehouse(settings)
    refresh_if_stale(settings)
    run = jobs.recorded_report(settings, week=week, out=out_dir, formats=formats)
    if as_json:
        emit_json({**run, "paths": [str(p) for p in run["paths"]]})
        return
    for path in run["paths"]:
        click.echo(str(path))


@cli.command(name="import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--taken-at",
    metavar="TIMESTAMP",
    help="When the listing was taken (ISO, UTC), for files that do not say (no fetched_at/date).",
)
@json_option
@with_settings
def import_(settings, paths, taken_at, as_json):
    """Load archived Hub listings as snapshots of their own date.

    Reads JSON arrays of Hub model records, JSON lines, the {"date", "fetched_at", "models": [...]}
    files that git-scraping repositories keep, and Parquet files with Hub field names. Families are
    assigned by config.yaml's rules; importing the same file twice changes nothing. A whole-Hub dump
    (the cfahlgren1/hub-stats models.parquet layout: tags and baseModels/safetensors columns) is
    imported as the census of its date (read in batches), with its model tree and the census views.

    \b
    Example:
      tracker import archive/2026-08-*.json
    """
    import datetime as dt

    from tracker import archive, jobs

    when = None
    if taken_at:
        try:
            when = dt.datetime.fromisoformat(taken_at.replace("Z", "+00:00"))
        except ValueError:
            _fail(f"--taken-at must be an ISO time such as 2026-08-07T06:00:00Z (got '{taken_at}')", 2)
        when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    from tracker.jobs.census import DumpError, is_dump

    dumps = [p for p in paths if is_dump(p)]  # whole-Hub dumps (hub-stats models.parquet): censuses
    results = []
    try:
        for p in dumps:
            results.append(jobs.import_dump(settings, p, taken_at=when))
        rest = [p for p in paths if p not in dumps]
        if rest:
            results += jobs.import_files(settings, rest, taken_at=when)
    except (archive.ArchiveError, DumpError) as exc:
        _fail(str(exc))
    if as_json:
        emit_json(results)
        return
    for r in results:
        if r.get("edges") is not None:
            click.echo(
                f"{r['status']:<8} {r['path']}: census of {r['run_id'][:8]}, {r['models']} models, "
                f"{r['edges']} edges [run {r['run_id']}]"
            )
            continue
        if r["status"] == "skipped":
            click.echo(f"skipped  {r['path']}: already imported [run {r['run_id']}]")
        else:
            click.echo(
                f"{r['status']:<8} {r['path']}: {_n(r['models'], 'model')} in "
                f"{_n(r['families_ok'], 'family', 'families')} [run {r['run_id']}]"
            )


@cli.command()
@click.option("--family", "families", multiple=True, metavar="NAME", help="Only this family (repeatable).")
@click.option(
    "--since",
    default="2023-01-01",
    show_default=True,
    metavar="YYYY-MM-DD",
    help="The first day of the reconstructed series.",
)
@click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: only in a terminal).")
@json_option
@with_settings
def backfill(settings, families, since, progress, as_json):
    """Reconstruct past model and derivative counts from creation dates.

    Lists the children of every official model through the Hub's model-tree filter and counts, for
    each day since --since, the official models and the derivatives per relation that existed.
    Derivatives deleted since are missing: backfilled counts are lower bounds, marked
    source = 'backfill' in family_daily, and never replace an observed snapshot. Paced and resumable
    like `tracker tree`. Run `tracker collect` first.

    \b
    Example:
      tracker backfill --since 2024-01-01
      tracker sql "select * from crossovers where metric = 'derivatives'"
    """
    import datetime as dt

    from tracker import jobs

    try:
        start = dt.date.fromisoformat(since)
    except ValueError:
        _fail(f"--since must be a date such as 2023-01-01 (got '{since}')", 2)
    check_hf_endpoint(settings)
    [settings.family(n) for n in families]
    if start > jobs.utcnow().date():
        _fail(f"--since {since} is in the future", 2)
    run = jobs.backfill(settings, families=list(families) or None, since=start, show_progress=progress)
    click.echo("note: derivatives deleted since are not in a backfill; its counts are lower bounds.", err=as_json)
    finish(
        run,
        f"{run['status']}: {_n(run['models'], 'official model')} listed, {_n(run['requests'], 'request')}, "
        f"{_n(run['families_ok'], 'family', 'families')} reconstructed since {since}",
        as_json,
    )


@cli.command()
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
        _fail("say where to export: --out DIR, or `export: {out: DIR}` in config.yaml", 2)
    fmt = fmt or (conf.format if conf else "parquet")
    day = None
    if since is not None:
        try:
            day = dt.date.fromisoformat(since)
        except ValueError:
            _fail(f"--since must be a day such as 2026-08-01 (got '{since}')", 2)
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


@cli.command()
@click.option(
    "--grace-s",
    type=click.FloatRange(min=0),
    default=None,
    help="Delete a replaced file once it has been hidden this long (default 3600 s; readers that "
    "listed it a moment before still read it).",
)
@with_settings
def compact(settings, grace_s):
    """Merge the warehouse's small files: each complete day's, then each closed month's, per dataset.

    Safe at any time, beside a running job or reader, and when killed: every row stays visible exactly
    once. The daemon runs it after its jobs; this runs it by hand.

    \b
    Example:
      tracker compact
    """
    from tracker.jobs.common import utcnow
    from tracker.warehouse import Warehouse

    res = Warehouse(settings.warehouse).compact(today=utcnow().date(), grace_s=grace_s)
    if res.busy:
        click.echo("another compaction is running; nothing done")
        return
    merged = sum(res.merged.values())
    click.echo(
        f"merged {merged} files into {res.written}; deleted {res.deleted} replaced files"
        + (" (deletions deferred: a tracker read was running)" if res.deferred else "")
    )
    click.echo("files per dataset: " + ", ".join(f"{d} {n}" for d, n in res.files_after.items()))


READ_ONLY_TYPES = {"SELECT", "EXPLAIN"}


@cli.command()
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
        _fail(str(exc))
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
            _fail(
                f"{str(exc).splitlines()[0]}\n  (views: runs, snapshots, models_latest, family_daily, quarantine; "
                "see README 'The warehouse')"
            )
    return columns, rows


def _a(word: str) -> str:
    """The indefinite article for a word: 'an ATTACH', 'a SELECT'."""
    return "an" if word[:1].upper() in "AEIOU" else "a"


def _n(count, singular: str, plural: str | None = None) -> str:
    """'1 day', '2 days', '1 family', '0 families'."""
    count = 0 if count is None else count
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


@cli.command()
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


@cli.command()
@click.option(
    "--dir",
    "folder",
    default="demo",
    show_default=True,
    help="The demo's own folder: config.yaml, warehouse/, reports/, demo.log (replaced on a rerun).",
)
@click.option(
    "--weeks",
    default=8,
    show_default=True,
    type=click.IntRange(2, 8),
    help="Simulated weeks to replay, ending with the crossover week 2026-W34.",
)
@click.option(
    "--faults",
    default=None,
    metavar="SPEC",
    help="Inject emulator faults (docs/hubsim.md), to see how the tracker copes.",
)
@json_option
def demo(folder, weeks, faults, as_json):
    """Show the whole story offline: eight simulated weeks collected, the report of the week Qwen
    overtook Llama.

    Starts the bundled Hub emulator on a free port, replays the daemon's schedule (a collect at 06:00
    and a tree at 06:30 UTC every day) for eight simulated weeks with the emulator's and the tracker's
    clocks moved together, writes the weekly report of the crossover week into <dir>/reports/, prints
    the headline, the report's path and three queries to try, and stops the emulator (also on error
    and Ctrl-C). About half a minute on two cores.

    \b
    Example:
      tracker demo
      tracker sql --config demo/config.yaml "select * from crossovers where overtaken = 'llama'"
    """
    from tracker import demo as demo_mod
    from tracker import log

    log.configure()
    if faults:
        from tracker.hubsim.faults import FaultPlan

        try:
            FaultPlan.parse(faults)
        except ValueError as exc:
            _fail(f"--faults: {exc}", 2)
    say = (lambda line: click.echo(line, err=True)) if as_json else click.echo
    try:
        result = demo_mod.run(folder, weeks=weeks, faults=faults, say=say)
    except demo_mod.DemoError as exc:
        _fail(f"{exc}; the emulator was stopped", 1)
    except KeyboardInterrupt:
        _fail("interrupted; the emulator was stopped", 130)
    except Exception as exc:  # noqa: BLE001 - anything else is reported as an internal error
        internal_error(exc)
    if as_json:
        emit_json(
            {
                "headline": result.headline,
                "week": result.week,
                "reports": [str(p) for p in result.reports],
                "config": str(result.config),
                "runs": result.runs,
                "seconds": round(result.seconds, 1),
                "queries": result.queries,
            }
        )
        return
    html = next((p for p in result.reports if p.suffix == ".html"), result.reports[0])
    click.echo("")
    click.echo(f"Headline of {result.week}: {result.headline}.")
    click.echo(f"Report: {html}  (and {html.with_suffix('.md')})")
    click.echo(f"{result.runs} runs in {result.seconds:.0f} s; everything is in {result.folder}/. Try:")
    for q in result.queries:
        click.echo(f"  {q}")


@cli.command()
@with_settings
def daemon(settings):
    """Run the scheduled jobs (config.yaml `schedule:`) until stopped with SIGTERM or Ctrl-C.

    One daemon per warehouse (a second one exits 1 naming the PID that runs). At start, and after the
    machine slept, a job whose last ok run is older than its latest scheduled time runs once, now.
    On SIGTERM/SIGINT the running job finishes, then the daemon exits 0. See docs/daemon.md.

    \b
    Example:
      HF_TOKEN=hf_... tracker daemon --config /srv/hub-tracker/config.yaml
    """
    from tracker import daemon as daemon_mod

    try:
        daemon_mod.run(settings)
    except daemon_mod.AlreadyRunning as exc:
        _fail(str(exc), 1)


from tracker.hubsim.command import hubsim  # noqa: E402  (imports only click at module level)

cli.add_command(hubsim, "hubsim")


def main() -> None:
    cli(prog_name="tracker")


if __name__ == "__main__":
    main()
