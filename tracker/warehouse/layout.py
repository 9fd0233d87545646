"""hub.duckdb: the views over the warehouse's files, one .sql file each (tracker/sql/views/<name>.sql),
created in the order that tracker/sql/views/ORDER declares: the documented views and the internal ones
they read (hub_views); the tracker's own reads have every view, in memory (Warehouse.cursor).

hub.duckdb is written only when its views change (a new tracker version, or the folder was moved or
copied), and never loses what a user created in it (tables, views, macros): the tracker's views are
replaced in place, in one transaction, when nobody has the file open; when readers hold it (DuckDB then
refuses a writer), a new file is built beside it from a copy of the whole database (`COPY FROM
DATABASE`, the user's objects included) and renamed over it. When a user holds it open for writing,
nothing is touched and a warning says so (the tracker's own reads never need hub.duckdb).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb
import structlog

DB_NAME = "hub.duckdb"
STORAGE_COMPAT = "v1.5.0"  # the DuckDB CLI from PyPI (1.5.x) cannot read 2.0's storage format; with this it opens the file
ORDER_FILE = "ORDER"

log = structlog.get_logger("tracker.warehouse")


class WarehouseError(Exception):
    """The warehouse cannot be read or written; the message says why and what to do."""


# One in-memory DuckDB per process, shared (through cursors) by every update of hub.duckdb and every
# warehouse's read catalog: starting a DuckDB costs ~18 ms of CPU, attaching a database to one that
# runs costs ~1 ms. Never shared across a fork (see Warehouse: the child starts its own).
_INSTANCE: list[duckdb.DuckDBPyConnection] = []
_INSTANCE_LOCK = threading.Lock()


def instance() -> duckdb.DuckDBPyConnection:
    """The process's in-memory DuckDB (take a `.cursor()` of it; attach under a unique name)."""
    with _INSTANCE_LOCK:
        if not _INSTANCE:
            _INSTANCE.append(duckdb.connect(":memory:"))
        return _INSTANCE[0]


def forget_instance() -> list[duckdb.DuckDBPyConnection]:
    """After a fork, in the child: drop the parent's instance (returned, to stay referenced: closing it
    in the child would run DuckDB's teardown on threads that do not exist in it)."""
    global _INSTANCE_LOCK
    _INSTANCE_LOCK = threading.Lock()  # a thread of the parent may have held it at the fork
    held = list(_INSTANCE)
    _INSTANCE.clear()
    return held


def alias(prefix: str) -> str:
    """A name to attach a database under that no other thread's attach uses."""
    return f"{prefix}_{secrets.token_hex(4)}"


@contextmanager
def attached(path: Path, *options: str) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """A cursor of the process's DuckDB with the database file `path` attached (detached after)."""
    name = alias("db")
    with instance().cursor() as con:
        opts = f" ({', '.join(options)})" if options else ""
        con.execute(f"ATTACH '{sql_str(str(path))}' AS {name}{opts}")
        try:
            yield con, name
        finally:
            con.execute("USE memory")
            con.execute(f"DETACH {name}")


def sql_str(s: str) -> str:
    return s.replace("'", "''")


def view_files() -> list[tuple[str, str]]:
    """(name, SQL text) of every view and internal macro, in their declared order."""
    return list(_view_files())


