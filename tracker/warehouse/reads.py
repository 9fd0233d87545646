"""The jobs' reads of the warehouse: each family's last snapshot and its rows, model keys and series,
tree and backfill progress. They read only the files they need (a day's folders), never all history,
except model_series (the daily values of a few leading models)."""

from __future__ import annotations

import datetime as dt
import secrets
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from tracker.warehouse import files
from tracker.warehouse.schemas import SCHEMAS, SERVING


class Reads:
    root: Path

    def cursor(self, *sql: str) -> AbstractContextManager[duckdb.DuckDBPyConnection]:  # pragma: no cover - defined by Warehouse
        raise NotImplementedError

    def read(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        """A query over the views, for the tracker's own reads (no file of the warehouse stays open).
        Through `execute`, not `sql`: a relation binds the query once more (globs and Parquet footers
        again) before it runs, a third more CPU for a read of the views; the frames are the same."""
        with self.cursor(sql) as con:
            return con.execute(sql, params).df()

    def _day_files(self, name: str, days) -> list[str]:
        folders = sorted({f for d in days for f in files.day_folders(d)})
        return [str(p) for p in files.visible(self.root, name, folders)]

    def model_versions(self) -> pd.DataFrame:
        """Every model's latest attributes (model_key, model_id, author, created_at, ...)."""
        return self.read(
            "SELECT * FROM _files('models') "
            "QUALIFY row_number() OVER (PARTITION BY model_key ORDER BY valid_from DESC) = 1"
        )

    def last_family_runs(
        self, *, before: dt.date | None = None, until: dt.date | None = None, job: str | None = None
    ) -> pd.DataFrame:
        """Each family's last successful snapshot (family, run_id, day, taken_at): of a day before
        `before` and/or up to `until`, of one job if given."""
        return self.read(*_last_family_runs(before=before, until=until, job=job))

    def previous_family_runs(self, before: dt.date) -> dict[str, tuple[str, dt.date, pd.Timestamp]]:
        """Each family's last successful snapshot of a day before `before`: run_id, day, taken_at."""
        df = self.last_family_runs(before=before)
        return {
            fam: (run, day.date(), at)
            for fam, run, day, at in zip(df["family"], df["run_id"], df["day"], df["taken_at"], strict=True)
        }

    def snapshot_rows(self, run_id: str, day: dt.date, family: str | list[str]) -> pd.DataFrame:
        """The stored rows (model keys and counts) of one family (or several) in one run (reads one
        day's files)."""
        paths = self._day_files("snapshots", [day])
        if not paths:
            return SCHEMAS["snapshots"].empty_table().to_pandas()
        with self.cursor("") as con:  # no view
            return con.execute(
                "SELECT * FROM read_parquet($f, union_by_name = true) "
                "WHERE run_id = $r AND family IN (SELECT unnest($fam::VARCHAR[]))",
                {"f": paths, "r": run_id, "fam": [family] if isinstance(family, str) else family},
            ).df()

    def family_series(self) -> pd.DataFrame:
        """family_daily plus each row's interval length (for the trailing-week sums)."""
        with self.cursor("") as con:  # no view
            path = str(self.root / "serving" / "family_daily.parquet")
            return con.execute("SELECT * FROM read_parquet(?) ORDER BY family, day", [path]).df()

    def snapshot_on(self, day: dt.date) -> pd.DataFrame:
        """Each family's last successful snapshot at or before `day`, with model ids (reads only those files)."""
        return self._rows_of(self.last_family_runs(until=day))

    def latest_rows(self, runs: pd.DataFrame) -> pa.Table:
        """The snapshot rows of the given (family, run_id, day) picks with model ids and attributes, as
        of each snapshot (the columns of `snapshots`), reading only the picks' day folders."""
        with self.cursor("_resolve") as con:
            return self.latest_rows_on(con, runs)

    def latest_rows_on(self, con: duckdb.DuckDBPyConnection, runs: pd.DataFrame) -> pa.Table:
        """`latest_rows` on a cursor of the read catalog (`cursor("_resolve")`, or one naming more)."""
        paths = self._day_files("snapshots", [d.date() for d in pd.to_datetime(runs.day)]) if len(runs) else []
        if not paths:
            return SERVING["models_latest"].empty_table()
        name = f"_picked_{secrets.token_hex(4)}"
        con.register("pick", pa.Table.from_pandas(runs[["family", "run_id"]], preserve_index=False))
        con.execute(
            f"CREATE TEMP VIEW {name} AS SELECT s.* FROM read_parquet($files, union_by_name = true) s "
            "JOIN pick p USING (family, run_id)".replace(
                "$files", "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
            )
        )
        try:
            return con.sql(f"SELECT * FROM _resolve('{name}') ORDER BY family, model_id").to_arrow_table()
        finally:
            con.execute(f"DROP VIEW {name}")
            con.unregister("pick")

    def rows_of(self, runs: pd.DataFrame) -> pd.DataFrame:
        """The snapshot rows of the given (family, run_id, day) picks (reads only those files)."""
        return self._rows_of(runs)

    def _rows_of(self, runs: pd.DataFrame) -> pd.DataFrame:
        """The snapshot rows of the given (family, run_id, day) picks, with model ids, created_at,
        taken_at and parameters."""
        cols = [
            "day",
            "family",
            "model_id",
            "downloads_30d",
            "downloads_all_time",
            "likes",
            "created_at",
            "taken_at",
            "parameters",
        ]
        tbl = self.latest_rows(runs)
        if tbl.num_rows == 0:
            return pd.DataFrame(columns=cols)
        return tbl.select(cols).to_pandas()

    def latest_members(self, families: list[str]) -> dict[str, list[str] | None]:
        """Each family's models in its latest successful collect (the official models of `tree` and
        `backfill`): a list, empty when that snapshot had no model, None when there is no collect yet."""
        runs = self.last_family_runs(job="collect")
        runs = runs[runs.family.isin(families)]
        out: dict[str, list[str] | None] = dict.fromkeys(families)
        members: dict[str, list[str]] = {fam: [] for fam in runs.family}
        if members:
            rows = self.latest_rows(runs)
            for fam, model_id in zip(rows.column("family").to_pylist(), rows.column("model_id").to_pylist(), strict=True):
                members[fam].append(model_id)
        return out | {fam: sorted(ids) for fam, ids in members.items()}

    def model_series(self, model_ids: list[str]) -> pd.DataFrame:
        """Daily values (last successful snapshot of each day) of a few models: day, model_id, metrics."""
        with self.cursor("_model_keys _snapshot_rows") as con:
            return con.execute(
                """
                WITH keys AS (SELECT model_key, model_id FROM _model_keys WHERE model_id IN (SELECT unnest($ids)))
                SELECT s.day, k.model_id, s.downloads_30d, s.downloads_all_time, s.likes
                FROM _snapshot_rows s JOIN keys k USING (model_key)
                QUALIFY row_number() OVER (PARTITION BY s.day, k.model_id ORDER BY s.taken_at DESC, s.family) = 1
                ORDER BY k.model_id, s.day""",
                {"ids": model_ids},
            ).df()

    def aggregate(self, snapshots: pd.DataFrame) -> pd.DataFrame:
        """Per-family sums of a run's snapshot rows (NULL-aware: a sum over only NULLs is NULL)."""
        with self.cursor("") as con:  # no view
            con.register("s", snapshots)
            return con.execute("""
                SELECT family, count(*) AS models, sum(downloads_30d)::BIGINT AS downloads_30d,
                       sum(downloads_all_time)::BIGINT AS downloads_all_time, sum(likes)::BIGINT AS likes
                FROM s GROUP BY family""").df()

    def _day_rows(self, name: str, day: dt.date, select: str) -> pd.DataFrame:
        paths = self._day_files(name, [day])
        with self.cursor("") as con:  # no view
            if not paths:
                con.register("empty", SCHEMAS[name].empty_table())
                return con.execute(f"SELECT {select} FROM empty").df()
            return con.execute(
                f"SELECT {select} FROM read_parquet($f, union_by_name = true) WHERE day = $d", {"f": paths, "d": day}
            ).df()

    def tree_fetched(self, day: dt.date) -> pd.DataFrame:
        """model_info answers already stored for a day, by any run (finished or interrupted)."""
        df = self._day_rows("tree_parts", day, "*")
        return (
            df.sort_values("taken_at", ascending=False).drop_duplicates("model_id").sort_index().reset_index(drop=True)
        )

    def backfill_listed(self, day: dt.date) -> pd.DataFrame:
        """The children stored by backfill runs of a day (finished or interrupted), one row per parent
        and child; parents listed with no child have one row with model_id NULL."""
        return self._day_rows("backfill_parts", day, "DISTINCT parent_id, model_id, relation, created_at")

    def imported_runs(self) -> set[str]:
        sql = "SELECT run_id FROM runs WHERE job = 'import'"
        with self.cursor(sql) as con:
            return {r[0] for r in con.execute(sql).fetchall()}

    def tree_complete(self, day: dt.date) -> set[str]:
        """Families whose tree of this day is complete (visible)."""
        sql = "SELECT DISTINCT family FROM _tree WHERE day = ?"
        with self.cursor(sql) as con:
            rows = con.execute(sql, [day]).fetchall()
        return {r[0] for r in rows}


def _last_family_runs(
    *, before: dt.date | None = None, until: dt.date | None = None, job: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The query of `Reads.last_family_runs` and its parameters."""
    params: dict[str, Any] = {}
    where = ["r.status IN ('ok', 'partial')"]
    if job:
        params["job"] = job
        where.append("r.job = $job")
    if before is not None:
        params["before"] = before
        where.append("f.day < $before")
    if until is not None:
        params["until"] = until
        where.append("f.day <= $until")
    sql = f"""
        SELECT f.family, f.run_id, f.day, f.taken_at
        FROM runs r JOIN _files('family_snapshots') f USING (run_id)
        WHERE {" AND ".join(where)}
        QUALIFY row_number() OVER (PARTITION BY f.family ORDER BY f.taken_at DESC, f.run_id DESC) = 1"""
    return sql, params


LAST_FAMILY_RUNS = _last_family_runs()[0]  # each family's last successful snapshot, of any day and job
