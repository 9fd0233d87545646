"""Benchmark and exactness check: the fixed CPU cost of a job on a small or fresh warehouse, old code beside new.

The test suite runs ~150 collects, most into a fresh warehouse of a few hundred models, and the daemon
runs one per schedule: for those, the per-job constant (creating the layout and hub.duckdb, the
in-memory read connection, the warehouse's own reads, the served tables and the trend refresh)
outweighs the data. For each tree (the baseline ref, exported with `git archive`, and the working
tree), in its own process, with the emulator (a real HTTP server, real DuckDB and Parquet files;
3 families, 600 models of a 6,000-model world), each round times:

  fresh         a collect into a new warehouse, without the trend refresh
  fresh+trends  a collect into a new warehouse, with it (what a test's first collect costs)
  next day      a second collect, a day later, into the warehouse of `fresh+trends` (with trends)
  tree          `tracker tree` of one family (70 official models: 70 model_info requests) on that warehouse
  backfill      `tracker backfill` of that family since 2024-06-01 (70 model-tree listings) on that warehouse
  import 8 days `tracker import` of 8 daily listings of the demo's 5 families (the world's own values,
                written as archive files beforehand) into a new warehouse: 8 runs, each after a previous day
  import real   `tracker import` of the 8 real Hub listings in ../shared/realdata (531 models a day) with the
                shipped config.yaml's families, into a new warehouse (only where ../shared is beside the checkout)

Passes alternate old and new processes (`--passes`, each `--rounds` rounds), so that the machine's
load weighs on both alike. Figures are process CPU seconds (DuckDB's threads included) and the worst
wall time; every round is printed. What it waits on: the CPU and the disk (fsyncs show in wall, not
in CPU), and the emulator's HTTP answers on 127.0.0.1 (a few requests per collect; no sleeps, no
rate limit).

Exactness: each tree then builds the same warehouses (a fresh collect; four daily collects, a tree
run between; an import of two archived listings) and dumps every public view's answer (through
hub.duckdb, as a user reads it) and every served and derived file; the two trees' dumps are compared
table by table (run ids' random suffix and run times masked). Run:

    python bench/jobcost.py [--baseline main] [--rounds 3] [--passes 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

import sidebyside

HERE = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 8, 10, 6, 0, tzinfo=dt.UTC)
REAL = HERE.parent / "shared" / "realdata" / "hub-listing-2026-08"
CASES = ("fresh", "fresh+trends", "next day", "tree", "backfill", "import 8 days") + (
    ("import real",) if REAL.is_dir() else ()
)


# ---------------------------------------------------------------- worker (runs inside one tree)
def _setup(tree: Path):
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))  # quiet runs
    from tests.conftest import write_config
    from tracker import config, demo

    def settings(d: Path, endpoint: str, names=("llama", "qwen", "gemma")):
        d.mkdir(parents=True, exist_ok=True)
        return config.load(write_config(d, endpoint, list(demo.families(*names))))

    return settings


def _shipped(tree: Path, folder: Path):
    """The settings of `tree`'s own config.yaml, with the warehouse in `folder`."""
    import yaml

    from tracker import config

    doc = yaml.safe_load((tree / "config.yaml").read_text())
    doc["warehouse"] = str(folder / "warehouse")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(doc))
    return config.load(folder / "config.yaml")


def _archives(world, folder: Path, days: int) -> list[Path]:
    """`days` daily listings of the demo families' authors, as archive files (the world's own values)."""
    from tracker import demo

    authors = {a for f in demo.FAMILIES for a in f["authors"]}
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(days):
        at = NOW + dt.timedelta(days=k)
        snap = world.snapshot(at)
        snap = snap[snap.author.isin(authors)]
        recs = [
            {"id": i, "downloads": int(d), "downloadsAllTime": int(t), "likes": int(n), "createdAt": c.isoformat()}
            for i, d, t, n, c in zip(
                snap.id, snap.downloads, snap.downloads_all_time, snap.likes, snap.created_at, strict=True
            )
        ]
        paths.append(folder / f"{at.date()}.json")
        paths[-1].write_text(json.dumps({"fetched_at": at.isoformat(), "models": recs}))
    return paths


