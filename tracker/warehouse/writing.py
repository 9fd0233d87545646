"""Writing the warehouse: a run's data files then its record (`publish`), model keys and attributes
(`store_models`), the derived trend tables (`write_derived`) and the served tables (`refresh_serving`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import structlog

from tracker.locks import FileLock
from tracker.warehouse import files
from tracker.warehouse.layout import WarehouseError
from tracker.warehouse.reads import LAST_FAMILY_RUNS, Reads
from tracker.warehouse.schemas import DERIVED, SCHEMAS, SERVING

log = structlog.get_logger("tracker.warehouse")

# how each served table is sorted: by what its typical queries filter on, so that they read few row groups
_SERVING_ORDER = {
    "family_daily": "family, day",
    "tree": "day, family, model_id",
    "ecosystem": "day, family, base_model_id, model_id",
    "models_latest": "family, model_id",
}

# read once in refresh_serving, in this order (a view may use those before it)
_READ_ONCE = ("_state", "runs", "_models", "_family_day", "_tree", "_ecosystem")


class Writing(Reads):
    """The warehouse's writes; they read through Reads (Warehouse's MRO is Writing, Reads either way)."""

    root: Path

    def ensure(self) -> None:  # pragma: no cover - defined by Warehouse
        raise NotImplementedError

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Serialise the short critical sections of writers (model keys): a collect by hand while the
        daemon runs one must not hand out the same key twice."""
        self.root.mkdir(parents=True, exist_ok=True)
        with FileLock(self.root / ".writer.lock"):
            yield

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
        files.write_atomic(self.table(name, df), self._file(name, day, file_id))

    def write_arrow(self, name: str, day: dt.date, file_id: str, table: pa.Table, **options: Any) -> None:
        """`write` for an Arrow table (large census files), with pyarrow writer options."""
        if table.num_rows == 0:
            return
        files.write_atomic(
            table.select(SCHEMAS[name].names).cast(SCHEMAS[name]), self._file(name, day, file_id), options
        )

    def write_derived(self, name: str, df: pd.DataFrame) -> None:
        """Replace a derived table whole (atomically)."""
        schema = DERIVED[name]
        df = df.copy()
        for f in schema:
            if pa.types.is_integer(f.type) and f.name in df.columns and df[f.name].dtype != "Int64":
                col = df[f.name]
                if not pd.api.types.is_integer_dtype(col):  # (for integers, both are the identity)
                    col = pd.to_numeric(col, errors="coerce").round()
                df[f.name] = col.astype("Int64")
            if pa.types.is_date(f.type) and f.name in df.columns:
                df[f.name] = pd.to_datetime(df[f.name]).dt.date
        tbl = self.table(name, df, schema)
        dest = self.root / "derived" / f"{name}.parquet"
        try:
            with pq.ParquetFile(dest) as held:
                same = held.read(use_threads=False).equals(tbl, check_metadata=True)  # threads cost more
            if same:
                # unchanged (e.g. no crossover yet, or family_quality written before analyse): no write;
                # its time is still set, which says it is as new as the last run (refresh_if_stale)
                os.utime(dest)
                return
        except (OSError, pa.ArrowException):
            pass
        files.write_atomic(tbl, dest)

    def publish(
        self, run: dict[str, Any], day: dt.date, datasets: dict[str, pd.DataFrame | None], *, refresh: bool = True
    ) -> None:
        """Write a run's data files, then its `runs` record, which makes them visible together; then
        rewrite the served tables (refresh=False for a bulk load that refreshes once at the end)."""
        self.ensure()
        for name, df in datasets.items():
            self.write(name, day, run["run_id"], df)
        self.write("runs", day, run["run_id"], pd.DataFrame([run]))
        if refresh:
            try:
                self.refresh_serving()
            except Exception:
                log.exception(
                    "rewriting the served tables failed; the run's data is stored and the next tracker command retries",
                    run_id=run["run_id"],
                )

    # ---- served tables ------------------------------------------------------------------------
    def _runs_seen(self) -> int:
        sql = "SELECT count(*) FROM runs"
        with self.cursor(sql) as con:
            return int(con.execute(sql).fetchall()[0][0])  # count(*): always one row

    def serving_stale(self) -> bool:
        """True when a run finished after the served tables were last written (or they are missing)."""
        marker = self.root / "serving" / "_source.json"
        if not marker.exists() or not all((self.root / "serving" / f"{n}.parquet").exists() for n in SERVING):
            return True
        try:
            seen = json.loads(marker.read_text())["runs"]
        except (ValueError, KeyError):
            return True
        return seen != self._runs_seen()

    def refresh_serving(self) -> None:
        """Rewrite the served tables whole from the raw rows (each atomically): family_daily, tree,
        ecosystem (small per-family and per-official-model tables) and models_latest (the rows of each
        family's latest successful snapshot: reads only those files)."""
        sql = {
            name: f"SELECT {', '.join(SERVING[name].names)} FROM _{name} ORDER BY {_SERVING_ORDER[name]}"
            for name in ("family_daily", "tree", "ecosystem")
        }
        with FileLock(self.root / ".serving.lock"):
            with self.cursor(*sql.values(), LAST_FAMILY_RUNS, "_resolve") as con:
                # each view that the queries below read more than once, read once: a temporary table of
                # this cursor by the same name stands in for it (DuckDB looks in temp first), held in
                # memory until the cursor closes, as the served tables' rows are anyway. _state: every
                # _files; runs: the count, _family_day and the last runs; _models: _resolve and
                # _model_first; _family_day: twice in _family_daily; _tree and _ecosystem: through
                # _family_tree too. In this order: the state is listed before any data file (as in
                # _files; the read lock held by the cursor keeps every file it names), and the runs
                # counted are those whose rows the tables hold (or fewer: a run recorded meanwhile is
                # counted by the next refresh)
                for view in _READ_ONCE:
                    con.execute(f"CREATE TEMP TABLE {view} AS SELECT * FROM {view}")
                runs = int(con.execute("SELECT count(*) FROM runs").fetchall()[0][0])  # count(*): one row
                for name, query in sql.items():
                    self._replace_served(name, con.sql(query).to_arrow_table().cast(SERVING[name]))
                latest = self.latest_rows_on(con, con.execute(LAST_FAMILY_RUNS).df())
            self._replace_served("models_latest", latest.cast(SERVING["models_latest"]))
            self.mark_serving(runs)

    def mark_serving(self, runs: int) -> None:
        """Record that the served tables hold the rows of `runs` runs (what `serving_stale` compares)."""
        marker = self.root / "serving" / "_source.json"
        tmp = marker.with_name(f".{marker.name}.{secrets.token_hex(3)}.tmp")
        tmp.write_text(json.dumps({"runs": runs}))
        tmp.replace(marker)

    def _replace_served(self, name: str, tbl: pa.Table) -> None:
        dest = self.root / "serving" / f"{name}.parquet"
        try:
            # unchanged (a collect does not change the tree): no write, no fsync. The row count (in the
            # footer) first; a small file read whole single-threaded (pyarrow's threads cost more)
            if pq.read_metadata(dest).num_rows == tbl.num_rows and pq.read_table(dest, use_threads=False).equals(tbl):
                return
        except (OSError, pa.ArrowException):
            pass
        files.write_atomic(tbl, dest)

    # ---- model keys ---------------------------------------------------------------------------
    ATTRS = ("author", "created_at", "last_modified", "pipeline_tag", "library_name", "gated", "parameters")

    def store_models(
        self,
        rows: pd.DataFrame,
        run_id: str,
        taken_at: dt.datetime,
        day: dt.date,
        renamed: dict[str, str] | None = None,
    ) -> tuple[pd.DataFrame, dict[int, str]]:
        """Give every model of `rows` (model_id + attributes) its stable integer key, and record the
        attributes that differ from those in force at `taken_at` (the ones recorded at or before it,
        else the earliest recorded: so an archive older than everything stored records its own).
        A renamed model (`renamed`: old id -> new id) keeps its old key; its new id is recorded with
        its attributes, in force from this snapshot on. Returns (model_id, model_key, created_at) for
        the rows, and every known key's (latest) model id."""
        rows = rows.drop_duplicates("model_id", keep="last")
        at = pd.Timestamp(taken_at).tz_convert("UTC").as_unit("us")
        with self.writer_lock(), self.cursor("_model_keys _models") as con:
            # the recorded attributes, read once (the keys and the attributes in force both come from
            # them): a temporary table of this cursor by the view's name stands in for it
            con.execute("CREATE TEMP TABLE _models AS SELECT * FROM _models")
            keys = con.execute("SELECT model_key, model_id FROM _model_keys").df()
            for old_id, new_id in (renamed or {}).items():
                if (keys.model_id == old_id).any() and not (keys.model_id == new_id).any():
                    keys.loc[keys.model_id == old_id, "model_id"] = new_id
            con.register("r0", rows)
            con.register("k", keys)
            # known ids keep their key; new ones get the next free keys, in the order they came
            rows = (
                con.execute("""
                SELECT r0.*, coalesce(k.model_key, (SELECT coalesce(max(model_key), 0) FROM k)
                       + row_number() OVER (PARTITION BY k.model_key IS NULL ORDER BY r0.rowid))::BIGINT AS model_key
                FROM (SELECT *, row_number() OVER () AS rowid FROM r0) r0 LEFT JOIN k USING (model_id)
                ORDER BY r0.rowid""")
                .df()
                .drop(columns=["rowid"])
            )
            con.register("r", rows)
            distinct = " OR ".join(f"r.{a} IS DISTINCT FROM c.{a}" for a in ("model_id", *self.ATTRS))
            # the attributes in force at `at`, and the rows whose attributes differ from them
            changed = con.execute(
                f"""
                WITH c AS (
                    SELECT * FROM _models
                    QUALIFY row_number() OVER (PARTITION BY model_key
                        ORDER BY valid_from <= $at DESC, CASE WHEN valid_from <= $at THEN valid_from END DESC,
                                 valid_from) = 1
                )
                SELECT r.* FROM r LEFT JOIN c USING (model_key) WHERE c.model_key IS NULL OR {distinct}""",
                {"at": at},
            ).df()
            id_of: dict[int, str] = dict(
                con.execute(
                    "SELECT model_key, model_id FROM k UNION ALL "
                    "SELECT model_key, model_id FROM r WHERE model_key NOT IN (SELECT model_key FROM k)"
                ).fetchall()
            )
            changed["valid_from"] = at
            changed["run_id"] = run_id
            self.write("models", day, run_id, changed)
        return rows[["model_id", "model_key", "created_at"]], id_of
