"""The warehouse's files: immutable Parquet files written atomically, and which of them are visible.

Raw datasets are written per run as `<dataset>/<day>/<file_id>.parquet`. Compaction (compact.py)
merges them into `<dataset>/<day>/~day-<id>.parquet` and `<dataset>/<YYYY-MM>/~month-<id>.parquet`.
Which merged files count, and which files they replaced, is recorded in immutable state files
(`_compaction/<id>.parquet`; rows: file, action 'add'|'hide', since): a merged file counts once a state
file adds it, a hidden file never again. Readers list the state files first, then the data files
(the `_files` macro in SQL, `visible` here), so that a merged file a state names is always there; a
hidden file is deleted only once it has been hidden for a grace period, so a reader that listed it a
moment before still reads it.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tracker import locks
from tracker.warehouse.schemas import STATE

STATE_DIR = "_compaction"
MERGED_MARK = "~"  # merged files' names start with it; raw files' never do


READ_LOCK = ".read.lock"


def read_lock(root: Path) -> AbstractContextManager[None]:
    """Held (shared) by the tracker's reads while they run; compaction deletes replaced files only
    when it can take it exclusively, so no tracker read ever finds a file it listed gone."""
    return locks.shared(root / READ_LOCK)


@contextmanager
def exclusive(root: Path, name: str) -> Iterator[bool]:
    """Try to take a lock file exclusively without waiting; yields whether it was taken."""
    lock = locks.FileLock(root / name)
    taken = lock.acquire(wait_s=0)
    try:
        yield taken
    finally:
        lock.release()


def fsync_path(path: Path) -> None:
    """fsync a file or a folder (a folder: so that a rename into it survives a crash)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _options(names: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {"compression": "zstd"}
    if "model_key" in names and "downloads_all_time" in names:
        # snapshot rows, grouped by run and sorted by family and key: delta-encoded keys cost almost
        # nothing, where a dictionary of 100,000 keys costs 3 bytes a row (bench/report.py)
        options["use_dictionary"] = [c for c in ("run_id", "family", "trending_score", "day", "taken_at") if c in names]
        options["column_encoding"] = {"model_key": "DELTA_BINARY_PACKED"}
    return options


def _temporary(dest: Path) -> Path:
    """A temporary name beside `dest` (its folder created) to write it under before the rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    return dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")  # pid: see machine.leftovers


def write_atomic(table: pa.Table, dest: Path, options: dict[str, Any] | None = None, *, durable: bool = True) -> None:
    """Write a Parquet file under a temporary name, fsync it, rename it into place, fsync the folder.
    `durable=False` skips both fsyncs, for files the warehouse recreates when they are missing or
    unreadable (the empty seed files): still atomic for readers, not kept through a power cut."""
    write_parts(table.schema, [table], dest, options, durable=durable)


def write_parts(
    schema: pa.Schema,
    parts: Iterable[pa.Table],
    dest: Path,
    options: dict[str, Any] | None = None,
    *,
    durable: bool = True,
) -> None:
    """write_atomic for a file written part by part (one part in memory at a time)."""
    tmp = _temporary(dest)
    try:
        with open(tmp, "wb") as fh:
            opts = {"compression": "zstd", **options} if options is not None else _options(schema.names)
            with pq.ParquetWriter(fh, schema, **opts) as writer:
                for part in parts:
                    writer.write_table(part)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, dest)
        if durable:
            fsync_path(dest.parent)
    finally:
        tmp.unlink(missing_ok=True)


@functools.cache
def _empty_file(schema: pa.Schema) -> bytes:
    """The bytes of an empty Parquet file of `schema`, as write_atomic writes it (made once per process)."""
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, schema, **_options(schema.names)) as writer:
        writer.write_table(schema.empty_table())
    return sink.getvalue().to_pybytes()


def write_empty(schema: pa.Schema, dest: Path) -> None:
    """`write_atomic(schema.empty_table(), dest, durable=False)` (a seed file: recreated when missing or
    unreadable), written from bytes made once per process: a new warehouse writes ~40 of them."""
    tmp = _temporary(dest)
    try:
        tmp.write_bytes(_empty_file(schema))
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def read_state(root: Path) -> tuple[list[Path], pa.Table]:
    """The state files and all their rows (file, action, since)."""
    files = sorted((root / STATE_DIR).glob("*.parquet"))
    tables = [pq.read_table(f, schema=STATE) for f in files]
    return files, (pa.concat_tables(tables) if tables else STATE.empty_table())


def state_sets(rows: pa.Table) -> tuple[set[str], set[str]]:
    """(added, hidden) relative paths of a state."""
    files, actions = rows.column("file").to_pylist(), rows.column("action").to_pylist()
    added = {f for f, a in zip(files, actions, strict=True) if a == "add"}
    hidden = {f for f, a in zip(files, actions, strict=True) if a == "hide"}
    return added, hidden


def is_merged(rel: str) -> bool:
    return Path(rel).name.startswith(MERGED_MARK)


def visible(
    root: Path, dataset: str, folders: list[str] | None = None, state: tuple[set[str], set[str]] | None = None
) -> list[Path]:
    """The visible files of a dataset (or of some of its folders: day or month names), state first.
    `state`: the (added, hidden) sets when the caller already holds them (compaction, which alone
    writes state files, reads them once)."""
    added, hidden = state_sets(read_state(root)[1]) if state is None else state
    base = root / dataset
    paths: Iterable[Path] = (
        base.glob("*/*.parquet") if folders is None else [p for f in folders for p in (base / f).glob("*.parquet")]
    )
    out = []
    for p in sorted(paths):
        rel = p.relative_to(root).as_posix()
        if rel in hidden:
            continue
        if is_merged(rel) and rel not in added:
            continue
        out.append(p)
    return out


def day_folders(day: dt.date) -> list[str]:
    """The folders that can hold a day's rows: its own, and its month's."""
    return [day.isoformat(), f"{day:%Y-%m}"]