@functools.cache
def _view_files() -> tuple[tuple[str, str], ...]:  # the package's files: read once per process
    folder = resources.files("tracker.sql").joinpath("views")
    order = [
        line.strip()
        for line in folder.joinpath(ORDER_FILE).read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    files = {p.name[:-4] for p in folder.iterdir() if p.name.endswith(".sql")}
    if len(set(order)) != len(order) or set(order) != files:
        raise WarehouseError(
            f"internal: tracker/sql/views/{ORDER_FILE} must list every view file once "
            f"(unlisted: {sorted(files - set(order))}, missing: {sorted(set(order) - files)})"
        )
    return tuple((name, folder.joinpath(f"{name}.sql").read_text(encoding="utf-8")) for name in order)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def guard_sql(root: Path, db_path: Path) -> str:
    """A condition true only while the database that holds the view sits in `root` (else an error
    that says what to do)."""
    paths = sorted({str(db_path), os.path.realpath(db_path)})
    in_list = ", ".join(f"'{sql_str(p)}'" for p in paths)
    msg = (
        f"This hub.duckdb was built for {root} and has been moved or copied. "
        "Run any tracker command with a config.yaml whose warehouse: points at its new folder "
        "(for example `tracker status`) to re-point its views."
    )
    return f"((SELECT count(*) FROM duckdb_databases() WHERE path IN ({in_list})) > 0 OR error('{sql_str(msg)}'))"


def render(text: str, root: Path, guard: str) -> str:
    return text.replace("{{warehouse}}", sql_str(str(root))).replace("{{guard}}", guard)


def install(con: duckdb.DuckDBPyConnection, root: Path, guard: str, names: set[str] | None = None) -> None:
    """Create (or replace) every view and macro on a connection, in order (or only `names`)."""
    texts = [render(text, root, guard) for name, text in view_files() if names is None or name in names]
    if texts:
        con.execute(";\n".join(texts))


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# comments name no view, nor does _files' argument (a dataset's folder); other strings may
# (`_resolve('_snapshot_rows')` reads the view it names)
_NOT_NAMES = re.compile(r"--[^\n]*|(_files)\(\s*'[^']*'\s*\)")


@functools.lru_cache(maxsize=512)
def named(sql: str) -> frozenset[str]:
    """The views and macros a query names, and every one they use in turn (a superset: any word
    outside comments that is a view's name counts)."""
    texts = _view_files()
    names = {n for n, _ in texts}
    want = set(_WORD.findall(_NOT_NAMES.sub(r" \1 ", sql))) & names
    for name, text in reversed(texts):  # a view uses only those above it (ORDER)
        if name in want:
            want |= set(_WORD.findall(_NOT_NAMES.sub(r" \1 ", text))) & names
    return frozenset(want)


@functools.cache
def hub_views() -> tuple[str, ...]:
    """The objects hub.duckdb holds, in order: every documented view (no leading underscore) and the
    internal ones they read. The internal views that only build the served tables (`_family_daily`,
    `_tree`, `_ecosystem`, ...) live only in the tracker's own read catalog: no view a user reads
    needs them."""
    texts = _view_files()
    public = [name for name, _ in texts if not name.startswith("_")]
    wanted = set(public).union(*(named(text) for name, text in texts if name in public))
    return tuple(name for name, _ in texts if name in wanted)


def _hub_texts() -> list[tuple[str, str]]:
    keep = set(hub_views())
    return [(name, text) for name, text in _view_files() if name in keep]


def _wanted() -> set[tuple[str, str]]:
    return {(name, digest(text)) for name, text in _hub_texts()}


def is_current(db_path: Path, root: Path) -> bool:
    """hub.duckdb exists and holds this version's views, pointing at `root`."""
    if not db_path.exists():
        return False
    try:
        with attached(db_path, "READ_ONLY") as (con, db):
            done = {tuple(r) for r in con.execute(f"SELECT name, sha256 FROM {db}._tracker_views").fetchall()}
            where = con.execute(f"SELECT value FROM {db}._meta WHERE key = 'warehouse'").fetchone()
    except duckdb.Error:
        return False
    return done == _wanted() and where is not None and where[0] == str(root)


def _object_kinds(con: duckdb.DuckDBPyConnection, db: str) -> dict[str, str]:
    """name -> 'VIEW' or 'MACRO' (table macros included) of one attached database's main schema."""
    kinds = {
        r[0]: "VIEW"
        for r in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE database_name = ? AND NOT internal", [db]
        ).fetchall()
    }
    kinds.update(
        {
            r[0]: ("MACRO TABLE" if r[1] == "table_macro" else "MACRO")
            for r in con.execute(
                "SELECT DISTINCT function_name, function_type FROM duckdb_functions() "
                "WHERE database_name = ? AND function_type IN ('macro', 'table_macro') AND NOT internal",
                [db],
            ).fetchall()
        }
    )
    return kinds


