"""`tracker collect` end to end against the emulated Hub (real client, real DuckDB, real files)."""

from __future__ import annotations

import datetime as dt
import math
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from tests.conftest import family_truth, write_config
from tracker import config, demo, jobs
from tracker.cli import cli
from tracker.hubsim import HubSim, World
from tracker.hubsim.testing import reset_hub
from tracker.warehouse import Warehouse

# the demo's Llama, Qwen and Gemma (a family found by search), and one with an exclude rule
FAMILIES = [
    *demo.families("llama", "qwen", "gemma"),
    {
        "name": "smollm",
        "label": "HF SmolLM",
        "authors": ["HuggingFaceTB"],
        "region": "us",
        "search": "smollm",
        "include": "(?i)smollm",
        "exclude": "(?i)instruct",
    },
]


@pytest.fixture(scope="module")
def world():
    return World(seed=11, models=6000, now="2026-08-10T06:00:00Z")


@pytest.fixture(scope="module")
def _hub(world):
    with HubSim(world) as h:
        yield h


@pytest.fixture
def hub(_hub):
    """The module's hub made fresh for each test (no faults, an empty request log, a new rate-limit
    window of 500 requests, HubSim's anonymous default)."""
    return reset_hub(_hub, quota=500)


# a failing family's retries: first waits 0.05, 0.1, 0.2, 0.4, 0.8 s (hub.retry_wait_s; the default is 0.5, 1, 2,
# 4 s). With the 1.2 s budget a permanent fault is cut by the budget (all five waits, 1.55 s, never fit in it: at
# most 5 tries) after at least 3 tries (the first two waits take 0.15 s: 1 s is left for the requests, a loaded
# machine included), where the default waits (0.5 + 1 s) leave room for 2: `retried_then_cut` tells both by counts
RETRY_FAST = {"timeout_s": 0.5, "budget_s": 1.2, "retry_wait_s": 0.05}


def retried_then_cut(run, tries: int) -> None:
    """A permanent fault under RETRY_FAST: `tries` tries (3 to 5: retried on hub.retry_wait_s's schedule), then
    cut by the budget (the run's error says so), not by the end of the 5 retries."""
    assert "past the time budget hub.budget_s" in run["error"], run["error"]
    assert 3 <= tries <= 5, tries


def settings_for(tmp_path, hub, families=FAMILIES, **hubopts):
    return config.load(write_config(tmp_path, hub.endpoint, families, **hubopts))


def _collect(s, **kw):
    """A collect without the trend refresh: these tests read the snapshots, family_daily, runs and the
    quarantine, none of the derived trend tables (`collected` runs the whole job, and
    tests/test_faults.py::test_trend_tables_are_never_older_than_the_runs tests what a skipped refresh leaves)."""
    return jobs.collect(s, show_progress=False, refresh_trends=False, **kw)


@pytest.fixture(scope="module")
def collected(tmp_path_factory, world):
    """One whole collect (trends included) of every family, shared by the tests that only read its
    warehouse (the views, `tracker sql`, `tracker status`, the duckdb CLI): none of them may change it."""
    tmp = tmp_path_factory.mktemp("collected")
    with HubSim(world) as hub:
        path = write_config(tmp, hub.endpoint, FAMILIES)
        s = config.load(path)
        run = jobs.collect(s, now=world.now, show_progress=False)
    return path, s, run


def day_one(collected, tmp_path) -> None:
    """Put a copy of `collected` (every family collected on the world's day) where `settings_for(tmp_path, ...)`
    looks for the warehouse: a first day's collect for a copy's cost."""
    shutil.copytree(collected[1].warehouse, tmp_path / "warehouse")


def listing_requests(hub) -> int:
    return sum(1 for r in hub.stats.requests if r["route"] == "listing")


