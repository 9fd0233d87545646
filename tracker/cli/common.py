"""What every command shares: the options (--config, --family, --progress, --json, output formats), the
checks made before any work, the one way a failure becomes a message and an exit code, and printing.

Heavy libraries (duckdb, pandas, huggingface_hub) are imported inside the functions that need them,
so that `tracker --help` answers at once.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable
from typing import NoReturn

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def fail(message: str, code: int = 1) -> NoReturn:
    """Print `error: <message>` (tokens redacted) on stderr and exit with `code`."""
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
            fail(str(exc), 2)
        try:
            return fn(settings, **kwargs)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            fail("interrupted; nothing half-written is visible (the next run resumes or redoes it)", 130)
        except Exception as exc:  # noqa: BLE001 - the one place every failure becomes a message; users' errors carry their own
            from tracker import machine
            from tracker.jobs.snapshot import CollectFailed
            from tracker.warehouse import WarehouseError

            if isinstance(exc, (WarehouseError, config.ConfigError)):
                fail(str(exc), 2 if isinstance(exc, config.ConfigError) else 1)
            if isinstance(exc, CollectFailed):
                note = "recorded as failed" if exc.recorded else "not even its failure could be recorded"
                fail(f"{exc} [run {exc.record['run_id']}, {note}]")
            paragraph = machine.explain(exc, settings.warehouse)
            if paragraph is not None:  # a full disk, a fatal DuckDB error: no traceback
                fail(paragraph)
            internal_error(exc)

    return wrapper


def internal_error(exc: BaseException) -> None:
    """One line for an unexpected error, the traceback in the error log (and at debug level); exit 1."""
    from tracker import log

    ctx = click.get_current_context(silent=True)
    path = log.record_crash(ctx.command_path if ctx else "tracker")
    where = f"; the traceback is in {path}" if path else ""
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    fail(f"unexpected error ({type(exc).__name__}: {first}){where}. Please report it with that file.", 1)


def json_option(fn):
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(fn)


def progress_option(fn):
    return click.option(
        "--progress/--no-progress", default=None, help="Show a progress bar (default: only in a terminal)."
    )(fn)


def family_option(help_text: str):
    """--family NAME, repeatable, into the parameter `families` (a tuple, empty for every family)."""
    return click.option("--family", "families", multiple=True, metavar="NAME", help=help_text)


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
            fail(f"choose one output format: {' and '.join(given)} were given together", 2)
        return fn(*args, fmt=fmt or (chosen[0] if chosen else DEFAULT), headers=not no_headers, **kwargs)

    return wrapper


# ---- checks made before any work ----------------------------------------------------------------


def require_warehouse(settings) -> None:
    """Read-only commands never create a warehouse: say where none was found, exit 1."""
    root = settings.warehouse
    if not ((root / "hub.duckdb").is_file() or (root / "runs").is_dir()):
        fail(f"no warehouse at {root} (check `warehouse:` in {settings.path}, or run `tracker collect` first)", 1)


def checked_out_dir(value: str, option: str = "--out"):
    """An output folder that exists or can be created: a file there, or a folder that cannot be made or
    written, is a usage error (exit 2), before any work is done."""
    import os
    from pathlib import Path

    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        fail(f"{option} {value}: is a file, not a folder", 2)
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK) or _pseudo_fs(probe):
        fail(f"{option} {value}: cannot write into {probe} (choose a folder you can write to)", 2)
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
            fail(
                f"the environment variable HF_ENDPOINT is '{value}', not an http(s) URL "
                "(e.g. export HF_ENDPOINT=http://127.0.0.1:8765, or unset it for huggingface.co)",
                2,
            )


def hub_families(settings, families: Iterable[str]) -> list[str] | None:
    """Before a job that asks the Hub: HF_ENDPOINT checked and every --family name known (an unknown name
    stops here, before the warehouse is touched). The names, or None for every family."""
    check_hf_endpoint(settings)
    names = list(families)
    for name in names:
        settings.family(name)
    return names or None


# ---- printing -----------------------------------------------------------------------------------


def emit_json(obj) -> None:
    from tracker import output

    click.echo(output.render_obj(obj), nl=False)


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


def counted(count, singular: str, plural: str | None = None) -> str:
    """'1 day', '2 days', '1 family', '0 families'."""
    count = 0 if count is None else count
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"
