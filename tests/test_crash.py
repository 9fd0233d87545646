"""kill -9 at each step of a collect's publish: never a partial family, never an `ok` run without its rows."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import huggingface_hub
import pytest

from tests import forked
from tests.conftest import write_config
from tracker import config, jobs
from tracker.hubsim import HubSim, World
from tracker.warehouse import Warehouse

FAMILIES = [
    {"name": "llama", "label": "Meta Llama", "authors": ["meta-llama"], "region": "us"},
    {"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"},
]
# Where a collect is killed: around the renames that put its files in place, in the order it makes
# them ((when, the dataset folder the file goes to)), and whether its run is visible (ok) after.
# "before": the file is written and fsynced under its temporary name; "after": it is in place.
KILL_POINTS = [
    (("before", "snapshots"), False),  # the first file of the run (no model is new), not yet in place
    (("after", "snapshots"), False),  # the rows in place, no family rows, no run record
    (("after", "family_snapshots"), False),  # rows and family rows in place, no run record
    (("before", "runs"), False),  # the run record written, not yet in place
    (("after", "runs"), True),  # the run visible; the served tables not yet rewritten
    (("after", "serving"), True),  # one served table rewritten, the others not
]  # (a kill in the trend refresh after it leaves the same: the run visible and whole; the final collect redoes it)
pytestmark = pytest.mark.slow  # a kill -9 at each step of a collect, and a collect in a fresh process


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


def _collect_in_child(path: str, point: tuple[str, str] | None) -> None:
    """The body of a forked child: one collect, as `tracker collect` runs it, then exit 0. With a
    `point`, the child kills itself with SIGKILL there: just before or just after the first rename
    of a file into that dataset's folder (the instant is exact, the kill the same as one from outside)."""
    import logging

    logging.disable(logging.CRITICAL)
    if point is not None:
        when, dataset = point
        rename = os.replace
        # the served tables are also rewritten before the run starts, when a killed run left them
        # stale: those of this run are the ones after its run record
        armed = [dataset != "serving"]

        def replace(src, dst, *args, **kwargs):
            folders = {os.path.basename(os.path.dirname(dst)), os.path.basename(os.path.dirname(os.path.dirname(dst)))}
            hit = armed[0] and dataset in folders
            if hit and when == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            rename(src, dst, *args, **kwargs)
            if hit:
                os.kill(os.getpid(), signal.SIGKILL)
            armed[0] = armed[0] or "runs" in folders

        os.replace = replace
    jobs.collect(config.load(path), show_progress=False)
    os._exit(0)


@pytest.mark.trial
def test_kill_9_never_leaves_partial_data(tmp_path):
    w = World(seed=5, models=1000, official={"meta-llama": 20, "Qwen": 80}, now="2026-08-10T06:00:00Z")
    # Children are forked from this process (libraries already imported, by a first collect here), so
    # that every kill lands somewhere in the collect itself rather than in the interpreter's start-up.
    fork = multiprocessing.get_context("fork")
    with HubSim(w) as hub:
        path = write_config(tmp_path, hub.endpoint, FAMILIES, page_size=25)  # four listing pages: 20 + 75 models
        wh = Warehouse(config.load(path).warehouse)
        assert jobs.collect(config.load(path), show_progress=False, refresh_trends=False)["status"] == "ok"
        huggingface_hub.close_session()  # no connection of this process is shared with the children
        ok_before = check_consistent(wh)[0]
        assert ok_before == 1

        # from outside, in the middle of the listing (four pages, each 0.05 s late)
        hub.faults.add("delay=0.05,route=listing")
        hub.stats.reset()
        proc = fork.Process(target=_collect_in_child, args=(str(path), None))
        proc.start()
        deadline = time.monotonic() + 60
        while len(hub.stats.of(route="listing")) < 2 and proc.exitcode is None and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        assert proc.exitcode == -signal.SIGKILL
        assert check_consistent(wh)[0] == ok_before
        hub.faults.clear()

        # at each step of the publish
        for point, visible in KILL_POINTS:
            proc = fork.Process(target=_collect_in_child, args=(str(path), point))
            proc.start()
            proc.join(60)
            assert proc.exitcode == -signal.SIGKILL, (point, proc.exitcode)  # it got there and died there
            ok_runs, _rows = check_consistent(wh)
            assert ok_runs - ok_before == visible, point
            ok_before = ok_runs

        # and a collect after all that succeeds (the real command, in a fresh process: forked, so that
        # it starts with none of this process's warehouse state, without an interpreter's start-up)
        code, output = forked.run_command(["collect", "--config", str(path)])
        assert code == 0, output
        assert check_consistent(wh)[0] == ok_before + 1
