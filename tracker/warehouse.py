"""The warehouse: immutable Parquet files plus `hub.duckdb`, a small file holding only views over them.

Why this shape (README, "Design"): DuckDB lets one process hold a file for writing and then locks
every other process out, and a read-only holder (a notebook, the CLI left open) blocks writers
(RELIABILITY.md §1.1). Here the writer never opens hub.duckdb for writing at all: each run writes its
Parquet files under a temporary name, fsyncs and renames them into place, and writes its `runs`
record last. Readers glob the folders on every query, so a reader that has held hub.duckdb open for
hours sees a new run on its next query, and a run killed at any point leaves nothing visible.

hub.duckdb itself is rebuilt (to a temporary file, then an atomic rename) only when a migration is
added or the warehouse folder has moved; readers holding the old file keep working.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tracker.census_tables import CENSUS_SCHEMAS
from tracker.locks import FileLock
from tracker.metrics import WEEKLY_METRICS

DB_NAME = "hub.duckdb"
STORAGE_COMPAT = "v1.5.0"  # so that the DuckDB CLI from PyPI (1.5.x) opens the file (RELIABILITY.md §1.9)
_TS = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    "runs": pa.schema([
        ("run_id", pa.string()), ("job", pa.string()), ("started_at", _TS), ("finished_at", _TS),
        ("status", pa.string()), ("families_ok", pa.int32()), ("families_failed", pa.int32()),
        ("models", pa.int64()), ("requests", pa.int64()), ("retries", pa.int64()), ("error", pa.string()),
    ]),
    # the daily rows hold only what changes daily; a model's attributes live in `models` (below), so
    # that a snapshot row costs a few bytes (the `snapshots` view joins them back)
    "snapshots": pa.schema([
        ("run_id", pa.string()), ("taken_at", _TS), ("day", pa.date32()), ("family", pa.string()),
        ("model_key", pa.int64()), ("downloads_30d", pa.int64()), ("downloads_all_time", pa.int64()),
        ("likes", pa.int64()), ("trending_score", pa.float64()),
    ]),
    # one row per model whenever its attributes are new or changed (valid from that snapshot on)
    "models": pa.schema([
        ("model_key", pa.int64()), ("model_id", pa.string()), ("author", pa.string()), ("created_at", _TS),
        ("last_modified", _TS), ("pipeline_tag", pa.string()), ("library_name", pa.string()),
        ("gated", pa.string()), ("valid_from", _TS), ("run_id", pa.string()), ("parameters", pa.int64()),
    ]),
    "family_snapshots": pa.schema([
        ("run_id", pa.string()), ("taken_at", _TS), ("day", pa.date32()), ("family", pa.string()),
        ("label", pa.string()), ("region", pa.string()), ("models", pa.int64()), ("downloads_30d", pa.int64()),
        ("downloads_all_time", pa.int64()), ("likes", pa.int64()),
        ("downloads_interval", pa.int64()), ("interval_days", pa.int32()),
    ]),
    # model-level data-quality findings of a collect (family-level ones are derived from family_daily)
    "quality": pa.schema([
        ("run_id", pa.string()), ("day", pa.date32()), ("family", pa.string()), ("model_id", pa.string()),
        ("issue", pa.string()), ("detail", pa.string()),
    ]),
    # tree: one file per flushed chunk of model_info answers (kept across interrupted runs of a day)
    "tree_parts": pa.schema([
        ("run_id", pa.string()), ("taken_at", _TS), ("day", pa.date32()), ("model_id", pa.string()),
        ("status", pa.string()), ("current_id", pa.string()), ("finetunes", pa.int64()), ("adapters", pa.int64()),
        ("quantizations", pa.int64()), ("merges", pa.int64()), ("derivatives", pa.int64()),
        ("base_relation", pa.string()), ("base_models", pa.list_(pa.string())),
    ]),
    # written once a family's tree of a day is complete: its official models; makes the day visible
    "tree_members": pa.schema([
        ("run_id", pa.string()), ("day", pa.date32()), ("family", pa.string()), ("model_id", pa.string()),
    ]),
    "ecosystem": pa.schema([
        ("run_id", pa.string()), ("day", pa.date32()), ("family", pa.string()), ("base_model_id", pa.string()),
        ("relation", pa.string()), ("model_id", pa.string()), ("author", pa.string()),
        ("downloads_30d", pa.int64()), ("downloads_all_time", pa.int64()), ("likes", pa.int64()),
    ]),
    # `tracker backfill`: the children each official model has now, with their creation times (one
    # row with model_id NULL marks a parent as listed, children or not) ...
    "backfill_parts": pa.schema([
        ("run_id", pa.string()), ("day", pa.date32()), ("parent_id", pa.string()), ("model_id", pa.string()),
        ("relation", pa.string()), ("created_at", _TS),
    ]),
    # ... and the daily series reconstructed from them, per family
    "backfill": pa.schema([
        ("run_id", pa.string()), ("computed_on", pa.date32()), ("day", pa.date32()), ("family", pa.string()),
        ("label", pa.string()), ("region", pa.string()), ("models", pa.int64()), ("derivatives", pa.int64()),
        ("finetunes", pa.int64()), ("adapters", pa.int64()), ("quantizations", pa.int64()), ("merges", pa.int64()),
    ]),
    "quarantine": pa.schema([
        ("run_id", pa.string()), ("family", pa.string()), ("model_id", pa.string()), ("reason", pa.string()),
        ("raw", pa.string()),
    ]),
    # renames a collect followed (the Hub redirects the old id): the series continues under one key
    "aliases": pa.schema([
        ("run_id", pa.string()), ("detected_on", pa.date32()), ("old_id", pa.string()), ("new_id", pa.string()),
    ]),
}
SCHEMAS.update(CENSUS_SCHEMAS)  # the whole-Hub census's datasets (tracker/census_tables.py)




def _weekly_schema() -> pa.Schema:
    fields = [("week", pa.string()), ("week_start", pa.date32()), ("family", pa.string()), ("label", pa.string()),
              ("region", pa.string())]
    for m in WEEKLY_METRICS:
        fields += [(m, pa.int64()), (f"{m}_wow", pa.int64()), (f"{m}_wow_pct", pa.float64()),
                   (f"{m}_wow_same", pa.int64()), (f"{m}_wow_pct_same", pa.float64()), (f"{m}_share", pa.float64())]
    fields += [("models_new", pa.int64()), ("models_entered", pa.int64()), ("models_left", pa.int64()),
               ("downloads_week_days", pa.int64())]
    return pa.schema(fields)


def _crossover_schema(entity: str, prefix: str) -> pa.Schema:
    return pa.schema([("day", pa.date32()), ("metric", pa.string()), (entity, pa.string()), ("overtaken", pa.string()),
                      (f"{prefix}_value", pa.float64()), ("overtaken_value", pa.float64()),
                      ("previous_day", pa.date32()), (f"{prefix}_previous_value", pa.float64()),
                      ("overtaken_previous_value", pa.float64()), ("reversed", pa.bool_()),
                      ("reversed_day", pa.date32()), ("holds_same_models", pa.bool_()), ("after_stale", pa.bool_()),
                      ("headline", pa.bool_())])


# Derived tables: recomputed from the small family series after every job and replaced whole
# (one file each), so that the trend views answer at once however long the history.
DERIVED: dict[str, pa.Schema] = {
    "family_weekly": _weekly_schema(),
    "crossovers": _crossover_schema("family", "family"),
    "model_crossovers": _crossover_schema("model_id", "model"),
    "projections": pa.schema([("as_of", pa.date32()), ("metric", pa.string()), ("family", pa.string()),
                              ("overtaken", pa.string()), ("projected_from", pa.date32()), ("projected_to", pa.date32()),
                              ("projected_day", pa.date32()), ("window_days", pa.int32()), ("first_day", pa.date32()),
                              ("last_day", pa.date32()), ("n_points", pa.int32())]),
    "family_quality": pa.schema([("day", pa.date32()), ("family", pa.string()), ("model_id", pa.string()),
                                 ("issue", pa.string()), ("detail", pa.string())]),
    "adoption": pa.schema([("model_id", pa.string()), ("family", pa.string()), ("size_class", pa.string()),
                           ("age_days", pa.int32()), ("downloads_all_time", pa.int64()),
                           ("relative_adoption", pa.float64()), ("release_year", pa.int32()),
                           ("parameters", pa.int64()), ("day", pa.date32()), ("peers", pa.int32())]),
}


class WarehouseError(Exception):
    """The warehouse cannot be read or written; the message says why and what to do."""


def new_run_id(job: str, at: dt.datetime) -> str:
    """Sortable and unique: 20260817T060000Z-collect-1a2b3c."""
    return f"{at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{job}-{secrets.token_hex(3)}"


def migrations() -> list[tuple[str, str]]:
    """The numbered .sql files shipped in tracker/sql, in order: (name, text)."""
    files = sorted(p for p in resources.files("tracker.sql").iterdir() if re.match(r"^\d{3}_.*\.sql$", p.name))
    return [(p.name, p.read_text(encoding="utf-8")) for p in files]


def _sql_str(s: str) -> str:
    return s.replace("'", "''")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Per process: warehouses whose hub.duckdb was found current, and the in-memory DuckDB (views only,
# no file held open) that serves the tracker's own reads of each. Both are cheap to rebuild.
_CURRENT: set[Path] = set()
_MEMORY: dict[Path, duckdb.DuckDBPyConnection] = {}
_INHERITED: list[dict] = []


def _after_fork_in_child() -> None:
    """A DuckDB connection must not cross a fork: a forked child opens its own. The parent's stay
    referenced (never closed here: closing one in the child would run DuckDB's teardown on threads
    that do not exist in it)."""
    _INHERITED.append(dict(_MEMORY))
    _MEMORY.clear()
    _CURRENT.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


class Warehouse:
    def __init__(self, root: Path):
        self.root = Path(root).absolute()
        self.db_path = self.root / DB_NAME
        self._ensured = False
        self._mem: duckdb.DuckDBPyConnection | None = None

    # ---- layout -------------------------------------------------------------------------------
    def ensure(self) -> None:
        """Create the folders, their empty seed files and hub.duckdb, or bring hub.duckdb up to date."""
        if self._ensured or (self.root in _CURRENT and self.db_path.exists()):
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            for name, schema in SCHEMAS.items():
                seed = self.root / name / "_empty" / "_empty.parquet"
                # views glob these folders (a glob matching nothing is an error); a seed of an older
                # schema is rewritten so that every column a view names exists
                if not seed.exists() or pq.read_schema(seed).names != schema.names:
                    seed.parent.mkdir(parents=True, exist_ok=True)
                    self._write_atomic(schema.empty_table(), seed)
            for name, schema in DERIVED.items():
                dest = self.root / "derived" / f"{name}.parquet"
                # a derived table of an older layout is emptied (the next derive recomputes it) so that
                # the views, which name every column, open after an upgrade
                if not dest.exists() or pq.read_schema(dest).names != schema.names:
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    self._write_atomic(schema.empty_table(), dest)
        except OSError as exc:
            raise WarehouseError(f"cannot create the warehouse at {self.root}: {exc.strerror}. "
                                 "Check the `warehouse:` path in config.yaml and its permissions.") from None
        if self._views_stale():
            self._build_views()
        self._ensured = True
        _CURRENT.add(self.root)

    def _guard(self) -> str:
        paths = sorted({str(self.db_path), os.path.realpath(self.db_path)})
        in_list = ", ".join(f"'{_sql_str(p)}'" for p in paths)
        msg = (f"This hub.duckdb was built for {self.root} and has been moved or copied. "
               "Run any tracker command with a config.yaml whose warehouse: points at its new folder "
               "(for example `tracker status`) to re-point its views.")
        return (f"((SELECT count(*) FROM duckdb_databases() WHERE path IN ({in_list})) > 0 "
                f"OR error('{_sql_str(msg)}'))")

    def _views_stale(self) -> bool:
        if not self.db_path.exists():
            return True
        try:
            with duckdb.connect(str(self.db_path), read_only=True) as con:
                done = {tuple(r) for r in con.execute("SELECT name, sha256 FROM _migrations").fetchall()}
                where = con.execute("SELECT value FROM _meta WHERE key = 'warehouse'").fetchone()
        except duckdb.Error:
            return True
        want = {(name, hashlib.sha256(text.encode()).hexdigest()) for name, text in migrations()}
        return done != want or where is None or where[0] != str(self.root)

    def _build_views(self) -> None:
        tmp = self.root / f".{DB_NAME}.{os.getpid()}.{secrets.token_hex(3)}.tmp"
        try:
            with duckdb.connect(str(tmp), config={"storage_compatibility_version": STORAGE_COMPAT}) as con:
                con.execute("CREATE TABLE _migrations (name VARCHAR PRIMARY KEY, sha256 VARCHAR, applied_at TIMESTAMPTZ)")
                con.execute("CREATE TABLE _meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
                con.execute("INSERT INTO _meta VALUES ('warehouse', ?)", [str(self.root)])
                guard = self._guard()
                for name, text in migrations():
                    sql = text.replace("{{warehouse}}", _sql_str(str(self.root))).replace("{{guard}}", guard)
                    con.execute("BEGIN")
                    con.execute(sql)
                    con.execute("INSERT INTO _migrations VALUES (?, ?, now())",
                                [name, hashlib.sha256(text.encode()).hexdigest()])
                    con.execute("COMMIT")
                con.execute("CHECKPOINT")
            os.replace(tmp, self.db_path)
        finally:
            for leftover in (tmp, Path(f"{tmp}.wal")):
                leftover.unlink(missing_ok=True)

    # ---- writing ------------------------------------------------------------------------------
    @staticmethod
    def _write_atomic(table: pa.Table, dest: Path, options: dict[str, Any] | None = None) -> None:
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")  # pid: see machine.leftovers
        if options is not None:
            options = {"compression": "zstd", **options}
        elif "model_key" in table.column_names and "downloads_all_time" in table.column_names:
            options = {"compression": "zstd"}
            # snapshot rows, sorted by family and key: delta-encoded keys cost almost nothing, where a
            # dictionary of 100,000 keys costs 3 bytes a row (bench/report.py)
            options["use_dictionary"] = [c for c in ("run_id", "family", "trending_score") if c in table.column_names]
            options["column_encoding"] = {"model_key": "DELTA_BINARY_PACKED"}
        else:
            options = {"compression": "zstd"}
        try:
            with open(tmp, "wb") as fh:
                pq.write_table(table, fh, **options)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(dest.parent)

    def table(self, name: str, df: pd.DataFrame, schema: pa.Schema | None = None) -> pa.Table:
        """A DataFrame as an Arrow table of the dataset's declared schema (a wrong type raises)."""
        schema = schema or SCHEMAS[name]
        missing = [f.name for f in schema if f.name not in df.columns]
        if missing:
            raise WarehouseError(f"internal: {name} rows lack columns {missing}")
        return pa.Table.from_pandas(df[schema.names], schema=schema, preserve_index=False)

    def _file(self, name: str, day: dt.date, file_id: str) -> Path:
        return self.root / name / day.isoformat() / f"{file_id}.parquet"

    def write(self, name: str, day: dt.date, file_id: str, df: pd.DataFrame | None) -> None:
        """Write one immutable data file of a dataset (atomically); nothing for an empty frame."""
        if df is None or len(df) == 0:
            return
        dest = self._file(name, day, file_id)
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._write_atomic(self.table(name, df), dest)

    def write_arrow(self, name: str, day: dt.date, file_id: str, table: pa.Table, **options: Any) -> None:
        """`write` for an Arrow table (large census files), with pyarrow writer options."""
        if table.num_rows == 0:
            return
        dest = self._file(name, day, file_id)
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._write_atomic(table.select(SCHEMAS[name].names).cast(SCHEMAS[name]), dest, options)

    def write_derived(self, name: str, df: pd.DataFrame) -> None:
        """Replace a derived table whole (atomically)."""
        schema = DERIVED[name]
        df = df.copy()
        for f in schema:
            if pa.types.is_integer(f.type) and f.name in df.columns:
                df[f.name] = pd.to_numeric(df[f.name], errors="coerce").round().astype("Int64")
            if pa.types.is_date(f.type) and f.name in df.columns:
                df[f.name] = pd.to_datetime(df[f.name]).dt.date
        self._write_atomic(self.table(name, df, schema), self.root / "derived" / f"{name}.parquet")

    def publish(self, run: dict[str, Any], day: dt.date, datasets: dict[str, pd.DataFrame | None]) -> None:
        """Write a run's data files, then its `runs` record, which makes them visible together."""
        self.ensure()
        for name, df in datasets.items():
            self.write(name, day, run["run_id"], df)
        self.write("runs", day, run["run_id"], pd.DataFrame([run]))

    # ---- reading ------------------------------------------------------------------------------
    def _internal(self) -> duckdb.DuckDBPyConnection:
        """A cursor on an in-memory DuckDB holding the same views (the tracker's own reads: no file of
        the warehouse stays open, and no connection is opened per query)."""
        if self._mem is None:
            self.ensure()
            mem = _MEMORY.get(self.root)
            if mem is None:
                mem = duckdb.connect()
                for _name, text in migrations():
                    mem.execute(text.replace("{{warehouse}}", _sql_str(str(self.root))).replace("{{guard}}", "true"))
                _MEMORY[self.root] = mem
            self._mem = mem
        return self._mem.cursor()

    @contextmanager
    def scratch(self, memory_limit: str, temp_directory: Path) -> Iterator[duckdb.DuckDBPyConnection]:
        """A private in-memory DuckDB for heavy builds (a census day): capped memory, spilling to
        `temp_directory`, two threads; it reads the warehouse's files by path, never hub.duckdb."""
        con = duckdb.connect(config={"memory_limit": memory_limit, "threads": 2, "temp_directory": str(temp_directory),
                                     "preserve_insertion_order": False})
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
        for attempt in range(50):
            try:
                con = duckdb.connect(str(self.db_path), read_only=True)
                break
            except duckdb.IOException as exc:  # only while someone opened hub.duckdb read-write by hand
                if "lock" not in str(exc).lower() or attempt == 49:
                    pid = re.search(r"PID (\d+)", str(exc))
                    raise WarehouseError(
                        f"{self.db_path} is locked for writing by another process"
                        f"{f' (PID {pid.group(1)})' if pid else ''}. Close that session (the tracker itself never "
                        "opens it for writing) or open it read-only: duckdb -readonly " f"{self.db_path}") from None
                time.sleep(0.1)
        try:
            yield con
        finally:
            con.close()

    def query(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute(sql, params).df() if params else con.sql(sql).df()

    def _glob(self, name: str) -> str:
        return str(self.root / name / "*" / "*.parquet")

    def latest_members(self, families: list[str]) -> dict[str, list[str] | None]:
        """Each family's models in its latest successful collect (the official models of `tree` and
        `backfill`): a list, empty when that snapshot had no model, None when there is no collect yet."""
        runs = self.last_family_runs(job="collect")
        runs = runs[runs.family.isin(families)]
        rows = self._rows_of(runs)
        out: dict[str, list[str] | None] = {f: None for f in families}
        for fam in runs.family:
            out[fam] = sorted(rows.model_id[rows.family == fam])
        return out

    def tree_fetched(self, day: dt.date) -> pd.DataFrame:
        """model_info answers already stored for a day, by any run (finished or interrupted)."""
        with self._internal() as con:
            return con.execute(
                "SELECT * FROM read_parquet(?, union_by_name = true) WHERE day = ? "
                "QUALIFY row_number() OVER (PARTITION BY model_id ORDER BY taken_at DESC) = 1",
                [self._glob("tree_parts"), day]).df()

    def backfill_listed(self, day: dt.date) -> pd.DataFrame:
        """The children stored by backfill runs of a day (finished or interrupted), one row per parent
        and child; parents listed with no child have one row with model_id NULL."""
        with self._internal() as con:
            return con.execute(
                "SELECT DISTINCT parent_id, model_id, relation, created_at FROM read_parquet(?, union_by_name = true) "
                "WHERE day = ?", [self._glob("backfill_parts"), day]).df()

    def imported_runs(self) -> set[str]:
        with self._internal() as con:
            return {r[0] for r in con.execute("SELECT run_id FROM runs WHERE job = 'import'").fetchall()}

    def tree_complete(self, day: dt.date) -> set[str]:
        """Families whose tree of this day is complete (visible)."""
        with self._internal() as con:
            rows = con.execute("SELECT DISTINCT family FROM tree WHERE day = ?", [day]).fetchall()
        return {r[0] for r in rows}

    def read(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        """A query over the views, for the tracker's own reads (no file of the warehouse stays open)."""
        with self._internal() as con:
            return con.execute(sql, params).df() if params is not None else con.sql(sql).df()

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Serialise the short critical sections of writers (model keys): a collect by hand while the
        daemon runs one must not hand out the same key twice."""
        with FileLock(self.root / ".writer.lock"):
            yield

    def model_versions(self) -> pd.DataFrame:
        """Every model's latest attributes (model_key, model_id, author, created_at, ...)."""
        with self._internal() as con:
            return con.execute(
                "SELECT * FROM read_parquet(?, union_by_name = true) "
                "QUALIFY row_number() OVER (PARTITION BY model_key ORDER BY valid_from DESC) = 1",
                [self._glob("models")]).df()

    ATTRS = ("author", "created_at", "last_modified", "pipeline_tag", "library_name", "gated", "parameters")

    def store_models(self, rows: pd.DataFrame, run_id: str, taken_at: dt.datetime,
                     day: dt.date, renamed: dict[str, str] | None = None) -> tuple[pd.DataFrame, dict[int, str]]:
        """Give every model of `rows` (model_id + attributes) its stable integer key, and record the
        attributes that are new or changed. A renamed model (`renamed`: old id -> new id) keeps its old
        key. Returns (model_id, model_key, created_at) for the rows, and every known key's model id."""
        rows = rows.drop_duplicates("model_id", keep="last")
        with self.writer_lock():
            cur = self.model_versions()
            cur = cur.assign(**{a: None for a in self.ATTRS if a not in cur.columns})
            keys = dict(zip(cur.model_id, cur.model_key))
            for old, new in (renamed or {}).items():
                if old in keys and new not in keys:
                    keys[new] = keys.pop(old)
            nxt = int(cur.model_key.max()) + 1 if len(cur) else 1
            new_ids = [m for m in rows.model_id if m not in keys]
            keys.update(zip(new_ids, range(nxt, nxt + len(new_ids))))
            rows = rows.assign(model_key=rows.model_id.map(keys).astype("int64"))
            with self._internal() as con:
                con.register("r", rows)
                con.register("c", cur)
                distinct = " OR ".join(f"r.{a} IS DISTINCT FROM c.{a}" for a in ("model_id", *self.ATTRS))
                changed = con.sql(f"SELECT r.* FROM r LEFT JOIN c USING (model_key) "
                                  f"WHERE c.model_key IS NULL OR {distinct}").df()
            changed["valid_from"] = pd.Timestamp(taken_at).tz_convert("UTC").as_unit("us")
            changed["run_id"] = run_id
            self.write("models", day, run_id, changed)
        return rows[["model_id", "model_key", "created_at"]], {k: m for m, k in keys.items()}

    def last_family_runs(self, *, before: dt.date | None = None, until: dt.date | None = None,
                         job: str | None = None) -> pd.DataFrame:
        """Each family's last successful snapshot (family, run_id, day, taken_at): of a day before
        `before` and/or up to `until`, of one job if given."""
        params: dict[str, Any] = {"glob": self._glob("family_snapshots")}
        where = ["run_id IN (SELECT run_id FROM runs WHERE status IN ('ok', 'partial')"
                 + (" AND job = $job)" if job else ")")]
        if job:
            params["job"] = job
        if before is not None:
            params["before"] = before
            where.append("day < $before")
        if until is not None:
            params["until"] = until
            where.append("day <= $until")
        with self._internal() as con:
            return con.execute(f"""
                SELECT family, run_id, day, taken_at FROM read_parquet($glob, union_by_name = true)
                WHERE {' AND '.join(where)}
                QUALIFY row_number() OVER (PARTITION BY family ORDER BY taken_at DESC, run_id DESC) = 1""",
                               params).df()

    def previous_family_runs(self, before: dt.date) -> dict[str, tuple[str, dt.date, pd.Timestamp]]:
        """Each family's last successful snapshot of a day before `before`: run_id, day, taken_at."""
        df = self.last_family_runs(before=before)
        return {r.family: (r.run_id, r.day.date(), r.taken_at) for r in df.itertuples()}

    def snapshot_rows(self, run_id: str, day: dt.date, family: str) -> pd.DataFrame:
        """The stored rows of one family in one run (reads one file)."""
        path = self._file("snapshots", day, run_id)
        if not path.exists():
            return SCHEMAS["snapshots"].empty_table().to_pandas()
        with self._internal() as con:
            return con.execute("SELECT * FROM read_parquet(?) WHERE family = ?", [str(path), family]).df()

    def family_series(self) -> pd.DataFrame:
        """family_daily plus each row's interval length (for the trailing-week sums)."""
        with self._internal() as con:
            return con.sql("""
                SELECT f.*, d.interval_days FROM family_daily f
                LEFT JOIN _family_day d USING (day, family)
                ORDER BY family, day""").df()

    def snapshot_on(self, day: dt.date) -> pd.DataFrame:
        """Each family's last successful snapshot at or before `day`, with model ids (reads only those files)."""
        return self._rows_of(self.last_family_runs(until=day))

    def rows_of(self, runs: pd.DataFrame) -> pd.DataFrame:
        """The snapshot rows of the given (family, run_id, day) picks (reads only those files)."""
        return self._rows_of(runs)

    def _rows_of(self, runs: pd.DataFrame) -> pd.DataFrame:
        """The snapshot rows of the given (family, run_id, day) picks, with model ids, created_at,
        taken_at and parameters."""
        cols = ["day", "family", "model_id", "downloads_30d", "downloads_all_time", "likes", "created_at",
                "taken_at", "parameters"]
        files = sorted({str(self._file("snapshots", r.day.date(), r.run_id)) for r in runs.itertuples()})
        files = [f for f in files if Path(f).exists()]
        if not files:
            return pd.DataFrame(columns=cols)
        with self._internal() as con:
            con.register("pick", runs[["family", "run_id"]])
            return con.execute("""
                SELECT s.day, s.family, m.model_id, s.downloads_30d, s.downloads_all_time, s.likes, m.created_at,
                       s.taken_at, m.parameters
                FROM read_parquet($files, union_by_name = true) s JOIN pick p USING (family, run_id)
                ASOF LEFT JOIN read_parquet($models, union_by_name = true) m
                     ON s.model_key = m.model_key AND s.taken_at >= m.valid_from""",
                               {"files": files, "models": self._glob("models")}).df()

    def model_series(self, model_ids: list[str]) -> pd.DataFrame:
        """Daily values (last successful snapshot of each day) of a few models: day, model_id, metrics."""
        with self._internal() as con:
            return con.execute("""
                WITH keys AS (SELECT DISTINCT model_key, model_id FROM read_parquet($models, union_by_name = true)
                              WHERE model_id IN (SELECT unnest($ids)))
                SELECT s.day, k.model_id, s.downloads_30d, s.downloads_all_time, s.likes
                FROM read_parquet($snaps, union_by_name = true) s JOIN keys k USING (model_key)
                WHERE s.run_id IN (SELECT run_id FROM runs WHERE status IN ('ok', 'partial'))
                QUALIFY row_number() OVER (PARTITION BY s.day, k.model_id ORDER BY s.taken_at DESC, s.family) = 1
                ORDER BY k.model_id, s.day""",
                               {"ids": model_ids, "models": self._glob("models"),
                                "snaps": self._glob("snapshots")}).df()

    def aggregate(self, snapshots: pd.DataFrame) -> pd.DataFrame:
        """Per-family sums of a run's snapshot rows (NULL-aware: a sum over only NULLs is NULL)."""
        with self._internal() as con:
            con.register("s", snapshots)
            return con.sql("""
                SELECT family, count(*) AS models, sum(downloads_30d)::BIGINT AS downloads_30d,
                       sum(downloads_all_time)::BIGINT AS downloads_all_time, sum(likes)::BIGINT AS likes
                FROM s GROUP BY family""").df()