@pytest.mark.slow
def test_family_daily_equals_world_truth(world, collected):
    _path, s, run = collected
    assert run["status"] == "ok" and run["families_failed"] == 0
    got = Warehouse(s.warehouse).query("select * from family_daily order by family").set_index("family")
    truth = world.snapshot()
    assert set(got.index) == {f["name"] for f in FAMILIES}
    for fam in FAMILIES:
        want = family_truth(truth, fam)
        row = got.loc[fam["name"]]
        assert row["models"] == want["models"] > 0, fam["name"]
        for col in ("downloads_30d", "downloads_all_time", "likes"):
            assert (None if pd.isna(row[col]) else int(row[col])) == want[col], (fam["name"], col)
        assert row["label"] == fam["label"] and row["region"] == fam["region"]
        assert row["day"].date() == world.now.date()
    # the snapshot rows of one model match the truth field by field
    snap = Warehouse(s.warehouse).query("select * from snapshots where family = 'qwen'")
    t = truth.set_index("id")
    for r in snap.head(20).itertuples():
        m = t.loc[r.model_id]
        assert (r.downloads_30d, r.downloads_all_time, r.likes) == (m.downloads, m.downloads_all_time, m.likes)
        assert r.created_at == pd.Timestamp(m.created_at)
    assert run["models"] == len(Warehouse(s.warehouse).query("select * from snapshots"))


@pytest.mark.slow
def test_requests_equal_the_lower_bound(tmp_path):
    # the page edges (0, 1, a page less one, a page, a page and one) and an org of three pages, at pages of 10
    # (the Hub's 1000 would take 5000 models to show the same edges)
    page = 10
    sizes = {"org-zero": 0, "org-one": 1, "org-9": 9, "org-10": 10, "org-11": 11, "org-21": 21}
    w = World(seed=3, models=400, official=sizes, now="2026-08-10")
    fams = [{"name": f"f{n}", "authors": [org], "region": "us"} for org, n in sizes.items()]
    with HubSim(w) as hub:
        s = settings_for(tmp_path, hub, fams, page_size=page)
        run = _collect(s, now=w.now)
        per_author = pd.Series([r.get("author") for r in hub.stats.requests if r["route"] == "listing"]).value_counts()
    assert run["status"] == "ok"
    for org, n in sizes.items():
        assert per_author.get(org, 0) == max(1, math.ceil(n / page)), org
    assert run["requests"] == sum(max(1, math.ceil(n / page)) for n in sizes.values()) == 9
    got = Warehouse(s.warehouse).query("select family, models from family_daily").set_index("family")["models"]
    assert {k: int(v) for k, v in got.items()} == {f"f{n}": n for n in sizes.values()}


@pytest.mark.slow
def test_collecting_twice_a_day_uses_the_last_snapshot(tmp_path, world, hub, collected):
    day_one(collected, tmp_path)  # the day's first collect, of every family
    s = settings_for(tmp_path, hub, FAMILIES[:2])
    later = world.now + dt.timedelta(hours=6)
    world.set_time(later)
    try:
        _collect(s, now=later)  # the second, of two of them
        truth = world.snapshot()
    finally:
        world.set_time(later - dt.timedelta(hours=6))
    fd = Warehouse(s.warehouse).query("select * from family_daily").set_index("family")
    assert sorted(fd.index) == sorted(f["name"] for f in FAMILIES)  # one row a family for the day
    for fam in FAMILIES[:2]:
        assert int(fd.loc[fam["name"], "downloads_all_time"]) == family_truth(truth, fam)["downloads_all_time"]
    runs = Warehouse(s.warehouse).query("select * from runs")
    assert list(runs.status) == ["ok", "ok"]


@pytest.mark.trial
def test_a_failing_family_leaves_nothing_and_the_run_is_partial(tmp_path, world, hub):
    s = settings_for(tmp_path, hub, FAMILIES[:2], page_size=50, **RETRY_FAST)
    hub.faults.add("status", route="listing", author="Qwen", page=2, status=503)  # permanent 5xx on page 2
    run = _collect(s, now=world.now)
    assert run["status"] == "partial" and run["families_ok"] == 1 and run["families_failed"] == 1
    assert "qwen" in run["error"]
    retried_then_cut(run, len(hub.stats.of(route="listing", status=503)))
    wh = Warehouse(s.warehouse)
    assert wh.query("select count(*) n from snapshots where family = 'qwen'").n[0] == 0
    assert list(wh.query("select family from family_daily").family) == ["llama"]
    hub.faults.clear()
    run2 = _collect(s, now=world.now + dt.timedelta(minutes=5))
    assert run2["status"] == "ok"
    assert sorted(wh.query("select family from family_daily").family) == ["llama", "qwen"]


