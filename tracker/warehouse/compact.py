"""Compaction: merge the small files of complete days, and of closed months, so that the number of
files a view reads grows far slower than the number of runs.

Every run writes its own files (`<dataset>/<day>/<run_id>.parquet`, plus one per 200 tree answers).
Compaction merges, per dataset,
  - the files of a complete day (before today) into `<dataset>/<day>/~day-<id>.parquet`, and
  - the files of a closed month (before this month) into `<dataset>/<YYYY-MM>/~month-<id>.parquet`,
so a year leaves about a dozen month files, a month's day files and today's run files per dataset.
A merge changes no query's answer: every row is kept as it was (rows of runs that never finished
included; the views hide them as before).

Crash-safe like a run, in this order (see files.py for how readers pick files):
  1. the merged files are written (temporary name, fsync, rename): invisible, not added by any state;
  2. one new state file is written the same way: it adds them and hides the files they replace, so a
     reader's view switches from the old files to the new ones at once (kill -9 before: nothing
     changed; after: done);
  3. files hidden for at least the grace period, merged files no state adds (left by a killed
     compaction) and superseded state files are deleted, only while no tracker read holds the read
     lock (else at the next compaction).
Only one compaction runs at a time (`.compact.lock`); a second one returns at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from tracker.warehouse import files
from tracker.warehouse.schemas import COMPACTED, SCHEMAS, STATE

if TYPE_CHECKING:
    from tracker.warehouse import Warehouse

GRACE_S = 3600.0  # a replaced file is deleted once it has been hidden this long (queries are shorter)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


@dataclasses.dataclass
class CompactResult:
    busy: bool = False  # another compaction was running
    merged: dict[str, int] = dataclasses.field(default_factory=dict)  # dataset -> files replaced
    written: int = 0  # merged files written
    deleted: int = 0  # files deleted (replaced ones past the grace period, leftovers)
    deferred: bool = False  # deletions left for later (a tracker read held the read lock)
    files_after: dict[str, int] = dataclasses.field(default_factory=dict)  # dataset -> visible files


def _new_id() -> str:
    return f"{time.time_ns():020d}-{secrets.token_hex(3)}"


def _written_at(p: Path) -> float:
    """When a compaction wrote a file, by the clock that wrote it (its name ends with the `_new_id`,
    `<time_ns>-<hex>`), not the file system's: the grace period is measured on one clock, the one `now`
    comes from."""
    try:
        return int(p.stem.rsplit("-", 2)[-2]) / 1e9
    except ValueError:  # not a name a compaction gives: by its modification time
        return p.stat().st_mtime


def _groups(
    root: Path, dataset: str, today: dt.date, state: tuple[set[str], set[str]]
) -> list[tuple[str, str, list[Path]]]:
    """(folder, kind, visible files) to merge: closed months whole, complete days of this month."""
    by_folder: dict[str, list[Path]] = {}
    for p in files.visible(root, dataset, state=state):
        by_folder.setdefault(p.parent.name, []).append(p)
    this_month = f"{today:%Y-%m}"
    months: dict[str, list[Path]] = {}
    out = []
    for folder, paths in sorted(by_folder.items()):
        if _DAY.match(folder):
            month = folder[:7]
            if month < this_month:
                months.setdefault(month, []).extend(paths)
            elif folder < today.isoformat() and len(paths) > 1:
                out.append((folder, "day", paths))
        elif _MONTH.match(folder) and folder < this_month:
            months.setdefault(folder, []).extend(paths)
    out += [(m, "month", paths) for m, paths in sorted(months.items()) if len(paths) > 1]
    return out


def _merge(paths: list[Path], schema: pa.Schema) -> Iterator[pa.Table]:
    """The rows of the files, one file at a time, in the dataset's schema (columns a file predates are
    NULL). Each run's rows stay together as they were written (snapshot rows sorted by family and key,
    which keeps the merged file as small as its parts), so no sort and one file in memory at a time."""
    for p in sorted(paths, key=lambda p: (p.parent.name, p.name)):
        with pq.ParquetFile(p) as f:  # one file: not the dataset reader of read_table (3x its CPU here)
            t = f.read()
        cols = [
            t.column(f.name).cast(f.type) if f.name in t.column_names else pa.nulls(t.num_rows, f.type) for f in schema
        ]
        yield pa.Table.from_arrays(cols, schema=schema)


def _delete_old(
    root: Path, state_files: list[Path], rows: pa.Table, now: float, grace_s: float, res: CompactResult
) -> pa.Table:
    """Delete what has been out of every reader's sight for the grace period; returns the state rows
    still needed (entries of deleted files dropped)."""
    added, hidden = files.state_sets(rows)
    since = {
        f: s.timestamp()
        for f, a, s in zip(
            rows.column("file").to_pylist(),
            rows.column("action").to_pylist(),
            rows.column("since").to_pylist(),
            strict=True,
        )
        if a == "hide"
    }
    gone: set[str] = set()
    for rel in sorted(hidden):
        if now - since[rel] >= grace_s:
            (root / rel).unlink(missing_ok=True)
            gone.add(rel)
    for dataset in COMPACTED:  # merged files that no state adds: left by a compaction killed before step 2
        for p in (root / dataset).glob(f"*/{files.MERGED_MARK}*.parquet"):
            rel = p.relative_to(root).as_posix()
            if rel not in added and rel not in hidden and now - _written_at(p) >= grace_s:
                p.unlink(missing_ok=True)
                gone.add(rel)
    # a state file is superseded by any newer one (each holds the whole state); once the newest has
    # been there for the grace period, no reader can still be reading the older ones
    newest = max((p for p in state_files if p.name != "_empty.parquet"), default=None)
    if newest is not None and now - _written_at(newest) >= grace_s:
        for p in state_files:
            if p != newest and p.name != "_empty.parquet":
                p.unlink(missing_ok=True)
                gone.add(p.relative_to(root).as_posix())
    for folder in {(root / g).parent for g in gone}:
        if folder.is_dir() and folder.name != files.STATE_DIR and not any(folder.iterdir()):
            folder.rmdir()
    res.deleted = len(gone)
    keep = [i for i, f in enumerate(rows.column("file").to_pylist()) if f not in gone]
    return rows.take(pa.array(keep, pa.int64()))


def compact(wh: Warehouse, *, today: dt.date | None = None, grace_s: float | None = None) -> CompactResult:
    """Merge the small files of complete days and closed months (see the module's docstring)."""
    root = wh.root
    today = today or dt.datetime.now(dt.UTC).date()
    grace_s = GRACE_S if grace_s is None else grace_s
    res = CompactResult()
    with files.exclusive(root, ".compact.lock") as mine:
        if not mine:
            res.busy = True
            return res
        state_files, rows = files.read_state(root)
        rows = _dedupe(rows)
        now = time.time()
        with files.exclusive(root, files.READ_LOCK) as no_readers:
            if no_readers:
                rows = _delete_old(root, state_files, rows, now, grace_s, res)
            else:
                res.deferred = True
        # the state as it is on disk (only a compaction writes state files, and this one holds the
        # lock), less the entries of files just deleted: read once, not once per dataset
        state = files.state_sets(rows)
        new_rows: list[dict] = []
        stamp = dt.datetime.fromtimestamp(now, dt.UTC)
        for dataset in COMPACTED:
            schema = SCHEMAS[dataset]
            for folder, kind, paths in _groups(root, dataset, today, state):
                dest = root / dataset / folder / f"{files.MERGED_MARK}{kind}-{_new_id()}.parquet"
                files.write_parts(schema, _merge(paths, schema), dest)
                new_rows.append({"file": dest.relative_to(root).as_posix(), "action": "add", "since": stamp})
                new_rows += [{"file": p.relative_to(root).as_posix(), "action": "hide", "since": stamp} for p in paths]
                res.merged[dataset] = res.merged.get(dataset, 0) + len(paths)
                res.written += 1
        if new_rows or res.deleted:
            rows = pa.concat_tables([rows, pa.Table.from_pylist(new_rows, schema=STATE)])
            files.write_atomic(rows, root / files.STATE_DIR / f"{_new_id()}.parquet")
            state = files.state_sets(rows)
        res.files_after = {d: len(files.visible(root, d, state=state)) for d in COMPACTED}
    return res


def _dedupe(rows: pa.Table) -> pa.Table:
    """One row per (file, action), the earliest `since` (the union of several state files)."""
    seen: dict[tuple[str, str], dt.datetime] = {}
    for f, a, s in zip(
        rows.column("file").to_pylist(),
        rows.column("action").to_pylist(),
        rows.column("since").to_pylist(),
        strict=True,
    ):
        if (f, a) not in seen or s < seen[(f, a)]:
            seen[(f, a)] = s
    return pa.Table.from_pylist(
        [{"file": f, "action": a, "since": s} for (f, a), s in sorted(seen.items())], schema=STATE
    )
