"""`tracker export`: the warehouse's views as hive-partitioned day folders for Spark, Trino, Polars, DuckDB.

Layout (one folder per view, one per day; nothing else in a view's folder):

    <out>/<view>/day=YYYY-MM-DD/part-<fingerprint>-0.parquet      (or .csv)

- The files hold the view's columns in the view's order without `day`; every reader adds the
  partition column last (Spark, Trino, Polars and DuckDB's `hive_partitioning` alike), so the exported
  table has one column order everywhere: the view's, with `day` moved to the end.
- Only days that changed are written. A day's fingerprint (row count and order-free sums of row
  hashes, the column names and types, the file format) is in its file name; an export computes the
  fingerprints of the view's days (from `since` on) and rewrites the days whose fingerprint differs,
  adds new days and removes days the view no longer has. A later import, backfill or tree run that
  changes an old day is therefore exported by the next export that covers that day. (The row hash is
  DuckDB's `hash()`; should a DuckDB release change it, the next export rewrites every day once.)
- Atomic per day folder: the changed days are written into `<out>/.export-staging/`, fsynced, and each
  day folder is then swapped in with one rename (renameat2 RENAME_EXCHANGE where the file system has
  it), so a reader lists either the old or the new files of a day, never a half-written day. A killed
  export leaves every previous day folder as it was; the next export clears what it left.
- One export at a time per folder (a lock file), so the daemon's export and one by hand never mix.

Which views are exported is the list EXPORTS below: a view with a DATE column to partition by is
added by adding its name (and that column) there.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import hashlib
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tracker.locks import FileLock
from tracker.warehouse import Warehouse, WarehouseError
from tracker.warehouse.files import fsync_path

# view -> the DATE column it is partitioned by
EXPORTS: dict[str, str] = {
    "snapshots": "day",
    "family_daily": "day",
}
FORMATS = ("parquet", "csv")
LAYOUT_VERSION = "1"  # part of every fingerprint: a change of the layout rewrites every day once
STAGING = ".export-staging"
LOCK = ".export.lock"
_PART = re.compile(r"^part-([0-9a-f]{16})-\d+\.(parquet|csv)$")


class ExportError(WarehouseError):
    """The export cannot be written; the message says where and what to do."""


@dataclass
class ViewExport:
    """What one export did to one view's folder."""

    view: str
    folder: Path
    checked: int = 0  # days of the view looked at (from `since` on)
    new: list[dt.date] = field(default_factory=list)  # days written that the folder did not have
    changed: list[dt.date] = field(default_factory=list)  # days rewritten because their rows changed
    removed: list[dt.date] = field(default_factory=list)  # day folders of days the view no longer has
    rows: int = 0  # rows in the days written

    @property
    def unchanged(self) -> int:
        return self.checked - len(self.new) - len(self.changed)

    def summary(self) -> str:
        written = len(self.new) + len(self.changed)
        removed = f", {len(self.removed)} removed" if self.removed else ""
        return (
            f"{self.view}: {written} days written ({len(self.new)} new, {len(self.changed)} changed, "
            f"{self.rows} rows), {self.unchanged} unchanged{removed} -> {self.folder}/day=*/"
        )


def export(
    wh: Warehouse, out: Path, fmt: str = "parquet", since: dt.date | None = None, views: tuple[str, ...] | None = None
) -> list[ViewExport]:
    """Bring `<out>/<view>/day=*/` up to date with the warehouse for every view of EXPORTS (or `views`):
    days from `since` on (every day when None) whose rows changed are rewritten, one day folder at a time."""
    if fmt not in FORMATS:
        raise ExportError(f"export format must be parquet or csv, not '{fmt}'")
    out = Path(out).absolute()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(
            f"cannot create the export folder {out}: {exc.strerror}. "
            "Pass another --out (or `export: out:` in config.yaml) or fix its permissions."
        ) from None
    results = []
    unknown = [v for v in views or () if v not in EXPORTS]
    if unknown:
        raise ExportError(f"{', '.join(unknown)}: not an exported view (exported: {', '.join(EXPORTS)})")
    try:
        with FileLock(out / LOCK):
            recover(out)
            for view in views or tuple(EXPORTS):
                results.append(_export_view(wh, out, view, EXPORTS[view], fmt, since))
            shutil.rmtree(out / STAGING, ignore_errors=True)
    except OSError as exc:
        raise ExportError(
            f"cannot write the export into {out}: {exc}. Check its free space and permissions, then "
            "export again (day folders not yet replaced are as they were)."
        ) from None
    return results


