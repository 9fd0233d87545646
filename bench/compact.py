"""Benchmark and exactness check: compaction (tracker/warehouse/compact.py), old code beside new.

For each tree (the baseline ref, exported with `git archive`, and the working tree), in its own process,
a warehouse is built once through `tracker import` (real Parquet files and hub.duckdb): `--days` days
from 2026-07-10 on, 2 families x 60 models, two listings on every third day, one quarantined record
each. Each round works on a fresh copy of it and times, in process CPU seconds (pyarrow's threads
included) and wall:

  first    everything merged at once (today = the day after the last): closed July, August's days
  again    a second compaction with nothing to merge (the state files read, nothing written)
  delete   the same with no grace period: the replaced files and superseded state files deleted
  daily    one compaction per day over the span, as a daemon would run it (grace kept: the state
           files pile up), summed

Passes alternate old and new processes (`--passes`, each `--rounds` rounds), so that the machine's load
weighs on both alike; every round is printed, and the worst. What it waits on: the CPU and the disk
(each merged and state file is fsynced: that shows in wall, not in CPU). No network, no sleeps.

Exactness: each tree then runs the same sequence (first, again, delete, a late import into the closed
month, two more compactions, then daily ones over a copy) and dumps after each step every public
view's answer through hub.duckdb (as a user reads it), the CompactResult's counts, and the visible and
on-disk files with the compaction's random ids masked; the two dumps must be equal. Run:

    python bench/compact.py [--baseline main] [--rounds 3] [--passes 2] [--days 40]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import os
import random
import re
import shutil
import sys
import tempfile
from pathlib import Path

import sidebyside

HERE = Path(__file__).resolve().parents[1]
START = dt.date(2026, 7, 10)
CASES = ("first", "again", "delete", "daily")
FAMILIES = [
    {"name": "llama", "authors": ["meta-llama"], "region": "us"},
    {"name": "qwen", "authors": ["Qwen"], "region": "china"},
]


# ---------------------------------------------------------------- worker (runs inside one tree)
def _archive(path: Path, day: dt.date, k: int, rep: int, rng: random.Random) -> Path:
    recs = [
        {
            "id": f"{org}/m{i:03d}",
            "downloads": 100 * i + k + rep,
            "downloadsAllTime": 1000 * i + 50 * k,
            "likes": rng.randint(0, 9),
            "createdAt": "2025-01-01T00:00:00.000Z",
        }
        for org in ("meta-llama", "Qwen")
        for i in range(60)
    ]
    recs.append({"downloads": 7})  # quarantined: no id
    path.write_text(json.dumps({"date": f"{day}", "fetched_at": f"{day}T0{6 + rep}:00:00Z", "models": recs}))
    return path


def _build(tree: Path, tmp: Path, days: int):
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))  # quiet runs
    from tests.conftest import write_config
    from tracker import config, jobs

    rng = random.Random(7)
    arcs = [
        _archive(tmp / f"a{k}-{rep}.json", START + dt.timedelta(days=k), k, rep, rng)
        for k in range(days)
        for rep in range(2 if k % 3 == 0 else 1)
    ]
    s = config.load(write_config(tmp, "http://127.0.0.1:9", FAMILIES))
    assert {r["status"] for r in jobs.import_files(s, arcs, refresh_trends=False)} == {"ok"}
    return s.warehouse


def _time_worker(tree: Path, rounds: int, days: int) -> None:
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        pristine = _build(tree, tmp, days)
        from tracker.warehouse import Warehouse

        end = START + dt.timedelta(days=days)
        out: dict[str, list] = {c: [] for c in CASES}
        for i in range(rounds):
            shutil.copytree(pristine, tmp / f"r{i}")
            wh = Warehouse(tmp / f"r{i}")
            out["first"].append(sidebyside.cpu_wall(wh.compact, today=end, grace_s=3600))
            out["again"].append(sidebyside.cpu_wall(wh.compact, today=end, grace_s=3600))
            out["delete"].append(sidebyside.cpu_wall(wh.compact, today=end, grace_s=0))
            shutil.copytree(pristine, tmp / f"d{i}")
            wh = Warehouse(tmp / f"d{i}")
            c, w = 0.0, 0.0
            for k in range(1, days + 1):
                dc, dw = sidebyside.cpu_wall(wh.compact, today=START + dt.timedelta(days=k), grace_s=3600)
                c, w = c + dc, w + dw
            out["daily"].append((c, w))
    print(json.dumps(out))


def _dump_worker(tree: Path, days: int) -> None:
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        pristine = _build(tree, tmp, days)
        from tracker import config, jobs
        from tracker.warehouse import Warehouse, files, view_files
        from tracker.warehouse.schemas import COMPACTED

        ids = re.compile(r"~(day|month)-\d{20}-[0-9a-f]{6}")
        runs = re.compile(r"-(import)-[0-9a-f]{6}")

        def mask(text: str) -> str:
            return runs.sub(r"-\1-x", ids.sub(r"~\1-x", text))

        def dump(wh: Warehouse, res) -> dict:
            got = {"result": mask(json.dumps(dataclasses.asdict(res), sort_keys=True))} if res else {}
            got["visible"] = sorted(
                mask(p.relative_to(wh.root).as_posix()) for d in COMPACTED for p in files.visible(wh.root, d)
            )
            got["on_disk"] = sorted(
                mask(p.relative_to(wh.root).as_posix())
                for p in wh.root.rglob("*.parquet")
                if files.STATE_DIR not in p.parts
            )
            got["state_files"] = len(list((wh.root / files.STATE_DIR).glob("*.parquet")))
            with wh.connect() as con:
                for view, text in view_files():
                    if view.startswith("_") or "CREATE OR REPLACE MACRO" in text:
                        continue
                    cols = "* EXCLUDE (started_at, finished_at)" if view == "runs" else "*"  # the import's clock
                    got[view] = mask(con.sql(f"SELECT {cols} FROM {view} ORDER BY ALL").df().to_csv(index=False))
            return got

        end = START + dt.timedelta(days=days)
        steps = []
        shutil.copytree(pristine, tmp / "seq")
        wh = Warehouse(tmp / "seq")
        wh.ensure()  # re-points the copy's views
        steps.append(dump(wh, None))
        for grace in (3600, 3600, 0):
            steps.append(dump(wh, wh.compact(today=end, grace_s=grace)))
        late = tmp / "late.json"
        late.write_text(json.dumps({"date": "2026-07-05", "fetched_at": "2026-07-05T06:00:00Z",
                                    "models": [{"id": "Qwen/m000", "downloads": 1, "likes": 0}]}))  # fmt: skip
        cfg = tmp / "late.yaml"
        cfg.write_text((tmp / "config.yaml").read_text().replace(str(pristine), str(wh.root)))
        assert jobs.import_files(config.load(cfg), [late], refresh_trends=False)[0]["status"] == "ok"
        for _ in range(2):
            steps.append(dump(wh, wh.compact(today=end, grace_s=0)))
        shutil.copytree(pristine, tmp / "daily")
        wh = Warehouse(tmp / "daily")
        wh.ensure()
        for k in range(1, days + 1, 3):
            steps.append(dump(wh, wh.compact(today=START + dt.timedelta(days=k), grace_s=3600 if k % 2 else 0)))
    print(json.dumps(steps))


# ---------------------------------------------------------------- parent: both trees, side by side
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="main", help="git ref of the old code (default: main)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per pass and tree")
    ap.add_argument("--passes", type=int, default=2, help="old/new timing passes, alternated")
    ap.add_argument("--days", type=int, default=40, help="days of imports in the warehouse (from 2026-07-10)")
    ap.add_argument("--no-check", action="store_true", help="skip the exactness check")
    ap.add_argument("--time-worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--dump-worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.time_worker:
        _time_worker(args.time_worker, args.rounds, args.days)
        return
    if args.dump_worker:
        _dump_worker(args.dump_worker, args.days)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-compact-"))
    try:
        base = sidebyside.export(args.baseline, work / "tree", HERE)
        old, new = sidebyside.timed(
            args.passes,
            base,
            HERE,
            CASES,
            lambda tree: json.loads(
                sidebyside.worker(
                    __file__, tree, "--time-worker", str(tree), "--rounds", str(args.rounds), "--days", str(args.days)
                )
            ),
        )
        print(f"baseline {args.baseline} vs working tree {HERE}: process CPU seconds per compaction, every round")
        print(f"{args.days} days of imports (2 families, 120 models); 'daily' is the sum of {args.days} compactions")
        sidebyside.print_cases(old, new, CASES)
        if args.no_check:
            return
        a, b = (
            json.loads(sidebyside.worker(__file__, tree, "--dump-worker", str(tree), "--days", str(args.days)))
            for tree in (base, HERE)
        )
        bad = [f"step {i}: {k}" for i, (x, y) in enumerate(zip(a, b, strict=True)) for k in x if x[k] != y.get(k)]
        n = sum(len(x) for x in a)
        print(
            "exactness: "
            + (f"{len(a)} steps, {n} answers identical" if not bad else f"{len(bad)} differ:\n  " + "\n  ".join(bad))
        )
        sys.exit(1 if bad else 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