def _apply(con: duckdb.DuckDBPyConnection, db: str, root: Path, guard: str, *, empty: bool = False) -> None:
    """Bring the tracker's objects of database `db` (attached on `con`) up to date, leaving every
    other object alone: drop the tracker's objects this version no longer ships, (re)create the rest.
    `empty`: `db` was just created and holds nothing (no object to look up first)."""
    con.execute(f"USE {db}")
    con.execute("BEGIN")
    try:
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [db]).fetchall()
        }
        ours_before: set[str] = set()
        if "_tracker_views" in tables:
            ours_before = {r[0] for r in con.execute("SELECT name FROM _tracker_views").fetchall()}
        if "_migrations" in tables:  # hub.duckdb of tracker versions before one view per file
            ours_before |= {
                "runs",
                "snapshots",
                "models_latest",
                "_family_day",
                "family_daily",
                "quarantine",
                "tree",
                "ecosystem",
                "_family_tree",
                "family_weekly",
                "crossovers",
                "model_crossovers",
                "projections",
                "quality",
            }
            con.execute("DROP TABLE _migrations")
        shipped = _hub_texts()
        in_hub = set(hub_views())
        kinds = {} if empty else _object_kinds(con, db)
        for name in sorted(ours_before - in_hub):  # no longer in hub.duckdb
            if name in kinds:
                con.execute(f'DROP {kinds[name]} IF EXISTS "{name}"')
        # a view that became a macro (or back) cannot be replaced in place
        for name, text in shipped:
            is_macro = "CREATE OR REPLACE MACRO" in text
            if name in kinds and (kinds[name] != "VIEW") != is_macro:
                con.execute(f'DROP {kinds[name]} "{name}"')
        install(con, root, guard, in_hub)
        con.execute("CREATE TABLE IF NOT EXISTS _tracker_views (name VARCHAR PRIMARY KEY, sha256 VARCHAR)")
        con.execute("CREATE TABLE IF NOT EXISTS _meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        con.execute("DELETE FROM _tracker_views")
        rows = [[n, digest(t)] for n, t in shipped]
        con.execute(f"INSERT INTO _tracker_views VALUES {', '.join(['(?, ?)'] * len(rows))}", sum(rows, []))
        con.execute("INSERT OR REPLACE INTO _meta VALUES ('warehouse', ?)", [str(root)])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def update(root: Path, db_path: Path) -> None:
    """Create hub.duckdb, or bring its views up to date without losing the user's own objects."""
    guard = guard_sql(root, db_path)
    if db_path.exists():
        hub = alias("hub")
        with instance().cursor() as con:
            try:
                con.execute(f"ATTACH '{sql_str(str(db_path))}' AS {hub}")
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise
            else:  # nobody has it open: replace the tracker's views in place
                try:
                    _apply(con, hub, root, guard)
                finally:
                    con.execute("USE memory")
                    con.execute(f"DETACH {hub}")
                return
    tmp = root / f".{DB_NAME}.{os.getpid()}.{secrets.token_hex(3)}.tmp"
    try:
        fresh = not db_path.exists()
        with attached(tmp, f"STORAGE_VERSION '{STORAGE_COMPAT}'") as (con, new):
            if not fresh:
                old = alias("old")
                try:  # readers hold it: copy everything (the user's objects too), then replace ours
                    con.execute(f"ATTACH '{sql_str(str(db_path))}' AS {old} (READ_ONLY)")
                except duckdb.IOException as exc:
                    log.warning(
                        "hub.duckdb is open for writing in another process; its views were not updated "
                        "(the tracker's own reads do not need them). Close that session and run any "
                        "tracker command to update them.",
                        path=str(db_path),
                        error=str(exc).splitlines()[0],
                    )
                    return
                con.execute(f"COPY FROM DATABASE {old} TO {new}")
                con.execute(f"DETACH {old}")
            _apply(con, new, root, guard, empty=fresh)
        os.replace(tmp, db_path)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
