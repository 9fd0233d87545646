"""Benchmark: a year of daily snapshots of 100,000 models; time `tracker report` and a family_daily query.

The warehouse is written through the normal write path: `jobs.collect` runs once per simulated day
with a synthetic Hub (records generated in memory instead of listed over HTTP, so that a year takes
minutes, not hours), then the trend tables are derived once. It then times, side by side,
  - `tracker report` for the last week (goal <= 10 s) against a plain full scan of the snapshot rows,
  - a `family_daily` query (goal <= 1 s) against the same aggregate computed from `snapshots`,
and prints disk bytes per snapshot row (goal <= 10).

    python bench/report.py [--days 365] [--models 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import yaml

from tracker import config, jobs
from tracker.hub import RequestStats
from tracker.warehouse import Warehouse

FAMILIES = [
    ("llama", "meta-llama", "us"),
    ("qwen", "Qwen", "china"),
    ("deepseek", "deepseek-ai", "china"),
    ("mistral", "mistralai", "eu"),
    ("gemma", "google", "us"),
    ("grok", "xai-org", "us"),
    ("smollm", "HuggingFaceTB", "us"),
    ("starcoder", "bigcode", "us"),
    ("bloom", "bigscience", "eu"),
]
SHARE = np.array([0.12, 0.30, 0.10, 0.08, 0.20, 0.02, 0.06, 0.06, 0.06])


class SyntheticHub:
    """Stands in for the network: hands collect the records a listing would return on a given day."""

    endpoint = "synthetic://hub"

    def __init__(self, n: int, start: dt.date, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.fam = rng.choice(len(FAMILIES), size=n, p=SHARE)
        self.ids = np.array([f"{FAMILIES[f][1]}/model-{i:06d}-{'abcdefgh'[i % 8]}" for i, f in enumerate(self.fam)])
        # most models exist before the year starts; the rest appear during it
        self.born = np.where(rng.random(n) < 0.85, -rng.integers(1, 900, n), rng.integers(0, 365, n))
        self.rate = rng.lognormal(3.0, 2.2, n)  # downloads per day
        self.growth = rng.normal(0.0, 0.004, n) + np.where(self.fam == 1, 0.004, 0.0)
        self.likes_rate = rng.lognormal(-3, 1.5, n)
        self.start = start
        self.day = 0
        self.pipeline = rng.choice(["text-generation", "image-text-to-text", "feature-extraction"], n)
        self.modified = self.born.astype(float)

    def set_day(self, k: int) -> None:
        self.day = k
        changed = np.random.default_rng(k).random(len(self.ids)) < 0.02  # 2% of models push a commit a day
        self.modified = np.where(changed & (self.born <= k), k, self.modified)

    @contextlib.contextmanager
    def track(self, budget_s=None):
        yield RequestStats(requests=int(np.ceil(len(self.ids) / 9 / 1000)))

    def list_family(self, family, progress=None):
        k = self.day
        f = [name for name, _, _ in FAMILIES].index(family.name)
        sel = np.flatnonzero((self.fam == f) & (self.born <= k))
        age = k - self.born[sel]
        r = self.rate[sel] * np.exp(self.growth[sel] * k)  # today's daily rate; all-time only grows
        at = (self.rate[sel] * age * 1.3 + r * 5).astype(np.int64) + np.maximum(0, k - self.born[sel]) * 3
        d30 = (r * np.minimum(age, 30)).astype(np.int64)
        likes = (self.likes_rate[sel] * age).astype(np.int64)
        t0 = dt.datetime.combine(self.start, dt.time(), dt.UTC)
        stamp = lambda d: (t0 + dt.timedelta(days=float(d))).strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
        recs = [
            {
                "_id": "",
                "id": self.ids[i],
                "downloads": int(d30[j]),
                "downloadsAllTime": int(at[j]),
                "likes": int(likes[j]),
                "trendingScore": int(d30[j] // 1000),
                "createdAt": stamp(self.born[i]),
                "lastModified": stamp(self.modified[i]),
                "pipeline_tag": str(self.pipeline[i]),
                "library_name": "transformers",
                "gated": False,
            }
            for j, i in enumerate(sel)
        ]
        return recs, len(recs)


def timed(fn, repeat=3):
    best = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best or 1e9, time.perf_counter() - t)
    return best, out


def bench_settings(keep: str | None, prefix: str):
    """The benchmark's folder (--keep, or a new temporary one), its config.yaml (the families above, no
    network) and the loaded settings."""
    root = Path(keep or tempfile.mkdtemp(prefix=prefix))
    root.mkdir(parents=True, exist_ok=True)
    cfg = root / "config.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "warehouse": str(root / "warehouse"),
                "hub": {"endpoint": "http://127.0.0.1:9"},
                "families": [{"name": n, "authors": [a], "region": r} for n, a, r in FAMILIES],
            }
        )
    )
    return root, cfg, config.load(cfg)


START = dt.date(2025, 9, 1)  # the synthetic Hub's day 0


def synthetic_warehouse(keep: str | None, prefix: str, models: int, days: int):
    """The benchmark's folder, config and settings (bench_settings) and its warehouse of `days` daily
    snapshots of `models` synthetic models: `jobs.collect` once per simulated day through the normal write
    path, logging only warnings, the trend tables not derived (the caller derives once if it needs them).
    Days a kept warehouse holds already are not collected again. Returns (root, cfg, settings, warehouse,
    days collected now)."""
    root, cfg, s = bench_settings(keep, prefix)
    wh = Warehouse(s.warehouse)
    have = len(wh.read("select distinct day from family_daily")) if wh.db_path.exists() else 0
    os.environ["TRACKER_LOG_LEVEL"] = "WARNING"
    from tracker import log

    log.configure(json=True, level="WARNING")
    hub = SyntheticHub(models, START)
    t0 = time.perf_counter()
    for k in range(have, days):
        hub.set_day(k)
        at = dt.datetime.combine(START + dt.timedelta(days=k), dt.time(6), dt.UTC)
        run = jobs.collect(s, now=at, hub=hub, show_progress=False, refresh_trends=False)
        assert run["status"] == "ok", run
        if k % 30 == 0 or k == days - 1:
            print(f"  day {k + 1}/{days}: {run['models']} models, {time.perf_counter() - t0:.0f} s elapsed", flush=True)
    if have < days:
        print(f"built {days - have} daily snapshots in {time.perf_counter() - t0:.0f} s")
    return root, cfg, s, wh, days - have


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--models", type=int, default=100_000)
    ap.add_argument("--keep", help="build (or reuse) the warehouse in this folder")
    args = ap.parse_args()
    root, cfg, s, wh, built = synthetic_warehouse(args.keep, "bench-report-", args.models, args.days)
    if built:
        t0 = time.perf_counter()
        jobs.derive(s)
        print(f"derived the trend tables in {time.perf_counter() - t0:.0f} s")
    rows = wh.query("select count(*) n from snapshots").n[0]
    snap_bytes = sum(p.stat().st_size for p in (wh.root / "snapshots").rglob("*.parquet"))
    model_bytes = sum(p.stat().st_size for p in (wh.root / "models").rglob("*.parquet"))
    total = wh.size_bytes()
    print(f"\nsnapshot rows             {rows:,}")
    print(
        f"bytes per snapshot row    {snap_bytes / rows:.2f} (snapshots/)  "
        f"{(snap_bytes + model_bytes) / rows:.2f} (+ model attributes)  {total / rows:.2f} (whole warehouse)"
        f"   goal <= 10"
    )

    db = str(wh.db_path)
    q_family = "select * from family_daily order by day desc, downloads_30d desc"
    q_base = (
        "select day, family, count(*) models, sum(downloads_30d) downloads_30d, "
        "sum(downloads_all_time) downloads_all_time, sum(likes) likes from snapshots group by all"
    )
    import duckdb

    with duckdb.connect(db, read_only=True) as con:
        t_fd, n_fd = timed(lambda: len(con.sql(q_family).df()))
        t_base, _ = timed(lambda: len(con.sql(q_base).df()), repeat=1)
    print(f"family_daily query        {t_fd:.3f} s ({n_fd} rows)   goal <= 1 s")
    print(f"  baseline: the same sums over `snapshots`  {t_base:.3f} s")

    week = jobs.last_complete_week(dt.datetime.combine(START + dt.timedelta(days=args.days), dt.time(), dt.UTC))
    t = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tracker",
            "report",
            "--config",
            str(cfg),
            "--week",
            week,
            "--out",
            str(root / "reports"),
        ],
        capture_output=True,
        text=True,
    )
    t_report = time.perf_counter() - t
    assert out.returncode == 0, out.stderr[-2000:]
    print(f"tracker report {week}     {t_report:.2f} s (a whole command, start-up included)   goal <= 10 s")
    print(f"  wrote {out.stdout.split()}")
    print(f"\nwarehouse kept in {root}" if args.keep else "")


if __name__ == "__main__":
    main()
