"""Benchmark: does the warehouse stay fast as history grows? A year of daily snapshots of 100,000
models plus a daily tree of 1,000 official models, then each documented view timed on the 30-day and
on the 365-day warehouse, side by side with the same query over the raw rows.

The warehouse is written through the normal write path without the network: each simulated day is a
collect run written with Warehouse's own write functions (`store_models` hands out keys and records
changed attributes, `publish` writes the snapshot and family files, then the run record) from rows
generated in memory, with the exact per-day downloads from the synthetic world's truth, and a tree run
writing its answers in chunks of 200 and a member list per
family (as `tracker tree` does), followed by `Warehouse.compact` (as the daemon does after its jobs).
At day 30 and at the end the served and trend tables are refreshed (as after every job) and every
query runs 3 rounds in a fresh read-only DuckDB session on hub.duckdb, as a user's would.

    nice -n 10 python bench/history.py [--days 365] [--models 100000] [--official 1000] [--keep DIR]

Goals: every documented view <= 0.3 s on the year and <= 1.5x its 30-day time; a few dozen files per
dataset after a year; <= 8 bytes per snapshot row.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

# the same nine families, download shares and settings as the report bench
from bench.report import FAMILIES, SHARE, bench_settings
from tracker import jobs, log, records
from tracker.warehouse import SCHEMAS, Warehouse, files, new_run_id

ROUNDS = 3

# (view, the typical query on it (the README's examples where it has one), the same over raw rows or None
# when the view is itself over raw rows or its table comes from the trend math)
QUERIES = [
    (
        "family_daily",
        "select * from family_daily order by day desc, downloads_30d desc",
        "select * from _family_daily order by day desc, downloads_30d desc",
    ),
    (
        "models_latest",
        "select model_id, downloads_30d, likes from models_latest where family = 'qwen' order by 2 desc limit 10",
        "with m as (select * from snapshots qualify row_number() over (partition by model_id order by taken_at desc, "
        "family) = 1) select model_id, downloads_30d, likes from m where family = 'qwen' order by 2 desc limit 10",
    ),
    (
        "tree",
        "select family, sum(derivatives) d from tree where day = (select max(day) from tree) group by 1 "
        "order by 2 desc",
        "select family, sum(derivatives) d from _tree where day = (select max(day) from "
        "_tree) group by 1 order by 2 desc",
    ),
    (
        "ecosystem",
        "select family, count(*) from ecosystem group by 1",
        "select family, count(*) from _ecosystem group by 1",
    ),
    (
        "family_weekly",
        "select week, family, downloads_30d, downloads_30d_wow_pct from family_weekly "
        "order by week desc, downloads_30d desc limit 20",
        None,
    ),
    (
        "crossovers",
        "select * from crossovers where metric = 'downloads_30d' and family = 'qwen' and overtaken = 'llama'",
        None,
    ),
    ("model_crossovers", "select * from model_crossovers order by day desc limit 20", None),
    ("projections", "select * from projections", None),
    ("quality", "select day, family, issue, count(*) n from quality group by all order by day desc limit 20", None),
    ("runs", "select started_at, job, status, error from runs where status <> 'ok' order by started_at desc", None),
    ("quarantine", "select * from quarantine limit 20", None),
    (
        "snapshots",
        "select day, downloads_30d, likes from snapshots where model_id = 'Qwen/model-000001-b' order by day",
        None,
    ),
]
RAW_VIEWS = {"runs", "quarantine", "snapshots", "quality"}  # over every raw row by design (audits, export)


class World:
    """A synthetic Hub of `n` models: what a listing of each family returns on day k, as checked rows."""

    def __init__(self, n: int, official: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.fam = rng.choice(len(FAMILIES), size=n, p=SHARE)
        self.ids = np.array([f"{FAMILIES[f][1]}/model-{i:06d}-{'abcdefgh'[i % 8]}" for i, f in enumerate(self.fam)])
        self.born = np.where(rng.random(n) < 0.85, -rng.integers(1, 900, n), rng.integers(0, 365, n))
        self.born[:official] = -rng.integers(30, 900, official)  # official models exist from the start
        self.rate = rng.lognormal(3.0, 2.2, n)
        self.growth = rng.normal(0.0, 0.004, n) + np.where(self.fam == 1, 0.004, 0.0)
        self.likes_rate = rng.lognormal(-3, 1.5, n)
        self.pipeline = rng.choice(["text-generation", "image-text-to-text", "feature-extraction"], n)
        self.modified = self.born.astype(float)
        self.official = official
        self.kids = rng.poisson(40, (official, 4))
        self.t0 = pd.Timestamp("2025-09-01", tz="UTC")

    def set_day(self, k: int) -> None:
        changed = np.random.default_rng(k).random(len(self.ids)) < 0.02  # 2% of models push a commit a day
        self.modified = np.where(changed & (self.born <= k), k, self.modified)

    def listing(self, f: int, k: int) -> records.Checked:
        sel = np.flatnonzero((self.fam == f) & (self.born <= k))
        age = k - self.born[sel]
        r = self.rate[sel] * np.exp(self.growth[sel] * k)
        at = (self.rate[sel] * age * 1.3 + r * 5).astype(np.int64) + np.maximum(0, age) * 3
        d30 = (r * np.minimum(age, 30)).astype(np.int64)
        ids = self.ids[sel]
        rows = pd.DataFrame(
            {
                "model_id": pd.array(ids, dtype="str"),
                "author": pd.array([FAMILIES[f][1]] * len(sel), dtype="str"),
                "downloads_30d": pd.array(d30, dtype="Int64"),
                "downloads_all_time": pd.array(at, dtype="Int64"),
                "likes": pd.array((self.likes_rate[sel] * age).astype(np.int64), dtype="Int64"),
                "trending_score": pd.array((d30 // 1000).astype(float), dtype="Float64"),
                "created_at": (self.t0 + pd.to_timedelta(self.born[sel], unit="D")).as_unit("us"),
                "last_modified": (self.t0 + pd.to_timedelta(self.modified[sel], unit="D")).as_unit("us"),
                "pipeline_tag": pd.array(self.pipeline[sel], dtype="str"),
                "library_name": pd.array(["transformers"] * len(sel), dtype="str"),
                "gated": pd.array(["false"] * len(sel), dtype="str"),
                "parameters": pd.array([None] * len(sel), dtype="Int64"),  # the listing gave no safetensors
            }
        )
        return records.Checked(rows=rows, bad=[], total=len(rows))

    def family_rows(self, k: int, rows: pd.DataFrame) -> pd.DataFrame:
        """Per family: the sums of the day's listing and the exact downloads since the previous day
        (all-time differences of models listed both days, plus new models' all-time counts)."""
        prev = getattr(self, "_prev", None)
        at = rows.set_index("model_id").downloads_all_time.astype("int64")
        out = []
        for f, (name, _, region) in enumerate(FAMILIES):
            mine = rows[rows._f == f]
            interval = None
            if prev is not None:
                cur = at[mine.model_id]
                old = prev.reindex(cur.index)
                interval = int((cur - old.fillna(0)).where(old.notna() | (cur.index.isin(self._new(k)))).sum())
            out.append(
                {
                    "family": name,
                    "label": name,
                    "region": region,
                    "models": len(mine),
                    "downloads_30d": int(mine.downloads_30d.sum()),
                    "downloads_all_time": int(mine.downloads_all_time.sum()),
                    "likes": int(mine.likes.sum()),
                    "downloads_interval": interval,
                    "interval_days": None if prev is None else 1,
                }
            )
        self._prev = at
        df = pd.DataFrame(out)
        for c in ("models", "downloads_30d", "downloads_all_time", "likes", "downloads_interval"):
            df[c] = df[c].astype("Int64")
        df["interval_days"] = df["interval_days"].astype("Int32")
        return df

    def _new(self, k: int) -> set:
        return set(self.ids[self.born == k])

    def tree_rows(self, k: int, run_id: str, taken_at: pd.Timestamp, day: dt.date) -> pd.DataFrame:
        grow = 1 + k // 7
        n = self.official
        kids = self.kids * grow
        return pd.DataFrame(
            {
                "run_id": run_id,
                "taken_at": taken_at,
                "day": day,
                "model_id": self.ids[:n],
                "status": "ok",
                "current_id": self.ids[:n],
                "finetunes": kids[:, 0],
                "adapters": kids[:, 1],
                "quantizations": kids[:, 2],
                "merges": kids[:, 3],
                "derivatives": kids.sum(axis=1),
                "base_relation": None,
                "base_models": [[] for _ in range(n)],
            }
        )


class Phases:
    def __init__(self):
        self.t: dict[str, float] = {}

    def add(self, name: str, t0: float) -> float:
        now = time.perf_counter()
        self.t[name] = self.t.get(name, 0.0) + now - t0
        return now

    def line(self) -> str:
        return ", ".join(f"{k} {v:.0f} s" for k, v in self.t.items())


def build_day(s, wh: Warehouse, world: World, start: dt.date, k: int, ph: Phases) -> None:
    """One simulated day: a collect run and a tree run, each through Warehouse's write functions
    (model keys, data files, run record last), then a compaction."""
    t = time.perf_counter()
    world.set_day(k)
    at = dt.datetime.combine(start + dt.timedelta(days=k), dt.time(6), dt.UTC)
    day, run_id, taken = at.date(), new_run_id("collect", at), pd.Timestamp(at).as_unit("us")
    parts = []
    for f, (name, _, _) in enumerate(FAMILIES):
        rows = world.listing(f, k).rows
        parts.append(rows.assign(family=name, _f=f))
    rows = pd.concat(parts, ignore_index=True)
    t = ph.add("generate", t)
    keyed, _ = wh.store_models(rows[["model_id", *Warehouse.ATTRS]], run_id, at, day)
    rows["model_key"] = rows.model_id.map(dict(zip(keyed.model_id, keyed.model_key, strict=True))).astype("int64")
    t = ph.add("model keys", t)
    snaps = rows.assign(run_id=run_id, taken_at=taken, day=day).sort_values(["family", "model_key"])
    fam = world.family_rows(k, rows).assign(run_id=run_id, taken_at=taken, day=day)
    run = {
        "run_id": run_id,
        "job": "collect",
        "started_at": at,
        "finished_at": at,
        "status": "ok",
        "families_ok": len(FAMILIES),
        "families_failed": 0,
        "models": len(snaps),
        "requests": 0,
        "retries": 0,
        "error": None,
    }
    wh.publish(run, day, {"snapshots": snaps, "family_snapshots": fam}, refresh=False)
    t = ph.add("collect files", t)
    # the tree run of the day: answers in chunks of 200, then each family's member list, then its record
    tat = at + dt.timedelta(minutes=30)
    rid = new_run_id("tree", tat)
    taken = pd.Timestamp(tat).as_unit("us")
    parts = world.tree_rows(k, rid, taken, tat.date())
    for c in range(0, len(parts), 200):
        wh.write("tree_parts", tat.date(), f"{rid}-{c // 200:05d}", parts.iloc[c : c + 200])
    fams = world.fam[: world.official]
    for f, (name, _, _) in enumerate(FAMILIES):
        ids = world.ids[: world.official][fams == f]
        if len(ids):
            wh.write(
                "tree_members",
                tat.date(),
                f"{rid}-{name}",
                pd.DataFrame({"run_id": rid, "day": tat.date(), "family": name, "model_id": ids}),
            )
    wh.publish(
        {
            "run_id": rid,
            "job": "tree",
            "started_at": tat,
            "finished_at": tat,
            "status": "ok",
            "families_ok": len(FAMILIES),
            "families_failed": 0,
            "models": len(parts),
            "requests": len(parts),
            "retries": 0,
            "error": None,
        },
        tat.date(),
        {},
        refresh=False,
    )
    t = ph.add("tree", t)
    wh.compact(today=at.date() + dt.timedelta(days=1), grace_s=0)  # the daemon, after its jobs
    ph.add("compact", t)


def refresh(s, wh: Warehouse, ph: Phases) -> None:
    t = time.perf_counter()
    wh.refresh_serving()
    t = ph.add("serving", t)
    jobs.derive(s, wh)
    ph.add("derive", t)


def measure(wh: Warehouse) -> dict[str, dict]:
    """Each query ROUNDS times: a view's in a fresh read-only session of hub.duckdb (as a user runs it),
    the same over raw rows on the tracker's own read catalog (hub.duckdb holds only the documented views
    and what they read, not `_family_daily`, `_tree` or `_ecosystem`); wall and CPU time of each round."""
    import duckdb

    def rounds_of(con, sql: str) -> list[tuple[float, float, int]]:
        rounds = []
        for _ in range(ROUNDS):
            c0, t0 = time.process_time(), time.perf_counter()
            n = len(con.sql(sql).df())
            rounds.append((time.perf_counter() - t0, time.process_time() - c0, n))
        return rounds

    out = {}
    with duckdb.connect(str(wh.db_path), read_only=True) as con:
        for view, q, raw in QUERIES:
            out[view] = {"view": rounds_of(con, q)}
            if raw is not None:
                with wh.cursor(raw) as tracker_con:
                    out[view]["raw"] = rounds_of(tracker_con, raw)
    return out


def file_counts(wh: Warehouse) -> dict[str, tuple[int, int]]:
    return {d: (len(files.visible(wh.root, d)), len(list((wh.root / d).glob("*/*.parquet")))) for d in SCHEMAS}


def fmt_rounds(rounds) -> str:
    return " ".join(f"{w:.3f}" for w, _, _ in rounds)


def report(m30: dict, m365: dict, days30: int, days: int) -> None:
    print(
        f"\n{'view':17} {'rounds ' + str(days30) + ' d (s)':>24} {'rounds ' + str(days) + ' d (s)':>24} "
        f"{'worst':>7} {'ratio':>6} {'cpu/wall':>8}  raw rows: worst {days30} d / {days} d   goal"
    )
    bad = []
    for view, _, _ in QUERIES:
        a, b = m30[view]["view"], m365[view]["view"]
        worst30, worst = max(r[0] for r in a), max(r[0] for r in b)
        ratio = worst / worst30 if worst30 else float("nan")
        cpu = sum(r[1] for r in b) / sum(r[0] for r in b)
        raw = (
            f"{max(r[0] for r in m30[view]['raw']):7.3f} / {max(r[0] for r in m365[view]['raw']):7.3f}"
            if "raw" in m365[view]
            else "      - (the view itself)"
            if view in RAW_VIEWS
            else "      - (trend math)"
        )
        ok = view in RAW_VIEWS or (worst <= 0.3 and (worst <= 1.5 * worst30 or worst < 0.05))
        if not ok:
            bad.append(view)
        goal = "raw view" if view in RAW_VIEWS else ("ok" if ok else "MISSED")
        print(
            f"{view:17} {fmt_rounds(a):>24} {fmt_rounds(b):>24} {worst:7.3f} {ratio:6.2f} {cpu:8.2f}  {raw:24}   {goal}"
        )
    print(
        "(cpu/wall: process CPU time over wall time across DuckDB's threads; >= 1 means the query waits on CPU,"
        " well under 1 on the disk or file opens)"
    )
    print(
        "goal every served/derived view <= 0.3 s on the year and <= 1.5x its 30-day time (or < 0.05 s): "
        + ("met" if not bad else f"MISSED for {', '.join(bad)}")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--models", type=int, default=100_000)
    ap.add_argument("--official", type=int, default=1000)
    ap.add_argument("--first", type=int, default=30, help="the early warehouse measured (days)")
    ap.add_argument("--keep", help="build in this folder (kept afterwards)")
    args = ap.parse_args()
    os.environ["TRACKER_LOG_LEVEL"] = "WARNING"
    log.configure(json=True, level="WARNING")
    root, _cfg, s = bench_settings(args.keep, "bench-history-")
    wh = Warehouse(s.warehouse)
    wh.ensure()
    world = World(args.models, args.official)
    start = dt.date(2025, 9, 1)
    ph = Phases()
    t0 = time.perf_counter()
    m30 = None
    print(
        f"building {args.days} days of {args.models:,} models + a tree of {args.official:,} official models "
        f"in {root} (waits on: pyarrow writes and fsync, DuckDB reads of the previous snapshot and model keys)"
    )
    for k in range(args.days):
        build_day(s, wh, world, start, k, ph)
        if k + 1 == args.first or k + 1 == args.days or (k + 1) % 30 == 0:
            print(
                f"  day {k + 1}/{args.days}: {time.perf_counter() - t0:.0f} s ({ph.line()}); "
                f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB",
                flush=True,
            )
        if k + 1 == args.first:
            refresh(s, wh, ph)
            m30 = measure(wh)
            files30 = file_counts(wh)
    refresh(s, wh, ph)
    build_s = time.perf_counter() - t0
    peak_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    m365 = measure(wh)
    rows = int(wh.query("select count(*) n from _snapshot_rows").n[0])
    vis = files.visible(wh.root, "snapshots")
    snap_bytes = sum(p.stat().st_size for p in vis)
    model_bytes = sum(p.stat().st_size for p in files.visible(wh.root, "models"))
    print(
        f"\nbuilt in {build_s:.0f} s ({build_s / args.days:.2f} s a day: {ph.line()}); peak memory of the build "
        f"{peak_build:.0f} MiB (ru_maxrss, the {args.first}-day measurement included), "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB with the raw-row baselines of the year"
    )
    report(m30, m365, args.first, args.days)
    print(f"\nfiles per dataset, visible (on disk)   after {args.first} days  /  after {args.days} days")
    for d, (v, n) in file_counts(wh).items():
        v30, n30 = files30[d]
        print(f"  {d:18} {v30:4} ({n30:4})  /  {v:4} ({n:4})")
    print(
        f"  runs written: {2 * args.days} (a collect and a tree a day); files written by them: "
        f"~{args.days * (6 + args.official // 200 + len(FAMILIES))}"
    )
    print(f"\nsnapshot rows             {rows:,}")
    print(
        f"bytes per snapshot row    {snap_bytes / rows:.2f} (snapshots/)  {(snap_bytes + model_bytes) / rows:.2f} "
        f"(+ model attributes)  {wh.size_bytes() / rows:.2f} (whole warehouse)   goal <= 8"
    )
    print(
        "served tables             "
        + ", ".join(
            f"{p.stem} {p.stat().st_size / 1e6:.1f} MB" for p in sorted((wh.root / "serving").glob("*.parquet"))
        )
    )
    print(f"\nwarehouse kept in {root}" if args.keep else f"\n(warehouse in {root}; pass --keep to reuse)")


if __name__ == "__main__":
    main()
