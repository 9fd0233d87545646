"""Benchmark: `tracker collect` against the bare huggingface_hub listing of the same pages.

A 100,000-model world (5 families of 20,000 official models) is served by the emulator on 127.0.0.1.
In the same run we time (a) the bare client: list_models over every family with the same expand and
sort, materialised into a list, and (b) a full `tracker collect` (listing, validation, Parquet
files, views), and print the ratio and the requests each made. Run:

    python bench/collect.py [--models-per-family 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml
from huggingface_hub import HfApi

from tracker import config, jobs
from tracker.hub import LISTING_EXPAND
from tracker.hubsim import HubSim, World

ORGS = ["meta-llama", "Qwen", "deepseek-ai", "mistralai", "xai-org"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models-per-family", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = args.models_per_family
    t0 = time.perf_counter()
    world = World(seed=1, models=len(ORGS) * n, official=dict.fromkeys(ORGS, n), now="2026-08-17T06:00:00Z")
    print(f"world: {len(world.snapshot())} models visible, built in {time.perf_counter() - t0:.1f} s")
    lower_bound = sum(max(1, math.ceil(n / 1000)) for _ in ORGS)
    with HubSim(world) as hub, tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.yaml"
        cfg.write_text(
            yaml.safe_dump(
                {
                    "warehouse": str(Path(tmp) / "warehouse"),
                    "hub": {"endpoint": hub.endpoint},
                    "families": [{"name": o.lower().replace("-", ""), "authors": [o], "region": "us"} for o in ORGS],
                }
            )
        )
        settings = config.load(cfg)
        api = HfApi(endpoint=hub.endpoint, token=False)
        bare_t, coll_t = [], []
        for i in range(args.repeat):
            hub.stats.reset()
            t = time.perf_counter()
            got = [m for o in ORGS for m in api.list_models(author=o, sort="created_at", expand=list(LISTING_EXPAND))]
            bare_t.append(time.perf_counter() - t)
            bare_requests = len(hub.stats.requests)
            hub.stats.reset()
            t = time.perf_counter()
            run = jobs.collect(settings, now=world.now + dt.timedelta(minutes=i), show_progress=False)
            coll_t.append(time.perf_counter() - t)
            assert run["status"] == "ok" and run["models"] == len(got), (run, len(got))
            print(
                f"  round {i + 1}: bare {bare_t[-1]:.2f} s ({bare_requests} requests), "
                f"collect {coll_t[-1]:.2f} s ({run['requests']} requests, {run['models']} models)"
            )
    b, c = statistics.median(bare_t), statistics.median(coll_t)
    print(f"models per collect        {run['models']}")
    print(f"bare list_models (median) {b:.2f} s   {run['models'] / b:,.0f} models/s")
    print(f"tracker collect (median)  {c:.2f} s   {run['models'] / c:,.0f} models/s")
    print(f"ratio collect / bare      {c / b:.2f}x   (goal <= 1.25x)")
    print(f"requests per collect      {run['requests']}   (lower bound {lower_bound})")


if __name__ == "__main__":
    main()