def _time_worker(tree: Path, rounds: int) -> None:
    settings = _setup(tree)
    from tracker import demo, jobs
    from tracker.hubsim import HubSim, World

    world = World(seed=11, models=6000, now=NOW)
    cost = sidebyside.cpu_wall
    out: dict[str, list] = {c: [] for c in CASES}
    with HubSim(world) as hub, tempfile.TemporaryDirectory() as tmp:
        hub.set_quota(anonymous=100_000, token=100_000, window_s=300)
        arcs = _archives(world, Path(tmp) / "archives", 8)
        real = sorted(REAL.glob("*.json"))
        all_five = tuple(f["name"] for f in demo.FAMILIES)
        jobs.collect(settings(Path(tmp) / "warm", hub.endpoint), now=NOW, show_progress=False)  # imports, caches
        for i in range(rounds):
            world.set_time(NOW)
            s = settings(Path(tmp) / f"a{i}", hub.endpoint)
            out["fresh"].append(cost(jobs.collect, s, now=NOW, show_progress=False, refresh_trends=False))
            s = settings(Path(tmp) / f"b{i}", hub.endpoint)
            out["fresh+trends"].append(cost(jobs.collect, s, now=NOW, show_progress=False))
            world.set_time(NOW + dt.timedelta(days=1))
            out["next day"].append(cost(jobs.collect, s, now=NOW + dt.timedelta(days=1), show_progress=False))
            out["tree"].append(
                cost(jobs.tree, s, families=["llama"], now=NOW + dt.timedelta(days=1, hours=1), show_progress=False)
            )
            out["backfill"].append(
                cost(
                    jobs.backfill,
                    s,
                    families=["llama"],
                    since=dt.date(2024, 6, 1),
                    now=NOW + dt.timedelta(days=1, hours=2),
                    show_progress=False,
                )
            )
            s = settings(Path(tmp) / f"c{i}", hub.endpoint, all_five)
            out["import 8 days"].append(cost(jobs.import_files, s, arcs))
            if REAL.is_dir():
                out["import real"].append(cost(jobs.import_files, _shipped(tree, Path(tmp) / f"r{i}"), real))
    print(json.dumps(out))


def _dump_worker(tree: Path, out: Path) -> None:
    settings = _setup(tree)
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from tracker import jobs
    from tracker.hubsim import HubSim, World
    from tracker.warehouse import Warehouse, view_files

    def mask(tbl: pa.Table) -> pa.Table:
        cols = {}
        for name in tbl.column_names:
            col = tbl.column(name)
            if name in ("started_at", "finished_at"):  # the run's own clock
                col = pa.nulls(len(col), col.type)
            elif pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                col = pc.replace_substring_regex(col, r"-(collect|tree|import|backfill)-[0-9a-f]{6}", r"-\1-x")
            cols[name] = col
        tbl = pa.table(cols)
        keys = [(n, "ascending") for n in tbl.column_names if not pa.types.is_nested(tbl.schema.field(n).type)]
        return tbl.sort_by(keys) if keys else tbl

    def dump(name: str, s) -> None:
        wh = Warehouse(s.warehouse)
        dest = out / name
        dest.mkdir(parents=True)
        with wh.connect() as con:
            for view, text in view_files():
                if view.startswith("_") or "CREATE OR REPLACE MACRO" in text:
                    continue
                pq.write_table(mask(con.sql(f"SELECT * FROM {view}").to_arrow_table()), dest / f"view-{view}.parquet")
        for sub in ("serving", "derived"):
            for f in sorted((s.warehouse / sub).glob("*.parquet")):
                pq.write_table(mask(pq.read_table(f)), dest / f"{sub}-{f.name}")

    tmp = out / "warehouses"
    world = World(seed=11, models=6000, now=NOW)
    with HubSim(world) as hub:
        hub.set_quota(anonymous=100_000, token=100_000, window_s=300)
        s = settings(tmp / "fresh", hub.endpoint)
        jobs.collect(s, now=NOW, show_progress=False)
        dump("fresh", s)
        s = settings(tmp / "days", hub.endpoint)
        for i in range(4):
            at = NOW + dt.timedelta(days=i)
            world.set_time(at)
            jobs.collect(s, now=at, show_progress=False)
            if i == 1:
                jobs.tree(s, now=at + dt.timedelta(hours=1), show_progress=False)
        jobs.backfill(
            s, families=["llama"], since=dt.date(2024, 6, 1), now=at + dt.timedelta(hours=2), show_progress=False
        )
        dump("days", s)
    s = settings(tmp / "import", "http://127.0.0.1:9")
    arcs = []
    for k in range(2):
        recs = [
            {"id": f"{org}/m{i:02d}", "downloads": 10 * i + k, "downloadsAllTime": 100 * i + 7 * k, "likes": i % 3}
            for org in ("meta-llama", "Qwen")
            for i in range(20)
        ]
        p = tmp / f"arc{k}.json"
        p.write_text(json.dumps({"fetched_at": f"2026-07-0{k + 1}T06:00:00Z", "models": recs}))
        arcs.append(p)
    jobs.import_files(s, arcs)
    dump("import", s)


