"""The warehouse: immutable Parquet files plus `hub.duckdb`, a small file holding only views over them.

Why this shape (README, "Design"): DuckDB lets one process hold a file for writing and then locks
every other process out at once ("Could not set lock on file"), and a read-only holder (a notebook, the CLI
left open) blocks writers. So no job writes data into hub.duckdb: each run writes its Parquet files under a
temporary name, fsyncs and renames them into place, and writes its `runs` record last. Readers glob
the folders on every query, so a reader that has held hub.duckdb open for hours sees a new run on its
next query, and a run killed at any point leaves nothing visible.

The package, by concern: `schemas` (what is stored), `layout` (hub.duckdb and its views, one .sql
file each), `files` (atomic writes, which files are visible), `writing` (runs, model keys, served
tables), `reads` (the jobs' reads), `compact` (merging small files). `Warehouse` is the one entry point.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tracker.warehouse import files, layout
from tracker.warehouse.compact import CompactResult, compact
from tracker.warehouse.layout import DB_NAME, STORAGE_COMPAT, WarehouseError, view_files
from tracker.warehouse.reads import Reads
from tracker.warehouse.schemas import DERIVED, SCHEMAS, SERVING, STATE
from tracker.warehouse.writing import Writing

__all__ = [
    "DB_NAME",
    "DERIVED",
    "SCHEMAS",
    "SERVING",
    "STORAGE_COMPAT",
    "CompactResult",
    "Warehouse",
    "WarehouseError",
    "new_run_id",
    "run_job",
    "view_files",
]


def new_run_id(job: str, at: dt.datetime) -> str:
    """Sortable and unique: 20260817T060000Z-collect-1a2b3c."""
    return f"{at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{job}-{secrets.token_hex(3)}"


def run_job(run_id: str) -> str:
    """The job of a run id (`new_run_id`'s, or an import's `<time>-import-<digest>`): "collect"; "" for a
    name of another shape (a file someone else put in runs/)."""
    parts = run_id.split("-", 2)
    return parts[1] if len(parts) == 3 else ""


# Per process: warehouses whose hub.duckdb was found current, and the in-memory catalog (views only,
# no file held open) that serves the tracker's own reads of each: a database attached to the process's
# one in-memory DuckDB (layout.instance), named here. Both are cheap to rebuild.
_CURRENT: set[Path] = set()
_MEMORY: dict[Path, tuple[str, set[str]]] = {}  # root -> (catalog name, the views created in it)
_MEMORY_LOCK = threading.Lock()
_INHERITED: list[object] = []


def _after_fork_in_child() -> None:
    """A DuckDB connection must not cross a fork: a forked child opens its own. The parent's stays
    referenced (never closed here: closing it in the child would run DuckDB's teardown on threads
    that do not exist in it)."""
    global _MEMORY_LOCK
    _MEMORY_LOCK = threading.Lock()  # a thread of the parent may have held it at the fork
    _INHERITED.append(layout.forget_instance())
    _MEMORY.clear()
    _CURRENT.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _has_columns(path: Path, schema: pa.Schema) -> bool:
    """The file exists, is readable Parquet and has exactly the schema's column names."""
    try:
        return pq.read_schema(path).names == schema.names
    except (OSError, pa.ArrowException):  # missing, or torn by a power cut before its seed was synced
        return False


