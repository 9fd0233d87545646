"""Staging a whole-Hub census while it is listed (or while an import reads a dump).

Rows go to staging chunks under `<warehouse>/census_staging/<day>/<source>/` (one Parquet file per
chunk of pages, written atomically, carrying the URL of the next page), which no view reads: a killed
census leaves only these, and the next census of the same day resumes after the last chunk. Once the
listing is complete, tracker/census_build.py builds the census day from the chunks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tracker import lineage, locks
from tracker.census_tables import STAGING
from tracker.warehouse import Warehouse
from tracker.warehouse.files import write_atomic


class CensusBusy(Exception):
    """Another census of the same day is running."""


class Staging:
    """The staging chunks of one census day and source (a listing, or one dump file)."""

    def __init__(self, wh: Warehouse, day: dt.date, source: str):
        self.root = wh.root / "census_staging"
        self.dir = self.root / day.isoformat() / source
        self.day = day

    def drop_other_days(self) -> None:
        """Chunks of earlier days cannot be resumed (a census is of one day): remove them."""
        if not self.root.is_dir():
            return
        for d in self.root.iterdir():
            if not d.is_dir() or d.name.startswith(".") or d.name == self.day.isoformat():
                continue
            # a census of that day still running: keep it
            busy = any(locks.holder_note(lock) is not None for lock in self.root.glob(f".{d.name}-*.lock"))
            if not busy:
                shutil.rmtree(d, ignore_errors=True)
                for lock in self.root.glob(f".{d.name}-*.lock"):
                    lock.unlink(missing_ok=True)

    @contextlib.contextmanager
    def lock(self):
        """One census per day and source at a time: a second one stops at once with a clear message."""
        lock = locks.FileLock(self.root / f".{self.day.isoformat()}-{self.dir.name}.lock")
        if not lock.acquire(wait_s=0):
            raise CensusBusy(
                f"another census of {self.day} is running on {self.root.parent} "
                "(the daemon or another `tracker census`); let it finish"
            )
        try:
            yield
        finally:
            lock.release()

    def chunks(self) -> list[Path]:
        return sorted(self.dir.glob("chunk-*.parquet")) if self.dir.is_dir() else []

    def resume_point(self) -> tuple[int, str | None, bool, int]:
        """(next chunk number, URL of the next page, listing finished, rows staged)."""
        chunks = self.chunks()
        if not chunks:
            return 0, None, False, 0
        rows = sum(pq.ParquetFile(c).metadata.num_rows for c in chunks)
        meta = pq.read_schema(chunks[-1]).metadata or {}
        nxt = meta.get(b"next_url", b"").decode() or None
        return len(chunks), nxt, meta.get(b"done") == b"1", rows

    def write(self, n: int, columns: dict[str, list], next_url: str | None, done: bool) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        columns = {"chunk": [n] * len(columns["model_id"]), **columns, "created_at": _times(columns["created_at"])}
        table = pa.Table.from_pydict(columns, schema=STAGING)
        table = table.replace_schema_metadata({"next_url": next_url or "", "done": "1" if done else "0"})
        write_atomic(table, self.dir / f"chunk-{n:06d}.parquet", {})  # temporary name, fsync, rename

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        with contextlib.suppress(OSError):  # the day's folder still holds another source's chunks
            self.dir.parent.rmdir()


def new_columns() -> dict[str, list]:
    return {name: [] for name in STAGING.names if name != "chunk"}


_GATED = {False: "false", "auto": "auto", "manual": "manual"}


def stage(recs: list[Any], cols: dict[str, list], bad: list) -> int:
    """Append a page's records to the staging columns: the plain case in one tight loop, anything odd
    (wrong types, a malformed id, ...) through records.check, which types it or quarantines it with
    the reason, as a collect does. Returns the number of rows staged."""
    from tracker import records

    mid_l, cr_l, d_l, a_l, l_l = (
        cols[c] for c in ("model_id", "created_at", "downloads_30d", "downloads_all_time", "likes")
    )
    pt_l, lib_l, g_l, par_l, rel_l, parents_l = (
        cols[c] for c in ("pipeline_tag", "library_name", "gated", "parameters", "relation", "parents")
    )
    parse = lineage.parse_parents
    n = 0
    for rec in recs:
        try:
            mid = rec["id"]
            owner, _, name = mid.partition("/")
            d, a, lk = rec.get("downloads"), rec.get("downloadsAllTime"), rec.get("likes")
            pt, lib, cr, tags = rec.get("pipeline_tag"), rec.get("library_name"), rec.get("createdAt"), rec.get("tags")
            ok = (
                owner
                and name
                and "/" not in name
                and (d is None or (type(d) is int and d >= 0))
                and (a is None or (type(a) is int and a >= 0))
                and (lk is None or (type(lk) is int and lk >= 0))
                and (pt is None or type(pt) is str)
                and (lib is None or type(lib) is str)
                and (cr is None or (type(cr) is str and len(cr) >= 19 and cr[4] == "-"))
                and (tags is None or type(tags) is list)
            )
            gated = _GATED[rec["gated"]] if "gated" in rec else None
        except (KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            checked = records.check([rec])
            bad.extend(checked.bad)
            for row in checked.rows.itertuples(index=False):
                rel, parents = parse(rec.get("tags"), rec.get("baseModels"))
                st = rec.get("safetensors")
                add_record(cols, row, rel, parents, st.get("total") if isinstance(st, dict) else None)
                n += 1
            continue
        rel, parents = parse(tags, rec.get("baseModels"))
        st = rec.get("safetensors")
        total = st.get("total") if type(st) is dict else None
        mid_l.append(mid)
        cr_l.append(cr)
        d_l.append(d)
        a_l.append(a)
        l_l.append(lk)
        pt_l.append(pt)
        lib_l.append(lib)
        g_l.append(gated)
        par_l.append(total if type(total) is int else None)
        rel_l.append(rel if parents else None)
        parents_l.append(parents)
        n += 1
    return n


def add_record(cols: dict[str, list], row: Any, relation: str | None, parents: list[str], params: Any) -> None:
    """Append one model typed by records.check to the staging columns."""
    cols["model_id"].append(row.model_id)
    ts = row.created_at
    cols["created_at"].append(None if pd.isna(ts) else ts.isoformat())
    for c in ("downloads_30d", "downloads_all_time", "likes"):
        v = getattr(row, c)
        cols[c].append(None if pd.isna(v) else int(v))
    for c in ("pipeline_tag", "library_name", "gated"):
        v = getattr(row, c)
        cols[c].append(v if isinstance(v, str) else None)
    cols["parameters"].append(
        int(params)
        if isinstance(params, (int, float)) and not isinstance(params, bool) and math.isfinite(params)
        else None
    )
    cols["relation"].append(relation if parents else None)
    cols["parents"].append(parents)


def _times(values: list) -> pa.Array:
    """ISO-8601 texts -> UTC timestamps (a text that does not parse becomes NULL)."""
    try:
        return pa.array(values, pa.string()).cast(pa.timestamp("us", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(
            pd.to_datetime(pd.Series(values, dtype="str"), utc=True, format="ISO8601", errors="coerce").dt.as_unit(
                "us"
            ),
            pa.timestamp("us", tz="UTC"),
        )