@pytest.mark.trial
@pytest.mark.parametrize(
    "fault, hubopts",
    [
        ({"kind": "truncate"}, RETRY_FAST),
        ({"kind": "html"}, RETRY_FAST),
        # a try waits out the 0.5 s timeout: the 0.8 s budget holds two at most (a hang retried at the default
        # 0.5 ... 8 s without a budget would take 18.5 s)
        ({"kind": "hang"}, {"timeout_s": 0.5, "budget_s": 0.8, "retry_wait_s": 0.05}),
    ],
    ids=["truncate", "html", "hang"],
)
def test_bad_responses_fail_the_family_within_budget(tmp_path, world, hub, fault, hubopts):
    s = settings_for(tmp_path, hub, FAMILIES[1:2], page_size=100, **hubopts)
    hub.faults.add(route="listing", author="Qwen", page=2, **fault)
    run = _collect(s, now=world.now)
    assert run["status"] == "failed" and run["families_failed"] == 1
    tries = len([r for r in hub.stats.requests if r["route"] == "listing" and r["page"] == 2])
    if fault["kind"] != "hang":
        retried_then_cut(run, tries)
    else:  # cut by the budget, not retried for 18.5 s
        assert "past the time budget hub.budget_s" in run["error"] and 1 <= tries <= 2, (run["error"], tries)
    wh = Warehouse(s.warehouse)
    assert wh.query("select count(*) n from snapshots").n[0] == 0
    assert list(wh.query("select status from runs").status) == ["failed"]
    hub.faults.clear()
    assert _collect(s, now=world.now)["status"] == "ok"


@pytest.mark.slow
def test_bad_records_are_quarantined_and_too_many_fail_the_family(tmp_path, world, hub):
    s = settings_for(tmp_path, hub, FAMILIES[:2])
    hub.faults.add("corrupt,field=likes,value=12,items=1,times=1,author=Qwen")  # 1 of ~380: under 1%
    hub.faults.add("corrupt,field=downloads,value=many,items=0,author=meta-llama")  # every llama record
    run = _collect(s, now=world.now)
    wh = Warehouse(s.warehouse)
    assert run["status"] == "partial" and run["families_ok"] == 1
    assert "llama" in run["error"] and "malformed" in run["error"] and "more than 1%" in run["error"]
    q = wh.query("select * from quarantine order by family")
    n_llama = family_truth(world.snapshot(), FAMILIES[0])["models"]
    assert (q.family == "llama").sum() == n_llama
    qwen_bad = q[q.family == "qwen"]
    assert len(qwen_bad) == 1 and qwen_bad.reason.iloc[0] == "likes is str '12', expected a non-negative integer"
    assert '"likes": "12"' in qwen_bad.raw.iloc[0]
    # the good qwen records are all stored, the bad one is not; llama stored nothing
    want = family_truth(world.snapshot(), FAMILIES[1])["models"]
    fd = wh.query("select family, models from family_daily")
    assert list(fd.family) == ["qwen"] and fd.models[0] == want - 1
    assert wh.query("select count(*) n from snapshots where model_id = $m", {"m": qwen_bad.model_id.iloc[0]}).n[0] == 0


@pytest.mark.trial  # a reader subprocess
def test_reader_holding_the_database_sees_the_next_day(tmp_path, world, hub, collected):
    day_one(collected, tmp_path)
    s = settings_for(tmp_path, hub, FAMILIES[:1])
    Warehouse(s.warehouse).ensure()  # repointed here before the reader opens it
    db = str(Warehouse(s.warehouse).db_path)
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb,sys\n"
            f"con = duckdb.connect({db!r}, read_only=True)\n"
            "q = 'select count(distinct day) from family_daily'\n"
            "print(con.execute(q).fetchone()[0], flush=True)\n"
            "sys.stdin.readline()\n"
            "print(con.execute(q).fetchone()[0], flush=True)\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "1"
        tomorrow = world.now + dt.timedelta(days=1)
        world.set_time(tomorrow)
        try:
            run = _collect(s, now=tomorrow)
        finally:
            world.set_time(tomorrow - dt.timedelta(days=1))
        assert run["status"] == "ok"
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "2"
    finally:
        reader.kill()
        reader.wait()