class Warehouse(Writing, Reads):
    def __init__(self, root: Path):
        self.root = Path(root).absolute()
        self.db_path = self.root / DB_NAME
        self._ensured = False

    # ---- layout -------------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create the folders, their empty seed files and hub.duckdb, or bring hub.duckdb up to date;
        refresh the served tables if a run finished without refreshing them (killed in between)."""
        if self._ensured or (self.root in _CURRENT and self.db_path.exists()):
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            emptied_served = False
            seeds = [(self.root / name / "_empty" / "_empty.parquet", schema) for name, schema in SCHEMAS.items()]
            seeds += [(self.root / "derived" / f"{name}.parquet", schema) for name, schema in DERIVED.items()]
            seeds += [(self.root / "serving" / f"{name}.parquet", schema) for name, schema in SERVING.items()]
            seeds.append((self.root / files.STATE_DIR / "_empty.parquet", STATE))
            for path, schema in seeds:
                # views glob these folders (a glob matching nothing is an error); a seed, derived or served
                # table of an older layout is rewritten empty (the next job recomputes it), so that every
                # column a view names exists after an upgrade
                if not _has_columns(path, schema):
                    files.write_empty(schema, path)  # recreated here if lost
                    emptied_served |= path.parent.name == "serving"
            runs_dir = self.root / "runs"
            served_current = emptied_served and all(p.name == "_empty" for p in runs_dir.iterdir())
            if served_current:
                self.mark_serving(0)  # no run yet: the empty served tables are current
            elif emptied_served:
                (self.root / "serving" / "_source.json").unlink(missing_ok=True)  # rebuilt below, from the runs
        except OSError as exc:
            raise WarehouseError(
                f"cannot create the warehouse at {self.root}: {exc.strerror}. "
                "Check the `warehouse:` path in config.yaml and its permissions."
            ) from None
        self._ensured = True  # from here on, the tracker's own reads work (they need only the files)
        try:
            if not layout.is_current(self.db_path, self.root):
                layout.update(self.root, self.db_path)
            if not served_current and self.serving_stale():
                self.refresh_serving()
        except BaseException:
            self._ensured = False
            raise
        _CURRENT.add(self.root)

    # ---- reading ------------------------------------------------------------------------------
    @contextmanager
    def cursor(self, *sql: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on an in-memory DuckDB holding the same views (the tracker's own reads: no file of
        the warehouse stays open, and no connection is opened per query), under the shared read lock
        (compaction deletes replaced files only while no tracker read holds it). `sql`: the queries the
        caller runs; only the views they name (and those these use) need to exist, and are created on
        first use (creating one costs well under a millisecond: views defer binding to the query). None
        given: every view."""
        self.ensure()
        with _MEMORY_LOCK:
            entry = _MEMORY.get(self.root)
            if entry is None:
                self.root.mkdir(parents=True, exist_ok=True)
                entry = _MEMORY[self.root] = (layout.alias("reads"), set())
                with layout.instance().cursor() as con:
                    con.execute(f"ATTACH ':memory:' AS {entry[0]}")
            catalog, done = entry
            want = set().union(*map(layout.named, sql)) if sql else {n for n, _ in view_files()}
            if not want <= done:
                with layout.instance().cursor() as con:
                    con.execute(f"USE {catalog}")
                    layout.install(con, self.root, "true", want - done)
                done |= want
        with files.read_lock(self.root), layout.instance().cursor() as cur:
            cur.execute(f"USE {catalog}")
            yield cur

    @contextmanager
    def scratch(self, memory_limit: str, temp_directory: Path) -> Iterator[duckdb.DuckDBPyConnection]:
        """A private in-memory DuckDB for heavy builds (a census day): capped memory, spilling to
        `temp_directory`, two threads; it reads the warehouse's files by path, never hub.duckdb."""
        con = duckdb.connect(
            config={
                "memory_limit": memory_limit,
                "threads": 2,
                "temp_directory": str(temp_directory),
                "preserve_insertion_order": False,
            }
        )
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")  # it would print on stdout during long builds
            yield con
        finally:
            con.close()

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to hub.duckdb (which never conflicts with a running collect)."""
        self.ensure()
        with files.read_lock(self.root):
            yield from self._connect_ro()

    def _connect_ro(self) -> Iterator[duckdb.DuckDBPyConnection]:
        for attempt in range(50):
            try:
                con = duckdb.connect(str(self.db_path), read_only=True)
                break
            except duckdb.IOException as exc:  # only while someone opened hub.duckdb read-write
                if "lock" not in str(exc).lower() or attempt == 49:
                    pid = re.search(r"PID (\d+)", str(exc))
                    raise WarehouseError(
                        f"{self.db_path} is locked for writing by another process"
                        f"{f' (PID {pid.group(1)})' if pid else ''}. Close that session (the tracker itself only "
                        "writes it for a moment when its views change) or open it read-only: duckdb -readonly "
                        f"{self.db_path}"
                    ) from None
                time.sleep(0.1)
        try:
            yield con
        finally:
            con.close()

    def query(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        """One query of the views, as a frame: `read`, on the in-memory catalog that serves the tracker's
        own reads (the same view files as hub.duckdb, without opening it: ~1 ms, not the ~16 ms of a
        connection to the file)."""
        return self.read(sql, params)

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())

    def compact(self, *, today: dt.date | None = None, grace_s: float | None = None) -> CompactResult:
        """Merge small files (see compact.py); returns what was merged and deleted."""
        self.ensure()
        return compact(self, today=today, grace_s=grace_s)
