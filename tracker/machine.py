"""The machine under a run: free space, leftovers of dead runs, and what a full disk or a broken
DuckDB looks like to the user.

* `preflight` runs before every job: it removes the temporary files of runs that died (their
  process is gone) and refuses to start when the warehouse's file system has less free space than
  `warehouse_min_free_mb` (a run that fills the disk half-way helps nobody).
* `explain` turns a disk-full `OSError`, a DuckDB `FatalException` ("database has been invalidated")
  or DuckDB's disk-full `IOException` into one paragraph that names the folder and what to do.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import time
from pathlib import Path

from tracker.warehouse import WarehouseError

LEFTOVER_AGE_S = 3600  # a temporary file without a readable PID is a dead run's after this long
_PID_IN_NAME = re.compile(r"\.(\d+)\.[0-9a-f]{6}\.tmp(\.wal)?$")


class LowDiskSpace(WarehouseError):
    """Less free space than warehouse_min_free_mb: the run was refused."""


def free_mb(folder: Path) -> float:
    """Free space (MB) of the file system holding `folder` (or its nearest existing parent)."""
    p = Path(folder).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free / 2**20


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def leftovers(root: Path, now: float | None = None) -> list[Path]:
    """Temporary files under the warehouse left by runs that died: named with a PID that no longer
    runs, or (no PID in the name) older than LEFTOVER_AGE_S."""
    root = Path(root)
    if not root.is_dir():
        return []
    now = time.time() if now is None else now
    out = []
    for p in root.rglob("*.tmp*"):
        if not p.is_file() or not (p.name.endswith(".tmp") or p.name.endswith(".tmp.wal")):
            continue
        m = _PID_IN_NAME.search(p.name)
        if m is not None:
            dead = int(m.group(1)) != os.getpid() and not _alive(int(m.group(1)))
        else:
            try:
                dead = now - p.stat().st_mtime > LEFTOVER_AGE_S
            except FileNotFoundError:
                continue
        if dead:
            out.append(p)
    return sorted(out)


def remove_leftovers(root: Path) -> list[Path]:
    removed = []
    for p in leftovers(root):
        try:
            p.unlink()
            removed.append(p)
        except FileNotFoundError:
            pass
    return removed


def check_space(folder: Path, min_free_mb: float) -> None:
    free = free_mb(folder)
    if free < min_free_mb:
        raise LowDiskSpace(
            f"only {free:.0f} MB free on the disk holding the warehouse {folder} (warehouse_min_free_mb is "
            f"{min_free_mb:g}): the run was refused before it started, and nothing was written but this note. "
            "Free some space (old reports, logs, `tracker export` folders) or move the warehouse to a larger "
            "disk, then run again; lower warehouse_min_free_mb in config.yaml only if you know the run fits."
        )


def _is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    return "No space left on device" in text or "Disk quota exceeded" in text


def explain(exc: BaseException, folder: Path) -> str | None:
    """One paragraph for a disk-full or DuckDB-fatal failure, or None for anything else."""
    import duckdb

    if _is_disk_full(exc):
        return (
            f"the disk holding the warehouse {folder} is full (no space left on device). What had been "
            "committed before is intact and nothing of this run is visible; free some space and run "
            "again (a run refuses to start below warehouse_min_free_mb)."
        )
    if isinstance(exc, duckdb.FatalException) or "database has been invalidated" in str(exc):
        first = str(exc).splitlines()[0][:200]
        return (
            f"DuckDB stopped with a fatal error on the warehouse {folder} ({first}). Data committed "
            "before is intact; the next command opens a fresh connection. If it happens again, check the "
            "disk (free space, permissions) and that no other program writes into the folder."
        )
    return None
