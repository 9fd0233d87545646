"""Benchmark and exactness check: the per-collect constant cost on small warehouses, old code beside new.

Every collect publishes its snapshot (model keys, the interval downloads and quality notes of
`_intervals`, the family rows) and then recomputes the derived trend tables (`jobs.trend.derive`). On
the small warehouses the tests build (2 families, a few hundred models, 1-15 days) both are pandas
overhead on tiny frames, paid ~100 times a suite. For each tree (the baseline ref, exported with
`git archive`, and the working tree), in its own process, the script builds with the emulator (a
real HTTP server, real DuckDB and Parquet files):

  day1, day2, day15  1, 2 and 14 daily collects (2 families, 4,000-model world; 2026-08-10 missing)
  import             5 archived listings imported (two on one day), 2 families of 30 models
  big (--big)        5 families of 4,000 official models, 4 daily collects

timing each collect's publish step (the run's `publish` without the trend refresh). Then it times
`derive` on each built warehouse, `--rounds` calls per pass, old and new passes alternated
(`--passes`) so that the machine's load weighs on both alike; the derived files are removed before
each call, so every table is written (the case of a collect that changed them all). Figures are
process CPU seconds (and the worst wall time), every round printed. What it waits on: only the CPU
and the disk (the emulator is idle while a run publishes; no sleeps).

Exactness: after the build, each tree dumps every derived table (warehouse/derived/*.parquet) and
the collect outputs (family_snapshots, quality, snapshots, models, family_daily; run ids' random
suffix masked), and the two are compared file by file (pyarrow Table.equals with schema metadata;
the derived files byte for byte too). Run:

    python bench/derive.py [--baseline main] [--rounds 3] [--passes 2] [--big]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sidebyside

HERE = Path(__file__).resolve().parents[1]
FAMILIES = [
    {"name": "llama", "label": "Meta Llama", "authors": ["meta-llama"], "region": "us"},
    {"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"},
]
BIG_ORGS = ["meta-llama", "Qwen", "deepseek-ai", "mistralai", "xai-org"]
START = dt.datetime(2026, 8, 9, 6, 0, tzinfo=dt.UTC)
MISSING = dt.date(2026, 8, 10)


# ---------------------------------------------------------------- worker (runs inside one tree)
def _timed(fn, *args, **kwargs):
    c, w = time.process_time(), time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.process_time() - c, time.perf_counter() - w


def _worker(tree: Path, out: Path, big: bool) -> None:
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    import importlib

    import pandas as pd
    import structlog

    from tests.conftest import write_config
    from tracker import config, jobs
    from tracker.hubsim import HubSim, World
    from tracker.jobs import trend
    from tracker.warehouse import Warehouse

    # time each run's publish step (not the trend refresh, timed on its own below)
    mods = [
        importlib.import_module(f"tracker.jobs.{m}")
        for m in ("snapshot_run", "snapshot")
        if (tree / "tracker" / "jobs" / f"{m}.py").exists()
    ]
    run_cls = next(getattr(m, n) for m in mods for n in ("SnapshotRun", "_SnapshotRun") if hasattr(m, n))
    publish = run_cls.publish
    publish_times: list[tuple[float, float]] = []

    def timed_publish(self, refresh_trends=True, refresh_serving=True):
        run, cpu, wall = _timed(publish, self, False, refresh_serving)
        publish_times.append((cpu, wall))
        if refresh_trends:
            trend.derive(self.settings, self.wh)
        return run

    run_cls.publish = timed_publish
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))  # quiet runs
    results: dict[str, dict] = {}

    def measure(name: str, s) -> None:
        """Derive once, record the build's publish times, and dump every table for the comparison."""
        wh = Warehouse(s.warehouse)
        trend.derive(s, wh)
        results[name] = {"publish": list(publish_times), "warehouse": str(s.warehouse.parent)}
        publish_times.clear()
        dump = out / name
        shutil.copytree(s.warehouse / "derived", dump / "derived")
        for table in ("family_snapshots", "quality", "snapshots", "models", "family_daily"):
            df = wh.read(f"SELECT * FROM {table if table == 'family_daily' else f'_files({table!r})'}")
            for col in ("run_id",):
                if col in df.columns:
                    df[col] = df[col].astype("str").str.replace(r"-[0-9a-f]{6}$", "-x", regex=True)
            for col in ("valid_from",):
                if col in df.columns:
                    df = df.drop(columns=col)
            df = df.sort_values(list(df.columns), kind="stable", ignore_index=True)
            df.to_parquet(dump / f"{table}.parquet", index=False)

    tmp = out / "warehouses"
    for sub in ("day1", "day2", "day15", "import", "big"):
        (tmp / sub).mkdir(parents=True)
    try:
        for name, n_days in (("day1", 1), ("day2", 3), ("day15", 15)):
            world = World(seed=0, models=4000, now=START)
            with HubSim(world) as hub:
                s = config.load(write_config(tmp / name, hub.endpoint, FAMILIES))
                for i in range(n_days):
                    at = START + dt.timedelta(days=i)
                    if at.date() == MISSING:
                        continue
                    world.set_time(at)
                    jobs.collect(s, now=at, show_progress=False, refresh_trends=False)
            measure(name, s)
        publish_times.clear()
        s = config.load(write_config(tmp / "import", "http://127.0.0.1:9", FAMILIES))
        arcs = []
        for k, day in enumerate(pd.date_range("2026-07-29", periods=4, freq="D")):
            for rep in range(2 if k == 1 else 1):
                recs = [
                    {
                        "id": f"{org}/m{i:03d}",
                        "downloads": 100 * i + k + rep,
                        "downloadsAllTime": 1000 * i + 50 * k - (30 if (i, k) == (3, 2) else 0),
                        "likes": (i * 7 + k) % 5,
                        "createdAt": "2025-01-01T00:00:00.000Z" if i != 29 else f"{day:%Y-%m-%d}T01:00:00.000Z",
                    }
                    for org in ("meta-llama", "Qwen")
                    for i in range(30 - (k == 3) * 2)
                ]
                p = tmp / f"{day:%Y%m%d}-{rep}.json"
                p.write_text(json.dumps({"fetched_at": f"{day:%Y-%m-%d}T0{6 + rep}:00:00Z", "models": recs}))
                arcs.append(p)
        jobs.import_files(s, arcs, refresh_trends=False)
        measure("import", s)
        if big:
            n = 4000
            world = World(seed=1, models=len(BIG_ORGS) * n, official=dict.fromkeys(BIG_ORGS, n), now=START)
            fams = [{"name": o.lower().replace("-", ""), "authors": [o], "region": "us"} for o in BIG_ORGS]
            with HubSim(world) as hub:
                s = config.load(write_config(tmp / "big", hub.endpoint, fams))
                for i in range(4):
                    at = START + dt.timedelta(days=i)
                    world.set_time(at)
                    jobs.collect(s, now=at, show_progress=False, refresh_trends=False)
            measure("big", s)
    finally:
        (out / "times.json").write_text(json.dumps(results))


