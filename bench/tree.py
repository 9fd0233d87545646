"""Benchmark: `tracker tree` against the Hub's rate limit, with a naive loop as the baseline.

A world of 1,000 official models (one family) is served by the emulator with the anonymous quota
(500 requests per window) and the window scaled down in time (300 s -> --window seconds, default 3),
so the ratio of requests to quota is the live one. In the same run it times
  (a) a naive baseline: model_info for each model in a loop, on 429 sleeping what the RateLimit header
      says (as huggingface_hub's own listing retries do), and
  (b) `tracker tree`, paced by the RateLimit headers,
and prints requests, 429s and the duration against the quota-bound lower bound (requests / quota x window).

    python bench/tree.py [--models 1000] [--quota 500] [--window 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import parse_ratelimit_headers

from tracker import config, jobs
from tracker.hubsim import HubSim, World
from tracker.warehouse import Warehouse


def naive(endpoint: str, ids: list[str]) -> tuple[float, int]:
    # tracker.hub installs a pacing client factory process-wide; the baseline gets the client's default
    from tracker.hubsim.testing import stock_client

    with stock_client():
        return _naive(endpoint, ids)


def _naive(endpoint: str, ids: list[str]) -> tuple[float, int]:
    api = HfApi(endpoint=endpoint, token=False)
    t0, n429 = time.perf_counter(), 0
    for mid in ids:
        while True:
            try:
                api.model_info(mid, expand=["childrenModelCount", "baseModels"])
                break
            except HfHubHTTPError as exc:
                if exc.response is None or exc.response.status_code != 429:
                    raise
                n429 += 1
                info = parse_ratelimit_headers(exc.response.headers)
                time.sleep((info.reset_in_seconds if info else 1) + 1)
    return time.perf_counter() - t0, n429


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--quota", type=int, default=500)
    ap.add_argument("--window", type=float, default=3.0)
    ap.add_argument("--concurrency", type=int, default=4)
    args = ap.parse_args()
    world = World(seed=2, models=args.models * 3, official={"Qwen": args.models}, now="2026-08-17T06:00:00Z")
    with HubSim(world) as hub, tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.yaml"
        cfg.write_text(
            yaml.safe_dump(
                {
                    "warehouse": str(Path(tmp) / "warehouse"),
                    "hub": {"endpoint": hub.endpoint, "concurrency": args.concurrency},
                    "families": [{"name": "qwen", "authors": ["Qwen"], "region": "china"}],
                }
            )
        )
        s = config.load(cfg)
        assert jobs.collect(s, now=world.now, show_progress=False)["status"] == "ok"
        ids = Warehouse(s.warehouse).latest_members(["qwen"])["qwen"]
        n = len(ids)
        bound = n / args.quota * args.window
        print(
            f"{n} official models; quota {args.quota} requests per {args.window:g} s window "
            f"(the anonymous 500/300 s, time scaled by {300 / args.window:g}x)"
        )
        print(f"quota-bound lower bound: {n} / {args.quota} x {args.window:g} s = {bound:.2f} s\n")

        hub.set_quota(anonymous=args.quota, window_s=args.window)
        hub.stats.reset()
        took, n429 = naive(hub.endpoint, ids)
        print(
            f"naive loop       {took:7.2f} s  ({took / bound:.2f}x bound)  requests {len(hub.stats.requests):5d}  "
            f"429s {n429}"
        )

        hub.set_quota(anonymous=args.quota, window_s=args.window)
        hub.stats.reset()
        t0 = time.perf_counter()
        run = jobs.tree(s, now=world.now, show_progress=False)
        took = time.perf_counter() - t0
        got429 = sum(1 for r in hub.stats.requests if r["status"] == 429)
        print(
            f"tracker tree     {took:7.2f} s  ({took / bound:.2f}x bound)  requests {run['requests']:5d}  "
            f"429s {got429}  (waited {run['quota_wait_s']:.2f} s for quota; status {run['status']})"
        )


if __name__ == "__main__":
    main()
