"""`tracker tree` against the emulated Hub: counts equal the world's truth, within the quota, resumable."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import shutil
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import write_config
from tracker import config, jobs
from tracker.hubsim import HubSim, World
from tracker.warehouse import Warehouse

REL = {"finetune": "finetunes", "adapter": "adapters", "quantized": "quantizations", "merge": "merges"}
FAMILIES = [
    {"name": "llama", "label": "Meta Llama", "authors": ["meta-llama"], "region": "us"},
    {"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"},
]


def truth_per_family(world: World, fams=FAMILIES, members=None) -> pd.DataFrame:
    """Sum of the direct children per relation over each family's official models, from the world."""
    snap = world.snapshot()
    kids = world.children_counts().set_index("model_id")
    out = {}
    for f in fams:
        ids = members[f["name"]] if members else snap[snap.author.isin(f["authors"])].id
        k = kids.reindex(list(ids)).fillna(0)
        out[f["name"]] = {REL[r]: int(k[r].sum()) for r in REL}
        out[f["name"]]["derivatives"] = sum(out[f["name"]].values())
    return pd.DataFrame(out).T


pytestmark = pytest.mark.slow  # every test runs real tree jobs over HTTP (quota waits, retries)


# 150 official models (a tree run asks for each): enough for derivatives of every relation
WORLD = {"seed": 21, "models": 1500, "official": {"meta-llama": 30, "Qwen": 120}, "now": "2026-08-10T06:00:00Z"}


@pytest.fixture
def world():
    """The test's own world (one test deletes a model); every one is the same world (World's seed)."""
    return World(**WORLD)


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """The warehouse of one collect of FAMILIES in WORLD on its day, made once: the tests whose tree runs
    start from that collect start from a copy of it (`setup`), for a copy's cost rather than a collect's."""
    world = World(**WORLD)
    tmp = tmp_path_factory.mktemp("collected")
    with HubSim(world) as hub:
        s = setup(tmp, hub, world)
    return s.warehouse


def setup(tmp_path, hub, world, fams=FAMILIES, collected: Path | None = None, **hubopts):
    """The collect a tree run reads its official models from (the trend tables are not read here), or a
    copy of `collected` when given (the same collect: FAMILIES in a WORLD world)."""
    s = config.load(write_config(tmp_path, hub.endpoint, fams, **hubopts))
    if collected is not None:
        shutil.copytree(collected, s.warehouse)
        return s
    run = jobs.collect(s, now=world.now, show_progress=False, refresh_trends=False)
    assert run["status"] == "ok"
    return s


def run_tree(s, now: dt.datetime) -> dict:
    """A tree run; what these tests read (family_daily, tree, ecosystem) are served tables, not the trend
    tables it would refresh after (test_derivative_counts_equal_the_truth keeps that refresh)."""
    return jobs.tree(s, now=now, show_progress=False, refresh_trends=False)


def got_per_family(s) -> pd.DataFrame:
    fd = Warehouse(s.warehouse).query(
        "select family, derivatives, finetunes, adapters, quantizations, merges from family_daily"
    )
    return fd.set_index("family").astype(int)