def _time_derive(tree: Path, warehouses: list[Path], rounds: int) -> None:
    """Time `rounds` derives of each warehouse; before each, the derived files are removed, so every
    table is written as after a collect that changed it (no "unchanged, kept" shortcut)."""
    sys.path.insert(0, str(tree))
    from tracker import config
    from tracker.jobs import trend
    from tracker.warehouse import Warehouse

    got = {}
    for path in warehouses:
        s = config.load(path / "config.yaml")
        wh = Warehouse(s.warehouse)
        wh.ensure()  # once per process: not timed
        times = []
        for _ in range(rounds):
            for f in (s.warehouse / "derived").glob("*.parquet"):
                f.unlink()
            times.append(_timed(trend.derive, s, wh)[1:])
        got[path.name] = times
    print(json.dumps(got))


# ---------------------------------------------------------------- parent: both trees, side by side
def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_DISABLE_TELEMETRY": "1"}


def _run_tree(tree: Path, out: Path, args) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(tree), "--out", str(out)]
    subprocess.run(cmd + (["--big"] if args.big else []), env=_env(tree), check=True)
    return json.loads((out / "times.json").read_text())


def _derive_times(tree: Path, got: dict, rounds: int) -> dict[str, list]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--time", str(tree), "--rounds", str(rounds)]
    cmd += [v["warehouse"] for v in got.values()]
    done = subprocess.run(cmd, env=_env(tree), check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _compare(a: Path, b: Path) -> list[str]:
    import pyarrow.parquet as pq

    bad = []
    names = sorted({p.relative_to(a) for p in a.rglob("*.parquet")} | {p.relative_to(b) for p in b.rglob("*.parquet")})
    for rel in names:
        pa_, pb = a / rel, b / rel
        if not (pa_.exists() and pb.exists()):
            bad.append(f"{rel}: only in {'baseline' if pa_.exists() else 'new'}")
            continue
        ta, tb = pq.read_table(pa_), pq.read_table(pb)
        if not ta.equals(tb, check_metadata=True):
            bad.append(f"{rel}: tables differ (schema {ta.schema.equals(tb.schema, check_metadata=True)})")
        elif rel.parts[0] == "derived" and pa_.read_bytes() != pb.read_bytes():
            bad.append(f"{rel}: same table, different bytes")
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="main", help="git ref of the old code (default: main)")
    ap.add_argument("--rounds", type=int, default=3, help="derive calls per warehouse and pass")
    ap.add_argument("--passes", type=int, default=2, help="old/new timing passes, alternated")
    ap.add_argument("--big", action="store_true", help="also a 5-family, 20,000-model warehouse")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--time", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("warehouses", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(args.worker, args.out, args.big)
        return
    if args.time:
        _time_derive(args.time, args.warehouses, args.rounds)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-derive-cmp-"))
    try:
        base = sidebyside.export(args.baseline, work / "tree", HERE)
        t_old = _run_tree(base, work / "old", args)
        t_new = _run_tree(HERE, work / "new", args)
        bad = [f"{name}/{m}" for name in t_old for m in _compare(work / "old" / name, work / "new" / name)]
        d_old: dict[str, list] = {name: [] for name in t_old}
        d_new: dict[str, list] = {name: [] for name in t_old}
        for _ in range(args.passes):  # alternated, so that the machine's load weighs on both alike
            for name, times in _derive_times(base, t_old, args.rounds).items():
                d_old[name] += times
            for name, times in _derive_times(HERE, t_new, args.rounds).items():
                d_new[name] += times
        print(f"baseline {args.baseline} vs working tree {HERE}; process CPU seconds per call, every round")
        print("publish: each collect's publish step while the warehouse was built (trend refresh excluded)")
        print("derive: derive on the built warehouse, derived files removed before each call (all written)")
        for name in t_old:
            for what, o, n in (
                ("publish", t_old[name]["publish"], t_new[name]["publish"]),
                ("derive", d_old[name], d_new[name]),
            ):
                if not o:
                    continue
                mo, mn = sum(c for c, _ in o) / len(o), sum(c for c, _ in n) / len(n)
                print(f"{name:7} {what:8} old {sidebyside.rounds(o)}")
                print(f"{'':7} {'':8} new {sidebyside.rounds(n)}   mean {mo:.3f} -> {mn:.3f} s cpu ({mo / mn:.1f}x)")
        print("exactness: " + ("every table identical" if not bad else f"{len(bad)} differ:\n  " + "\n  ".join(bad)))
        sys.exit(1 if bad else 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