# ---------------------------------------------------------------- parent: both trees, side by side
def _compare(a: Path, b: Path) -> list[str]:
    import pyarrow.parquet as pq

    bad = []
    names = sorted({p.relative_to(a) for p in a.rglob("*.parquet")} | {p.relative_to(b) for p in b.rglob("*.parquet")})
    for rel in names:
        if "warehouses" in rel.parts:
            continue
        pa_, pb = a / rel, b / rel
        if not (pa_.exists() and pb.exists()):
            bad.append(f"{rel}: only in {'baseline' if pa_.exists() else 'new'}")
            continue
        ta, tb = pq.read_table(pa_), pq.read_table(pb)
        if not ta.equals(tb):
            bad.append(
                f"{rel}: tables differ ({ta.num_rows} vs {tb.num_rows} rows, same schema {ta.schema == tb.schema})"
            )
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="main", help="git ref of the old code (default: main)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per pass and tree")
    ap.add_argument("--passes", type=int, default=2, help="old/new timing passes, alternated")
    ap.add_argument("--no-check", action="store_true", help="skip the exactness check")
    ap.add_argument("--time-worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--dump-worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.time_worker:
        _time_worker(args.time_worker, args.rounds)
        return
    if args.dump_worker:
        _dump_worker(args.dump_worker, args.out)
        return
    work = Path(tempfile.mkdtemp(prefix="bench-jobcost-"))
    try:
        base = sidebyside.export(args.baseline, work / "tree", HERE)
        old, new = sidebyside.timed(
            args.passes,
            base,
            HERE,
            CASES,
            lambda tree: json.loads(
                sidebyside.worker(__file__, tree, "--time-worker", str(tree), "--rounds", str(args.rounds))
            ),
        )
        print(f"baseline {args.baseline} vs working tree {HERE}: process CPU seconds per job, every round")
        print("3 families, 600 models; the emulator on 127.0.0.1 answers each listing in one page")
        sidebyside.print_cases(old, new, CASES)
        if args.no_check:
            return
        for tree, name in ((base, "old"), (HERE, "new")):
            sidebyside.worker(__file__, tree, "--dump-worker", str(tree), "--out", str(work / name))
        bad = _compare(work / "old", work / "new")
        n = len([p for p in (work / "old").glob("*/*.parquet") if p.parts[-2] != "warehouses"])
        print("exactness: " + (f"{n} tables identical" if not bad else f"{len(bad)} differ:\n  " + "\n  ".join(bad)))
        sys.exit(1 if bad else 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