def assert_counts(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert sorted(got.index) == sorted(want.index)
    for fam in want.index:
        for col in want.columns:
            assert got.loc[fam, col] == want.loc[fam, col], (fam, col, got.loc[fam, col], want.loc[fam, col])


def info_requests(hub) -> int:
    return sum(1 for r in hub.stats.requests if r["route"] == "info")


def test_derivative_counts_equal_the_truth(tmp_path, world, collected):
    with HubSim(world) as hub:
        s = setup(tmp_path, hub, world, collected=collected)
        hub.stats.reset()
        run = jobs.tree(s, now=world.now, show_progress=False)  # the default path: trend tables refreshed too
        n_official = len(Warehouse(s.warehouse).query("select * from snapshots"))
        assert run["status"] == "ok" and run["models"] == n_official
        assert info_requests(hub) == n_official == run["requests"]
        want = truth_per_family(world)
        assert_counts(got_per_family(s), want)
        assert want.loc["qwen", "derivatives"] > 0 and want.loc["llama", "derivatives"] > 0
        # per model too
        tree = Warehouse(s.warehouse).query("select * from tree").set_index("model_id")
        kids = world.children_counts().set_index("model_id")
        for mid in tree.index[:30]:
            k = kids.loc[mid] if mid in kids.index else pd.Series(0, index=list(REL))
            assert [tree.loc[mid, REL[r]] for r in REL] == [int(k[r]) for r in REL], mid
        # a second run the same day has nothing left to fetch
        hub.stats.reset()
        again = run_tree(s, world.now + dt.timedelta(minutes=5))
        assert again["status"] == "ok" and again["models"] == 0 and info_requests(hub) == 0


@pytest.mark.trial
def test_paced_by_the_quota_without_a_single_429(tmp_path):
    # the Hub announces the reset in whole seconds (RateLimit t=), so each spent window costs about a
    # second whatever its length: 15 models at 10 a window are two windows, one wait
    q, w = 10, 1.0
    world = World(seed=4, models=2000, official={"Qwen": 15}, now="2026-08-10")
    fams = [{"name": "qwen", "authors": ["Qwen"], "region": "china"}]
    with HubSim(world) as hub:
        s = setup(tmp_path, hub, world, fams)
        n = len(Warehouse(s.warehouse).query("select * from snapshots"))
        assert n > q
        hub.set_quota(anonymous=q, window_s=w)
        hub.stats.reset()
        run = run_tree(s, world.now)
        assert run["status"] == "ok", run["error"]
        statuses = [r["status"] for r in hub.stats.requests]
        assert statuses.count(429) == 0 and run["rate_limited"] == 0
        assert info_requests(hub) == n == run["requests"]
        # it waited for the window instead of drawing 429s; how close it runs to the quota's bound is
        # bench/tree.py's figure (no timing thresholds in tests)
        assert run["quota_wait_s"] > 0
    assert got_per_family(s).loc["qwen", "derivatives"] == truth_per_family(world, fams).loc["qwen", "derivatives"]


@pytest.mark.trial
def test_injected_429s_and_503s_are_retried(tmp_path, world, collected):
    with HubSim(world) as hub:
        # the 5xx and the bare 429 wait 0.05, 0.1 s (not 0.5, 1 s)
        s = setup(tmp_path, hub, world, collected=collected, retry_wait_s=0.05)
        # t=0: huggingface_hub still waits (t + 1 s) and retries; the retry path is the same as for t=1
        hub.faults.add("429=ratelimit,t=0,route=info,nth=3,times=2")
        hub.faults.add("429=retry-after,t=0,route=info,nth=20,times=1")
        hub.faults.add("429=bare,route=info,nth=30,times=1")
        hub.faults.add("status=503,route=info,prob=0.03")
        hub.faults.add("status=500,route=info,nth=40,times=2")
        run = run_tree(s, world.now)
        assert run["status"] == "ok", run["error"]
        assert run["retries"] >= 6
        assert_counts(got_per_family(s), truth_per_family(world))


def test_a_model_deleted_after_the_collect_is_gone_not_zero(tmp_path, world, collected):
    with HubSim(world) as hub:
        s = setup(tmp_path, hub, world, collected=collected)
        members = Warehouse(s.warehouse).latest_members(["qwen", "llama"])
        kids = world.children_counts().set_index("model_id")
        victim = max(members["qwen"], key=lambda m: kids.loc[m, list(REL)].sum() if m in kids.index else 0)
        world.delete(victim, at=world.now)
        run = run_tree(s, world.now)
        assert run["status"] == "ok"
        row = Warehouse(s.warehouse).query("select * from tree where model_id = $m", {"m": victim}).iloc[0]
        assert row.status == "gone" and pd.isna(row.derivatives) and pd.isna(row.finetunes)
        alive = {f: [m for m in ids if m != victim] for f, ids in members.items()}
        assert_counts(got_per_family(s), truth_per_family(world, members=alive))


def _tree_in_child(path: str, now: str) -> None:
    """A forked child running one tree job, as `tracker tree` does."""
    import logging

    logging.disable(logging.CRITICAL)
    jobs.tree(config.load(path), now=dt.datetime.fromisoformat(now), show_progress=False)
    os._exit(0)


@pytest.mark.trial
def test_killed_run_resumes_with_only_the_missing_models(tmp_path):
    # more official models (230) than a chunk (200 rows): the kill comes once the first chunk is stored
    world = World(seed=21, models=2000, official={"meta-llama": 60, "Qwen": 180}, now="2026-08-10T06:00:00Z")
    with HubSim(world) as hub:
        path = write_config(tmp_path, hub.endpoint, FAMILIES, concurrency=2)
        s = setup(tmp_path, hub, world, concurrency=2)
        n = len(Warehouse(s.warehouse).query("select * from snapshots"))
        # the first 200 model_info calls answered (a chunk's 200 rows, stored once the 200th has come), then
        # every one held unanswered: the child cannot finish, and the kill needs no race against its speed
        assert n > 200
        hub.faults.add("hang,route=info,nth=201")
        child = multiprocessing.get_context("fork").Process(
            target=_tree_in_child, args=(str(path), world.now.isoformat())
        )
        child.start()
        wh = Warehouse(s.warehouse)
        deadline = time.monotonic() + 60
        chunks = s.warehouse / "tree_parts" / world.now.date().isoformat()  # written atomically, one a chunk
        while not list(chunks.glob("*.parquet")) and time.monotonic() < deadline:  # its first chunk is stored
            assert child.exitcode is None, "the tree run ended before it could be killed"
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        kept = len(wh.tree_fetched(world.now.date()))
        assert 0 < kept < n
        # nothing of the interrupted run looks complete
        assert wh.query("select count(*) c from tree").c[0] == 0
        assert wh.query("select count(*) c from family_daily where derivatives is not null").c[0] == 0
        hub.faults.clear()
        hub.stats.reset()
        run = run_tree(s, world.now)
        assert run["status"] == "ok" and run["models"] == n - kept == info_requests(hub)
        assert_counts(got_per_family(s), truth_per_family(world))


@pytest.mark.trial
def test_ecosystem_lists_the_children_of_the_top_models(tmp_path, world, collected):
    fams = [{**FAMILIES[1], "ecosystem": True, "ecosystem_top": 3}]
    with HubSim(world) as hub:
        s = setup(tmp_path, hub, world, fams, collected=collected)  # the collect of qwen (and llama)
        hub.stats.reset()
        run = run_tree(s, world.now)
        assert run["status"] == "ok"
        snap = world.snapshot()
        kids = world.children_counts().set_index("model_id")
        official = list(snap[snap.author == "Qwen"].id)
        total = {m: int(kids.loc[m, list(REL)].sum()) if m in kids.index else 0 for m in official}
        top = sorted((m for m in official if total[m] > 0), key=lambda m: (-total[m], m))[:3]
        children = snap[snap.base_models.map(lambda ps: any(p in top for p in ps))]
        eco = Warehouse(s.warehouse).query("select * from ecosystem")
        assert set(eco.base_model_id) == set(top)
        assert set(eco.model_id) == set(children.id)
        for parent in top:
            mine = children[children.base_models.map(lambda ps, p=parent: p in ps)]
            got = eco[eco.base_model_id == parent]
            assert sorted(got.model_id) == sorted(mine.id)
            assert dict(zip(got.model_id, got.relation, strict=True)) == dict(
                zip(mine.id, mine.base_relation, strict=True)
            )
        fd = Warehouse(s.warehouse).query("select ecosystem_downloads_30d from family_daily where family = 'qwen'")
        assert fd.ecosystem_downloads_30d[0] == int(children.downloads.sum())
        listing_pages = sum(1 for r in hub.stats.requests if r["route"] == "listing")
        import math

        assert listing_pages == sum(max(1, math.ceil(total[p] / 1000)) for p in top)
        assert info_requests(hub) == len(official)


def test_an_unreachable_hub_stops_the_run_quickly_with_a_clear_error(tmp_path, world, collected):
    with HubSim(world) as hub:
        s = setup(tmp_path, hub, world, collected=collected, retry_wait_s=0.05)
    # the emulator is gone: nothing listens on its port any more
    run = run_tree(s, world.now)
    assert run["status"] == "failed" and run["models"] == 0
    # quickly: each model asked twice, not the 6 times of every retry (15.5 s of waits a model at the default
    # 0.5 ... 8 s): 10 models failed in a row at 6 tries each would be 60 requests at least; at 2 each, the 10
    # and the few the workers took meanwhile stay below it (a bound of 10 + concurrency models was
    # crossed once: workers finish models faster than the run counts them at 0.05 s waits)
    assert run["requests"] < 6 * 10, run["requests"]
    assert "stopped after 10 models failed in a row" in run["error"] and "cannot reach the Hub" in run["error"]


@pytest.mark.trial
def test_a_family_with_no_model_is_complete_and_one_never_collected_is_owed(tmp_path):
    world = World(seed=2, models=600, official={"Qwen": 30}, now="2026-08-10T06:00:00Z")
    fams = [
        {"name": "qwen", "authors": ["Qwen"], "region": "china"},
        {"name": "ghost", "authors": ["nobody-here"], "region": "us"},
    ]
    with HubSim(world) as hub:
        s = setup(tmp_path, hub, world, fams)
        run = run_tree(s, world.now)
        assert run["status"] == "ok" and run["families_ok"] == 2, run["error"]
        # a family added to the config after the last collect has no official models yet: owed
        s2 = config.load(
            write_config(tmp_path, hub.endpoint, [*fams, {"name": "new", "authors": ["x"], "region": "us"}])
        )
        run = run_tree(s2, world.now)
        assert run["status"] == "partial" and "no snapshot yet for new" in run["error"]
