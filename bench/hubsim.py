"""Benchmark: how fast the Hub emulator serves a large author listing (prints figures, no thresholds).

    python bench/hubsim.py [--models 200000] [--author-models 20000] [--seed 0]

Builds a world of --models models in which Qwen has --author-models official models, serves it on
127.0.0.1, lists Qwen in full with the real huggingface_hub client (default items, then with an
expand set a collector would use), and prints models/s next to an in-process baseline that builds and
JSON-encodes the very same pages without HTTP or the client.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from urllib.parse import urlsplit

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from huggingface_hub import HfApi

from tracker.hub import LISTING_EXPAND
from tracker.hubsim import HubSim, World
from tracker.hubsim.catalog import DEFAULT_OFFICIAL
from tracker.hubsim.listing import listing
from tracker.hubsim.testing import quiet_client

EXPAND = list(LISTING_EXPAND)  # what the collector asks a listing for


def in_process(hub: HubSim, query: str) -> tuple[int, float, float]:
    """Build + encode every page of a listing in-process (no sockets, no client); then time the client's
    own share: json.loads + ModelInfo(**item) on the same bodies."""
    import json
    from urllib.parse import parse_qsl

    from huggingface_hub.hf_api import ModelInfo

    bodies = []
    t0 = time.perf_counter()
    n, url = 0, f"{hub.endpoint}/api/models?{query}"
    while url:
        parts = urlsplit(url)
        q: dict = {}
        for k, v in parse_qsl(parts.query, keep_blank_values=True):
            q.setdefault(k, []).append(v)
        resp = listing(hub, parts, q)
        bodies.append(resp.body)
        n += resp.body.count(b'"modelId"') if "expand" not in query else resp.body.count(b'{"_id"')
        link = dict(resp.headers).get("Link")
        url = link[1 : link.index(">")] if link else None
    server = time.perf_counter() - t0
    t0 = time.perf_counter()
    for body in bodies:
        for item in json.loads(body):
            item.setdefault("siblings", None)
            ModelInfo(**item)
    return n, server, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=200_000)
    ap.add_argument("--author-models", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    quiet_client()

    t0 = time.perf_counter()
    world = World(seed=args.seed, models=args.models, official={**DEFAULT_OFFICIAL, "Qwen": args.author_models})
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    world.state()
    state = time.perf_counter() - t0
    visible = int(world.state().vis.sum())
    print(
        f"world: {world.N:,} models ({visible:,} visible at {world.now:%Y-%m-%d}), "
        f"build {build:.2f} s, per-time state {state * 1000:.0f} ms"
    )

    with HubSim(world, quota_anonymous=10**9) as hub:
        api = HfApi(endpoint=hub.endpoint, token=False)
        rows = []
        for label, kw, query in (
            ("default items", {}, "author=Qwen"),
            ("expand (collector set)", {"expand": EXPAND}, "author=Qwen&" + "&".join(f"expand={e}" for e in EXPAND)),
        ):
            hub.stats.reset()
            t0 = time.perf_counter()
            n = sum(1 for _ in api.list_models(author="Qwen", **kw))
            http = time.perf_counter() - t0
            pages = hub.stats.total
            hub.listings.clear()
            n2, base, client = in_process(hub, query)
            assert n2 == n, (n, n2)
            rows.append((label, n, pages, http, base, client))
        print("listing author=Qwen, all pages. Columns: end to end over HTTP with the real client; the emulator")
        print("alone (build + JSON-encode the same pages in-process); the client alone (json.loads + ModelInfo).")
        print(f"{'':<24}{'models':>7}{'pages':>6}{'HTTP+client':>13}{'emulator only':>16}{'client only':>15}")
        for label, n, pages, http, base, client in rows:
            print(f"{label:<24}{n:>7,}{pages:>6}{n / http:>10,.0f}/s{n / base:>13,.0f}/s{n / client:>12,.0f}/s")
        print("(HTTP+client runs the emulator and the client on the same 2 cores at once)")
        t0 = time.perf_counter()
        ids = [m.id for m in api.list_models(author="Qwen", limit=200)]
        for mid in ids:
            api.model_info(mid, expand=["downloadsAllTime", "childrenModelCount", "baseModels"])
        dt = time.perf_counter() - t0
        print(f"model_info x{len(ids)} (one request each): {len(ids) / dt:,.0f} calls/s")


if __name__ == "__main__":
    main()