# ---- one view ---------------------------------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _export_view(wh: Warehouse, out: Path, view: str, part: str, fmt: str, since: dt.date | None) -> ViewExport:
    folder = out / view
    res = ViewExport(view, folder)
    with wh.cursor() as con:
        cols = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {_q(view)}").fetchall()]
        if (part, "DATE") not in cols:
            raise ExportError(f"internal: view {view} has no DATE column {part} to partition the export by")
        data_cols = [c for c, _t in cols if c != part]
        layout = f"{LAYOUT_VERSION}|{fmt}|" + ",".join(f"{c} {t}" for c, t in cols if c != part)
        where = f"{_q(part)} IS NOT NULL" + (f" AND {_q(part)} >= DATE '{since.isoformat()}'" if since else "")
        rows = con.execute(f"""
            SELECT d, count(*), bit_xor(h), sum(h::HUGEINT) FROM (
                SELECT {_q(part)} AS d, hash({", ".join(_q(c) for c in data_cols)}) AS h
                FROM {_q(view)} WHERE {where}) GROUP BY d""").fetchall()
        want = {d: (n, hashlib.sha256(f"{layout}|{n}|{x}|{s}".encode()).hexdigest()[:16]) for d, n, x, s in rows}
        have = _existing(folder, part, since)
        res.checked = len(want)
        todo = sorted(d for d, (_n, fp) in want.items() if have.get(d) != fp)
        res.new = [d for d in todo if d not in have]
        res.changed = [d for d in todo if d in have]
        res.removed = sorted(d for d in have if d not in want)
        res.rows = sum(want[d][0] for d in todo)
        staging = out / STAGING / view
        shutil.rmtree(staging, ignore_errors=True)
        if todo:
            (staging / "new").mkdir(parents=True)
            options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER true"
            days = ", ".join(f"DATE '{d.isoformat()}'" for d in todo)
            target = str(staging / "new").replace("'", "''")
            con.execute(f"""
                COPY (SELECT {", ".join(_q(c) for c in data_cols)}, {_q(part)} FROM {_q(view)}
                      WHERE {_q(part)} IN ({days}) ORDER BY ALL)
                TO '{target}' ({options}, PARTITION_BY ({_q(part)}), FILENAME_PATTERN 'part-{{i}}')""")
    if not (todo or res.removed):
        return res
    folder.mkdir(parents=True, exist_ok=True)
    todo = [d for d in todo if (staging / "new" / f"{part}={d.isoformat()}").is_dir()]  # rows gone meanwhile: next time
    for d in todo:
        day_dir = staging / "new" / f"{part}={d.isoformat()}"
        for i, f in enumerate(sorted(day_dir.iterdir())):
            fsync_path(f)
            f.rename(day_dir / f"part-{want[d][1]}-{i}.{fmt}")
        fsync_path(day_dir)
    if todo:
        fsync_path(staging / "new")
    for d in todo:
        _swap_in(staging / "new" / f"{part}={d.isoformat()}", folder / f"{part}={d.isoformat()}", staging / "old")
    for d in res.removed:
        (staging / "old").mkdir(parents=True, exist_ok=True)
        os.rename(folder / f"{part}={d.isoformat()}", staging / "old" / f"{part}={d.isoformat()}")
    fsync_path(folder)
    shutil.rmtree(staging, ignore_errors=True)
    return res


def _existing(folder: Path, part: str, since: dt.date | None) -> dict[dt.date, str | None]:
    """The day folders already exported (from `since` on): day -> the fingerprint in its file names
    (None when the folder holds anything else, e.g. an export of an older version)."""
    out: dict[dt.date, str | None] = {}
    if not folder.is_dir():
        return out
    for entry in folder.iterdir():
        key, _, value = entry.name.partition("=")
        if key != part or not entry.is_dir():
            continue
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            continue
        if since is not None and day < since:
            continue
        names = [f.name for f in entry.iterdir() if not f.name.startswith((".", "_"))]
        fps = {m.group(1) for m in map(_PART.match, names) if m}
        ok = names and len(fps) == 1 and all(_PART.match(n) for n in names)
        out[day] = fps.pop() if ok else None
    return out


# ---- files and folders ------------------------------------------------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step (Linux renameat2 RENAME_EXCHANGE); False where the system or
    the file system does not offer it."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(new: Path, dest: Path, old: Path) -> None:
    """Put the folder `new` at `dest`. An existing `dest` is exchanged with `new` in one step (its old
    files end up at `new`, deleted with the staging folder); where that is impossible it is moved to
    `old` first (for an instant the day is absent, never half there; recover puts it back if the
    export is killed in between)."""
    if not dest.exists():
        os.rename(new, dest)
    elif not exchange(new, dest):
        old.mkdir(parents=True, exist_ok=True)
        os.rename(dest, old / dest.name)
        os.rename(new, dest)


def recover(out: Path) -> None:
    """Undo what a killed export left: a day folder moved aside but not replaced goes back; the rest of
    the staging folder is deleted."""
    staging = out / STAGING
    if not staging.is_dir():
        return
    for view_dir in staging.iterdir():
        old = view_dir / "old"
        if old.is_dir():
            for day_dir in old.iterdir():
                dest = out / view_dir.name / day_dir.name
                if not dest.exists():
                    os.rename(day_dir, dest)
    shutil.rmtree(staging, ignore_errors=True)
