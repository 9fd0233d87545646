"""Benchmark: `tracker export` after a new day, against rewriting every day as the export used to.

Builds (or reuses, --keep) a warehouse of --days daily snapshots of --models models through the normal
write path (bench/report.py's synthetic Hub in place of the network), then times, each round on a
fresh copy of a complete export of all days but the last:
  - baseline: the previous export, every view rewritten whole (one COPY ... PARTITION_BY per view);
  - `export(since=None)`: every day's fingerprint checked, only the new day written;
  - `export(since=last 7 days)`: what the daemon does after a collect (`export.days: 7`);
  - `export` again with nothing changed (only the fingerprints).
It prints every round and the worst. What it waits on: DuckDB reading the warehouse's Parquet files
(the views join each snapshot to its model attributes) and writing the export's files; all local disk.

    python bench/export.py [--days 60] [--models 20000] [--rounds 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import START, synthetic_warehouse
from tracker.export import EXPORTS, export
from tracker.warehouse import Warehouse


def old_export(wh: Warehouse, out: Path) -> None:
    """The export before issue 15: each view's folder rewritten whole through a temporary folder."""
    with wh.cursor() as con:
        for view in EXPORTS:
            tmp = out / f".{view}.tmp"
            con.execute(
                f"COPY (SELECT * FROM {view} ORDER BY ALL) TO '{tmp}' "
                "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (day))"
            )
            dest, old = out / view, out / f".{view}.old"
            if dest.exists():
                dest.rename(old)
            tmp.rename(dest)
            shutil.rmtree(old, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--models", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep", help="build (or reuse) the warehouse in this folder")
    args = ap.parse_args()
    root, _cfg, _s, wh, _built = synthetic_warehouse(args.keep, "bench-export-", args.models, args.days)
    rows = int(wh.read("select count(*) n from snapshots").n[0])
    last = START + dt.timedelta(days=args.days - 1)
    print(f"warehouse: {args.days} days, {rows:,} snapshot rows; the new day is {last}\n")

    # an export of every day but the last: what the folder held before the newest collect
    base = root / "export-before"
    shutil.rmtree(base, ignore_errors=True)
    export(wh, base, since=None)
    for view in EXPORTS:
        shutil.rmtree(base / view / f"day={last}")

    cases = [
        ("baseline: rewrite every day", lambda out: old_export(wh, out)),
        ("export, all days checked", lambda out: export(wh, out)),
        ("export --since last 7 days", lambda out: export(wh, out, since=last - dt.timedelta(days=6))),
        ("export again, nothing changed", None),
    ]
    worst: dict[str, float] = {}
    for r in range(1, args.rounds + 1):
        for name, fn in cases:
            out = root / "export-round"
            shutil.rmtree(out, ignore_errors=True)
            shutil.copytree(base, out)
            if fn is None:  # bring it up to date first, then time a run with nothing to write
                export(wh, out)
                fn = lambda out: export(wh, out)  # noqa: E731
            os.sync()
            t = time.perf_counter()
            res = fn(out)
            took = time.perf_counter() - t
            worst[name] = max(worst.get(name, 0.0), took)
            written = "all" if res is None else sum(len(v.new) + len(v.changed) for v in res)
            print(f"round {r}  {name:32s} {took:7.2f} s   day folders written: {written}")
    print()
    for name, _fn in cases:
        print(f"worst    {name:32s} {worst[name]:7.2f} s")
    print(f"\nwarehouse kept in {root}" if args.keep else "")


if __name__ == "__main__":
    main()
