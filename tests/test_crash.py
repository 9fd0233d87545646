"""kill -9 at random moments of a collect: never a partial family, never an `ok` run without its rows."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys

import pytest

from tests.conftest import write_config
from tracker import config, jobs
from tracker.hubsim import HubSim, World
from tracker.warehouse import Warehouse

FAMILIES = [
    {"name": "llama", "label": "Meta Llama", "authors": ["meta-llama"], "region": "us"},
    {"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"},
]
TRIALS = 20
pytestmark = pytest.mark.slow  # 20 kill -9 trials and a collect in a fresh process


def check_consistent(wh: Warehouse) -> tuple[int, int]:
    """Every visible run is whole: each family it stored has exactly its rows. Returns (ok runs, rows)."""
    runs = wh.query("select * from runs")
    fams = wh.query(
        """
        select f.run_id, f.family, f.models, (select count(*) from snapshots s
               where s.run_id = f.run_id and s.family = f.family) as rows
        from read_parquet($g, union_by_name = true) f""",
        {"g": str(wh.root / "family_snapshots/*/*.parquet")},
    )
    visible = fams[fams.run_id.isin(runs.run_id)]
    assert (visible["rows"] == visible["models"]).all(), visible[visible["rows"] != visible["models"]]
    for r in runs.itertuples():
        mine = visible[visible.run_id == r.run_id]
        if r.status == "ok":
            assert sorted(mine.family) == ["llama", "qwen"], r
            assert int(mine.models.sum()) == r.models
    # rows of runs that never finished exist on disk perhaps, but are never visible
    n = wh.query("select count(*) n from snapshots").n[0]
    assert n == int(visible.models.sum())
    return int((runs.status == "ok").sum()), int(n)


def _collect_in_child(path: str) -> None:
    """The body of a forked child: one collect, as `tracker collect` runs it, then exit 0."""
    import logging

    logging.disable(logging.CRITICAL)
    jobs.collect(config.load(path), show_progress=False)
    os._exit(0)


def test_kill_9_never_leaves_partial_data(tmp_path):
    w = World(seed=5, models=3000, now="2026-08-10T06:00:00Z")
    rng = random.Random(20261126)
    # Children are forked from this process (libraries already imported), so that every kill lands
    # somewhere in the collect itself rather than in the interpreter's start-up.
    fork = multiprocessing.get_context("fork")
    with HubSim(w) as hub:
        hub.faults.add("delay=0.05,route=listing")
        path = write_config(tmp_path, hub.endpoint, FAMILIES, page_size=100)
        wh = Warehouse(config.load(path).warehouse)
        wh.ensure()
        finished = killed = ok_before = 0
        for _ in range(TRIALS):
            proc = fork.Process(target=_collect_in_child, args=(str(path),))
            proc.start()
            proc.join(timeout=rng.uniform(0.05, 0.5))
            if proc.exitcode is None:
                os.kill(proc.pid, signal.SIGKILL)
                killed += 1
            proc.join()
            rc = proc.exitcode
            finished += rc == 0
            ok_runs, _rows = check_consistent(wh)
            # a run killed after its record was written (before exiting) is complete, and counts
            assert ok_runs - ok_before in ((1,) if rc == 0 else (0, 1))
            ok_before = ok_runs
        assert killed >= 5, "the kill window missed the collect; widen it"
        # and a collect after all that succeeds (the real command, in a fresh process)
        env = {**os.environ, "TRACKER_LOG_LEVEL": "WARNING"}
        assert (
            subprocess.run(
                [sys.executable, "-m", "tracker", "collect", "--config", str(path)], env=env, capture_output=True
            ).returncode
            == 0
        )
        assert check_consistent(wh)[0] == ok_before + 1 >= finished + 1