@pytest.mark.slow
def test_duckdb_cli_from_pypi_reads_the_warehouse(collected):
    _path, s, _run = collected
    db = Warehouse(s.warehouse).db_path
    out = subprocess.run(
        ["duckdb", "-readonly", "-csv", str(db), "-c", "select count(*) from snapshots"],
        capture_output=True,
        text=True,
        cwd="/",
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    n = Warehouse(s.warehouse).query("select count(*) n from snapshots").n[0]
    assert out.stdout.split() == ["count_star()", str(n)]


@pytest.mark.slow
def test_moved_warehouse_is_repointed_by_the_next_command(tmp_path, collected):
    _path, s, _run = collected
    here = tmp_path / "warehouse"
    day_one(collected, tmp_path)
    # read where it is first: its views name this folder from then on, not the one it was copied from
    n = Warehouse(here).query("select count(*) n from snapshots").n[0]
    assert n == Warehouse(s.warehouse).query("select count(*) n from snapshots").n[0] > 0
    moved = tmp_path / "elsewhere" / "wh"
    moved.parent.mkdir()
    here.rename(moved)  # nothing is left where the views point
    assert Warehouse(moved).query("select count(*) n from snapshots").n[0] == n


@pytest.mark.slow
def test_sql_command(world, collected):
    path, _s, _run = collected
    r = CliRunner()
    res = r.invoke(
        cli,
        [
            "sql",
            "--config",
            str(path),
            "--csv",
            "select family, models from family_daily where family = $f",
            "-p",
            "f",
            "qwen",
        ],
    )
    assert res.exit_code == 0, res.output
    want = family_truth(world.snapshot(), FAMILIES[1])["models"]
    assert res.output.splitlines() == ["family,models", f"qwen,{want}"]
    res = r.invoke(cli, ["sql", "--config", str(path), "--json", "-"], input="select count(*) as n from runs")
    assert res.exit_code == 0 and __import__("json").loads(res.output) == [{"n": 1}]
    for stmt in (
        "delete from runs",
        "create table x as select 1",
        "copy runs to '/tmp/x.csv'",
        "select 1; drop view runs",
    ):
        res = r.invoke(cli, ["sql", "--config", str(path), stmt])
        assert res.exit_code == 1 and "read-only" in res.output, stmt
    res = r.invoke(cli, ["sql", "--config", str(path), "select * from nosuchview"])
    assert res.exit_code == 1 and "nosuchview" in res.output


@pytest.mark.slow
def test_status_command(collected):
    path, _s, _run = collected
    res = CliRunner().invoke(cli, ["status", "--config", str(path), "--json"])
    assert res.exit_code == 0, res.output
    import json

    info = json.loads(res.output)
    assert info["runs"][0]["status"] == "ok" and info["days"] == 1 and info["size_bytes"] > 0
    res = CliRunner().invoke(cli, ["status", "--config", str(path)])
    assert "collect" in res.output and "ok" in res.output


@pytest.mark.slow
def test_the_token_is_sent_but_never_logged_or_printed(tmp_path, world, hub, monkeypatch):
    secret = "hf_SeCrEtToKeN1234567890abcdef"
    monkeypatch.setenv("HF_TOKEN", secret)
    path = write_config(tmp_path, hub.endpoint, FAMILIES[:2], timeout_s=0.5, budget_s=1.5)
    hub.faults.add("status", status=401, route="listing", author="Qwen")  # an error path that logs
    res = CliRunner().invoke(cli, ["collect", "--config", str(path)])
    assert res.exit_code == 1 and "qwen" in res.output
    assert secret not in res.output and secret[3:] not in res.output
    # it was sent: the emulator counted these requests against the token's own quota
    assert any(r["client"] == f"token:{secret}" for r in hub.stats.requests)
    from tracker.hub import Hub

    assert secret not in repr(Hub(config.load(path).hub))


@pytest.mark.slow
def test_an_unreachable_hub_fails_the_run_without_trying_every_family(tmp_path):
    import socket

    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = config.load(write_config(tmp_path, f"http://127.0.0.1:{port}", FAMILIES, **RETRY_FAST))
    run = _collect(s)
    assert run["status"] == "failed" and run["families_failed"] == len(FAMILIES)
    assert "not tried: the Hub is unreachable" in run["error"]
    assert run["requests"] <= 3  # the client's own retries of the first family within its budget, no more
