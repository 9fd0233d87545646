"""The fault matrix: one test per case of RELIABILITY.md §6.1 and per break of issue 11.

Every test drives the real CLI or job against the emulator over real HTTP (hostile answers are
emulator fault kinds) and a real warehouse, and asserts the warehouse state afterwards: the `runs`
rows, the rows visible through the views, that nothing partial is visible. Worlds, budgets and
timeouts are shrunk so that each test takes a second or two.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tests import forked
from tests.conftest import family_truth, write_config
from tracker import config, jobs
from tracker.cli import cli
from tracker.hubsim import HubSim, World
from tracker.hubsim.testing import reset_hub
from tracker.warehouse import Warehouse

SECRET = "hf_FaultMatrixToken1234567890abc"
QWEN = {"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"}
LLAMA = {"name": "llama", "label": "Meta Llama", "authors": ["meta-llama"], "region": "us"}
FAST = {"timeout_s": 0.5, "budget_s": 1.5}
# the retry backoff of the tests that wait it out: first waits 0.05, 0.1, 0.2, 0.4, 0.8 s (hub.retry_wait_s; the
# default 0.5, 1, 2, 4 s is kept where a test tells it from Retry-After's wait). With RETRY_FAST's 1.2 s budget a
# permanent fault is cut by the budget (all five waits, 1.55 s, never fit in it: at most 5 tries) after at least
# 3 tries (the first two waits take 0.15 s: 1 s is left for the requests themselves, a loaded machine included),
# where the default waits (0.5 + 1 s) would leave room for 2 tries only: the count tells that hub.retry_wait_s
# set the schedule, and no bound on the wall clock is needed
RETRY_FAST = {"timeout_s": 0.5, "budget_s": 1.2, "retry_wait_s": 0.05}


def _tries(hub, author: str = "Qwen", page: int = 2) -> int:
    """How many times the emulator was asked for a listing page."""
    return sum(1 for r in hub.stats.requests if r["route"] == "listing" and r["author"] == author and r["page"] == page)


def _world() -> World:
    return World(seed=5, models=1500, official={"Qwen": 150, "meta-llama": 30}, now="2026-08-10T06:00:00Z")


@pytest.fixture(scope="module")
def world():
    return _world()


@pytest.fixture
def own_world():
    """A world of the test's own, for tests that delete or rename models."""
    return _world()


@pytest.fixture
def own_hub(own_world):
    with HubSim(own_world, page_size=25) as h:
        yield h


@pytest.fixture(scope="module")
def _hub(world):
    with HubSim(world, page_size=25) as h:
        yield h


@pytest.fixture
def hub(_hub):
    """The module's hub made fresh for each test (no faults, an empty request log, a new rate-limit
    window of 500 requests, HubSim's anonymous default): starting and stopping one per test cost 0.1 s."""
    return reset_hub(_hub, quota=500)


def _settings(tmp_path, hub, families=(QWEN, LLAMA), **hubopts):
    return config.load(write_config(tmp_path, hub.endpoint, list(families), **{"page_size": 25, **hubopts}))


def _runs(s) -> pd.DataFrame:
    return Warehouse(s.warehouse).query("select * from runs order by started_at, run_id")


def _visible(s, view: str = "snapshots") -> int:
    return int(Warehouse(s.warehouse).query(f"select count(*) n from {view}").n[0])


def _sql(path, *args, env=None):
    return CliRunner().invoke(cli, ["sql", "--config", str(path), "--csv", *args], env=env)


# ---------------------------------------------------------------------------------------------
# Security: `tracker sql` is a sandbox, not a keyword filter


@pytest.fixture(scope="module")
def collected(tmp_path_factory, world, _hub):
    """One collected warehouse (qwen, on the world's day): the sandbox tests read it (they must not change
    it: that is the point), and the tests that go on to a second day start from a copy of it (`_day_one`)."""
    tmp = tmp_path_factory.mktemp("sql")
    hub = reset_hub(_hub, quota=500)
    path = write_config(tmp, hub.endpoint, [QWEN], page_size=25)
    s = config.load(path)
    assert jobs.collect(s, now=world.now, show_progress=False)["status"] == "ok"
    return path, s


@pytest.fixture(scope="module")
def empty(tmp_path_factory):
    """A warehouse laid out and never collected into (no Hub needed), for the sandbox's refusals, which do not
    depend on the data; a file beside it that the sandbox must not read."""
    tmp = tmp_path_factory.mktemp("sql-empty")
    path = write_config(tmp, "http://127.0.0.1:9", [QWEN])
    s = config.load(path)
    Warehouse(s.warehouse).ensure()
    (s.warehouse.parent / "outside.csv").write_text("a\n1\n")
    return path, s


def _day_one(collected, tmp_path) -> None:
    """Put a copy of `collected` where `_settings(tmp_path, ...)` looks for the warehouse: the state a first
    collect of qwen on the world's day leaves (every world of `_world` is the same world), for a copy's
    cost rather than a collect's."""
    shutil.copytree(collected[1].warehouse, tmp_path / "warehouse")


@pytest.mark.slow
def test_sql_explain_analyze_copy_writes_no_file(collected, tmp_path):  # issue break
    path, s = collected
    target = tmp_path / "z.csv"
    res = _sql(path, f"EXPLAIN ANALYZE COPY (select 42) TO '{target}'")
    assert res.exit_code == 1 and not target.exists()
    # nor inside the warehouse, where DuckDB's allowed_directories alone would let it write
    inside = s.warehouse / "z.csv"
    for stmt in (
        f"COPY (select 42) TO '{inside}'",
        f"EXPLAIN ANALYZE COPY (select 42) TO '{inside}'",
        f"export database '{s.warehouse / 'exp'}'",
    ):
        res = _sql(path, stmt)
        assert res.exit_code == 1 and "read-only" in res.output, stmt
    assert not inside.exists() and not (s.warehouse / "exp").exists()


@pytest.mark.slow
def test_sql_cannot_forge_a_run(collected):
    path, s = collected
    before = _runs(s)
    forged = s.warehouse / "runs" / "_empty" / "forged.parquet"
    stmt = (
        "COPY (SELECT 'forged' AS run_id, 'collect' AS job, now() AS started_at, now() AS finished_at, "
        f"'ok' AS status) TO '{forged}' (FORMAT parquet)"
    )
    for form in (stmt, f"EXPLAIN ANALYZE {stmt}", f"PREPARE p AS {stmt}", f"select 1; {stmt}"):
        assert _sql(path, form).exit_code == 1, form
    assert not forged.exists()
    assert list(_runs(s).run_id) == list(before.run_id)


def test_sql_cannot_change_settings_attach_or_load(empty):
    path, _s = empty
    for stmt in (
        "SET enable_external_access = true",
        "EXPLAIN ANALYZE SET threads = 1",
        "RESET lock_configuration",
        "SET lock_configuration = false",
        "ATTACH ':memory:' AS m",
        "INSTALL httpfs",
        "LOAD httpfs",
        "PRAGMA threads = 1",
        "EXECUTE p",
        "CALL pragma_version()",
        "CREATE TEMP TABLE t AS SELECT 1",
    ):
        res = _sql(path, stmt)
        assert res.exit_code == 1, stmt
    # the settings hold even for a query that reaches them by other means
    res = _sql(
        path,
        "select value from duckdb_settings() where name in ('lock_configuration', "
        "'enable_external_access') order by name",
    )
    assert res.exit_code == 0 and res.output.splitlines() == ["value", "false", "true"]


def test_sql_reads_nothing_outside_the_warehouse(empty, monkeypatch):
    path, s = empty
    monkeypatch.setenv("HF_TOKEN", SECRET)
    outside = s.warehouse.parent / "outside.csv"
    assert outside.read_text() == "a\n1\n"  # there to be read, were reads outside allowed
    for stmt in (
        "select * from read_text('/proc/self/environ')",
        "select * from read_text('/etc/passwd')",
        f"select * from read_csv('{outside}')",
        "select * from glob('/*')",
        f"select * from read_text('{s.warehouse}/../outside.csv')",
        "select * from read_csv('http://127.0.0.1:9/x.csv')",
    ):
        res = _sql(path, stmt)
        assert res.exit_code == 1 and SECRET not in res.output, stmt


@pytest.mark.slow
def test_sql_reads_the_warehouses_views_and_files(collected):
    path, s = collected
    res = _sql(path, "select count(*) n from snapshots")
    assert res.exit_code == 0 and int(res.output.splitlines()[1]) == _visible(s)
    res = _sql(path, f"select count(*) n from read_parquet('{s.warehouse}/runs/*/*.parquet')")
    assert res.exit_code == 0 and res.output.splitlines()[1] == "1"  # the one collect (the seed file is empty)
    assert _sql(path, "EXPLAIN ANALYZE select count(*) from family_daily").exit_code == 0


# ---------------------------------------------------------------------------------------------
# The machine: config mistakes that used to pass (§6.1 case 14)

GOOD_FAMILY = "  - {name: qwen, authors: [Qwen], region: china}\n"


@pytest.mark.parametrize(
    "text, key, right",
    [
        (
            "families:\n  - {name: llama, authors: [meta-llama], region: us}\nfamilies:\n" + GOOD_FAMILY,
            "families",
            "Merge them into one block",
        ),
        ("hub:\n  timeout_s: 5\n  timeout_s: 6\nfamilies:\n" + GOOD_FAMILY, "timeout_s", "line 3 and line 4"),
        ("families:\n" + GOOD_FAMILY + 'schedule:\n  collect: "0 6 31 2 *"\n', "schedule.collect", "0 6 * * *"),
        ("families:\n" + GOOD_FAMILY + "hub:\n  budget_s: .inf\n", "hub.budget_s", "budget_s: 900"),
        ("families:\n" + GOOD_FAMILY + "hub:\n  timeout_s: .nan\n", "hub.timeout_s", "timeout_s: 30"),
        ("families:\n" + GOOD_FAMILY + "warehouse_min_free_mb: -.inf\n", "warehouse_min_free_mb", "200"),
        (
            "families:\n" + GOOD_FAMILY + "quality: {all_time_jump_factor: .inf}\n",
            "quality.all_time_jump_factor",
            "100",
        ),
    ],
)
def test_config_errors_exit_2_with_file_key_and_a_right_value(tmp_path, text, key, right):
    wh = tmp_path / "wh"
    p = tmp_path / "c.yaml"
    p.write_text(f"warehouse: {wh}\n" + text)
    res = CliRunner().invoke(cli, ["collect", "--config", str(p)])
    assert res.exit_code == 2, res.output
    assert f"{p}: " in res.output and key in res.output and right in res.output
    assert "Traceback" not in res.output
    assert not wh.exists()  # nothing ran: no warehouse, hence no runs row either


def test_a_crontab_that_fires_rarely_is_accepted(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("families:\n" + GOOD_FAMILY + 'schedule:\n  collect: "0 6 29 2 *"\n')
    assert config.load(p).schedule["collect"] == "0 6 29 2 *"


# ---------------------------------------------------------------------------------------------
# A hostile or broken Hub (§6.1 cases 1-8 and the breaks of issue 11)


def _collect(s, world, **kw):
    """A collect; the trend tables are not refreshed (no test here reads them but the one that says so)."""
    return jobs.collect(s, now=kw.pop("now", world.now), show_progress=False, refresh_trends=False, **kw)


def _truth(world, fam, at=None) -> dict:
    return family_truth(world.snapshot(at), fam)


def _assert_only_llama(s, world, run, day=None, runs_before=()):
    """Qwen failed whole, llama is stored whole and equal to the world's truth, the run is partial: in
    the whole warehouse, or on `day` of a warehouse that holds earlier runs (their `runs_before` statuses)."""
    assert run["status"] == "partial" and run["families_ok"] == 1 and run["families_failed"] == 1, run
    on_day = "" if day is None else " where day = $d"
    params = None if day is None else {"d": day}
    with Warehouse(s.warehouse).connect() as con:  # one read-only connection for the four reads
        fd = con.execute(f"select * from family_daily{on_day}", params).df()
        visible = int(con.execute(f"select count(*) n from snapshots{on_day}", params).fetchall()[0][0])
        statuses = [r[0] for r in con.sql("select status from runs order by started_at, run_id").fetchall()]
    assert list(fd.family) == ["llama"]
    assert int(fd.models[0]) == _truth(world, LLAMA)["models"] == visible
    assert int(fd.downloads_all_time[0]) == _truth(world, LLAMA)["downloads_all_time"]
    assert statuses == [*runs_before, "partial"]


@pytest.mark.trial  # waits out a retry (1 s), two collects
def test_429_storm_fails_the_family_and_the_next_run_proceeds(tmp_path, world, hub):  # §6.1 case 1
    # each 429 says "the window resets now" (t=0): the client waits t + 1 = 1 s. The 1.9 s budget holds the
    # first retry (with 0.9 s to spare for the requests) and never a second one (2 s of waits)
    s = _settings(tmp_path, hub, timeout_s=0.5, budget_s=1.9)
    hub.faults.add("429=ratelimit,t=0,route=listing,author=Qwen")
    run = _collect(s, world)
    _assert_only_llama(s, world, run)
    assert "qwen" in run["error"] and "rate limited" in run["error"]
    assert len(hub.stats.of(route="listing", status=429)) == 2  # the retry the budget had room for, no more
    # and no sleep past the budget: the run gave up when the wait it was told would end after it
    assert "the next try would start 1 s later, past the time budget hub.budget_s" in run["error"], run["error"]
    hub.faults.clear()
    run2 = _collect(s, world, now=world.now + dt.timedelta(minutes=5))
    assert run2["status"] == "ok" and _visible(s, "family_daily") == 2


@pytest.mark.trial  # waits out Retry-After + 1 s, twice
def test_retry_after_is_honoured_in_both_forms(tmp_path, world, hub):  # §6.1 case 1
    s = _settings(tmp_path, hub, [QWEN], timeout_s=1, budget_s=20)
    forms = {2: "retry-after", 3: "retry-after-date"}  # one form per listing page, in one collect
    for page, mode in forms.items():  # "retry now": the client adds its 1 s
        hub.faults.add(f"429={mode},t=0,route=listing,page={page},times=1")
    run = _collect(s, world)
    assert run["status"] == "ok" and _visible(s) == _truth(world, QWEN)["models"]
    for page, mode in forms.items():
        times = [r["time"] for r in hub.stats.requests if r["route"] == "listing" and r["page"] == page]
        assert len(times) == 2, (mode, times)
        # Retry-After: 0 (or a date already due) means 0 + the client's 1 s margin; unread, the backoff is 0.5 s
        assert times[1] - times[0] >= 0.95, (mode, times)


def _retried_then_cut(hub, run, author: str = "Qwen") -> None:
    """A permanent fault on `author`'s page 2 under RETRY_FAST: retried on hub.retry_wait_s's schedule, then cut
    by the budget (the run's error says so), not by the end of the 5 retries (see RETRY_FAST for the bounds)."""
    assert "past the time budget hub.budget_s" in run["error"], run["error"]
    assert 3 <= _tries(hub, author) <= 5, _tries(hub, author)


@pytest.mark.trial  # waits out retries
def test_5xx_mid_listing(tmp_path, world, hub, collected):  # §6.1 case 2
    _day_one(collected, tmp_path)  # day 1: qwen stored
    s = _settings(tmp_path, hub, **RETRY_FAST)
    hub.faults.add("status=503,route=listing,author=meta-llama,page=2,times=1")  # once: the retry gets page 2
    hub.faults.add("status=500,route=listing,author=Qwen,page=2")  # permanent
    day2 = world.now + dt.timedelta(days=1)
    run = _collect(s, world, now=day2)
    _assert_only_llama(s, world, run, day=day2.date(), runs_before=["ok"])  # llama whole after its retry
    assert _tries(hub, "meta-llama") == 2  # the 503, then the retry's good page
    assert "HTTP 500" in run["error"]
    _retried_then_cut(hub, run)
    # the failed family's day 1 stays as it was; the other family has its day 2
    days = Warehouse(s.warehouse).query("select family, day, count(*) n from family_daily group by all order by 1")
    assert days.to_dict("records") == [
        {"family": "llama", "day": pd.Timestamp(day2.date()), "n": 1},
        {"family": "qwen", "day": pd.Timestamp(world.now.date()), "n": 1},
    ]


@pytest.mark.trial  # runs its family to the 0.8 s budget
@pytest.mark.parametrize("fault", ["hang", "trickle=0.2"])
def test_a_hung_or_trickling_hub_fails_the_family_within_its_budget(tmp_path, world, hub, fault):  # case 3
    s = _settings(tmp_path, hub, timeout_s=0.5, budget_s=0.8, retry_wait_s=0.05)
    hub.faults.add(f"{fault},route=listing,author=Qwen,page=2")
    run = _collect(s, world)
    _assert_only_llama(s, world, run)
    # cut by the deadline (without it the trickle holds the collect for minutes: 41 s seen with budget_s 5,
    # and a hang is retried for 18.5 s at the default waits): the error says which bound stopped it
    assert "qwen" in run["error"] and "past the time budget hub.budget_s" in run["error"], run["error"]
    if fault.startswith("trickle"):  # every byte came within the idle timeout: only the body's deadline stops it
        assert "bytes of /api/models had arrived" in run["error"], run["error"]
        assert _tries(hub) == 1  # a body cut by the deadline is not retried
    else:  # a try waits out hub.timeout_s (0.5 s): the budget has room for a second one at most, not the 6 tries
        assert 1 <= _tries(hub) <= 2, _tries(hub)


@pytest.mark.trial  # waits out retries
@pytest.mark.parametrize("fault", ["truncate", "html"])
def test_bad_bodies_are_retried_then_fail_the_family(tmp_path, world, hub, fault):  # §6.1 case 4
    s = _settings(tmp_path, hub, **RETRY_FAST)
    hub.faults.add(f"{fault},route=listing,author=meta-llama,page=2,times=1")  # once: the retry gets a good page
    hub.faults.add(f"{fault},route=listing,author=Qwen,page=2")  # every time: the retries fail too
    run = _collect(s, world)
    _assert_only_llama(s, world, run)  # llama stored whole after its retry, qwen failed whole
    assert _tries(hub, "meta-llama") == 2
    assert "not JSON" in run["error"]
    _retried_then_cut(hub, run)  # as for a 5xx


@pytest.mark.slow
def test_a_deleted_model_ends_its_series_without_zeros(tmp_path, own_hub, own_world, collected):
    hub, world = own_hub, own_world  # §6.1 case 5
    _day_one(collected, tmp_path)  # day 1 collected
    s = _settings(tmp_path, hub, [QWEN])
    day1 = world.now
    victim = sorted(Warehouse(s.warehouse).query("select model_id from snapshots").model_id)[0]
    day2 = day1 + dt.timedelta(days=1)
    world.delete(victim, at=day1 + dt.timedelta(hours=1))
    world.set_time(day2)
    try:
        run = _collect(s, world, now=day2)
        want = _truth(world, QWEN)
    finally:
        world.set_time(day1)
    assert run["status"] == "ok"
    rows = Warehouse(s.warehouse).query("select day, downloads_30d from snapshots where model_id = $m", {"m": victim})
    assert [d.date() for d in rows.day] == [day1.date()]  # the series ends; no zero row
    fd = Warehouse(s.warehouse).query("select * from family_daily order by day").iloc[-1]
    assert int(fd.models) == want["models"] and int(fd.downloads_all_time) == want["downloads_all_time"]
    assert Warehouse(s.warehouse).query("select old_id from model_aliases").empty


@pytest.mark.slow
def test_a_renamed_model_keeps_one_series_and_an_alias(tmp_path, own_hub, own_world, collected):
    hub, world = own_hub, own_world  # §6.1 case 6 + issue break
    _day_one(collected, tmp_path)  # day 1 collected
    s = _settings(tmp_path, hub, [QWEN])
    day1, day2 = world.now, world.now + dt.timedelta(days=1)
    old = sorted(Warehouse(s.warehouse).query("select model_id from snapshots").model_id)[1]
    new = old + "-renamed"
    before = world.snapshot(day1)
    world.rename(old, new, at=day1 + dt.timedelta(hours=1))
    world.set_time(day2)
    try:
        run = _collect(s, world, now=day2)
        after = world.snapshot(day2)
    finally:
        world.set_time(day1)
    assert run["status"] == "ok"
    wh = Warehouse(s.warehouse)
    aliases = wh.query("select * from model_aliases")
    assert aliases.to_dict("records") == [{"old_id": old, "new_id": new, "detected_on": pd.Timestamp(day2.date())}]
    series = wh.model_series([new])
    assert [d.date() for d in series.day] == [day1.date(), day2.date()]  # one series under one key
    # the day's downloads count the renamed model as the same model (truth: the world's rows joined on _id)
    qwen0, qwen1 = (b[b.author == "Qwen"].set_index("_id") for b in (before, after))
    common = qwen1.index.intersection(qwen0.index)
    created_after = qwen1[(qwen1.created_at > pd.Timestamp(day1)) & ~qwen1.index.isin(qwen0.index)]
    want = int(
        (qwen1.loc[common, "downloads_all_time"] - qwen0.loc[common, "downloads_all_time"]).clip(lower=0).sum()
        + created_after.downloads_all_time.sum()
    )
    got = wh.query("select downloads_day from family_daily where day = $d", {"d": day2.date()}).downloads_day[0]
    assert round(got) == want


ABSURD = [  # (a count the Hub sends, why it is quarantined)
    (str(2**63), "above 2^53"),
    ("1" + "0" * 30, "above 2^53"),
    (str(2**63 - 1), "above 2^53"),
    ("-5", "is negative"),
    ("12.5", "is float"),
]


@pytest.fixture(scope="module")
def wide_world():
    """A Qwen of 600 models: room for five bad records under the 1% that fails a family."""
    return World(seed=5, models=1500, official={"Qwen": 600}, now="2026-08-10T06:00:00Z")


def _quarantined_one_per_page(tmp_path, world, rules: list[str]):
    """One collect of qwen (pages of 100), each rule spoiling the first record of its own page."""
    with HubSim(world, page_size=100) as hub:
        s = _settings(tmp_path, hub, [QWEN], page_size=100)
        for page, rule in enumerate(rules, start=1):
            hub.faults.add(f"{rule},items=1,times=1,route=listing,page={page}")
        run = _collect(s, world)
    assert run["status"] == "ok", run
    n = _truth(world, QWEN)["models"]
    assert n > 100 * (len(rules) - 1) and len(rules) <= 0.01 * n  # a page per rule; under the 1% that fails
    return s, Warehouse(s.warehouse).query("select * from quarantine")


@pytest.mark.slow
def test_an_absurd_count_is_quarantined_and_the_family_stored(tmp_path, wide_world):  # case 7
    s, q = _quarantined_one_per_page(
        tmp_path, wide_world, [f"huge,field=downloads,value={value}" for value, _why in ABSURD]
    )
    assert len(q) == len(ABSURD) and set(q.family) == {"qwen"}
    reasons = {json.dumps(json.loads(raw)["downloads"]): reason for raw, reason in zip(q.raw, q.reason, strict=True)}
    for value, why in ABSURD:  # each count sent is quarantined, for its own reason
        assert why in reasons.get(json.dumps(json.loads(value)), ""), (value, reasons)
    fd = Warehouse(s.warehouse).query("select * from family_daily").iloc[0]
    assert int(fd.models) == _truth(wide_world, QWEN)["models"] - len(ABSURD) == _visible(s)


@pytest.mark.slow
def test_sums_that_would_overflow_fail_only_their_family(tmp_path):  # issue break: the family sum overflows
    w = World(seed=2, models=1700, official={"Qwen": 1100, "meta-llama": 20}, now="2026-08-10")
    assert _truth(w, QWEN)["models"] >= 1024  # 1024 counts of 2^53 sum to 2^63: one more than a BIGINT holds
    with HubSim(w, page_size=500) as hub:
        s = _settings(tmp_path, hub, page_size=500)
        hub.faults.add(f"huge,field=downloads,value={2**53},items=0,route=listing,author=Qwen")
        run = _collect(s, w)
        _assert_only_llama(s, w, run)
        assert "does not fit a 64-bit integer" in run["error"]


BAD_IDS = ["Qwen/..", "../x", "other-org/model", "Qwen/a--b"]


@pytest.mark.slow
def test_ids_the_hub_refuses_are_quarantined(tmp_path, wide_world):  # issue break: ids
    s, q = _quarantined_one_per_page(tmp_path, wide_world, [f"corrupt,field=id,value={bad}" for bad in BAD_IDS])
    assert sorted(q.model_id) == sorted(BAD_IDS)
    for bad, reason in zip(q.model_id, q.reason, strict=True):
        assert "not by Qwen" in reason or "does not allow" in reason or "owner/name" in reason, (bad, reason)
    wh = Warehouse(s.warehouse)
    for bad in BAD_IDS:
        assert wh.query("select count(*) n from snapshots where model_id = $m", {"m": bad}).n[0] == 0, bad
    assert _visible(s) == _truth(wide_world, QWEN)["models"] - len(BAD_IDS)


@pytest.mark.trial
def test_an_all_time_jump_is_flagged_and_left_out_of_downloads_day(tmp_path, own_hub, own_world, collected):
    hub, world = own_hub, own_world  # case 8
    _day_one(collected, tmp_path)  # day 1 collected
    s = _settings(tmp_path, hub, [QWEN])
    day1, day2 = world.now, world.now + dt.timedelta(days=1)
    world.set_time(day2)
    try:
        first = json.loads(_page1(hub))[0]  # the item the fault will alter: the first of page 1
        hub.faults.add(
            f"huge,field=downloadsAllTime,value={first['downloadsAllTime'] * 10**6 + 1000**3},"
            "items=1,route=listing,page=1"
        )
        run = _collect(s, world, now=day2)
        before, after = world.snapshot(day1), world.snapshot(day2)
    finally:
        world.set_time(day1)
    assert run["status"] == "ok"
    wh = Warehouse(s.warehouse)
    q = wh.query("select * from quality where issue = 'all_time_jump'")
    assert q.model_id.tolist() == [first["id"]] and q.day[0].date() == day2.date()
    b, a = (x[x.author == "Qwen"].set_index("id") for x in (before, after))
    common = a.index.intersection(b.index).drop(first["id"])
    new = a[(a.created_at > pd.Timestamp(day1)) & ~a.index.isin(b.index)]
    want = int(
        (a.loc[common, "downloads_all_time"] - b.loc[common, "downloads_all_time"]).clip(lower=0).sum()
        + new.downloads_all_time.sum()
    )
    got = wh.query("select downloads_day from family_daily where day = $d", {"d": day2.date()}).downloads_day[0]
    assert round(got) == want


def _page1(hub) -> str:
    import httpx2

    from tracker.hub import LISTING_EXPAND

    r = httpx2.get(
        f"{hub.endpoint}/api/models",
        params={"author": "Qwen", "sort": "createdAt", "limit": 25, "expand": list(LISTING_EXPAND)},
    )
    return r.text


@pytest.mark.parametrize(
    "fault, words",
    [
        ("loop,route=listing,author=Qwen,page=2", "repeated a cursor"),
        ("loop=fresh,route=listing,author=Qwen", "same page twice"),
    ],
)
def test_a_looping_listing_fails_the_family_at_once(tmp_path, world, hub, fault, words):  # issue break
    s = _settings(tmp_path, hub, timeout_s=1, budget_s=10)
    hub.faults.add(fault)
    run = _collect(s, world)
    _assert_only_llama(s, world, run)
    assert words in run["error"]
    qwen_pages = [r for r in hub.stats.requests if r["route"] == "listing" and r["author"] == "Qwen"]
    assert len(qwen_pages) <= 3  # at once, not retried until the 10 s budget


def test_a_listing_past_the_model_cap_fails_the_family(tmp_path, world, hub):  # issue break: model cap
    s = _settings(tmp_path, hub, max_models=_truth(world, QWEN)["models"] - 1)
    run = _collect(s, world)
    assert run["status"] == "partial" and "hub.max_models" in run["error"] and "qwen" in run["error"]
    assert Warehouse(s.warehouse).query("select family from family_daily").family.tolist() == ["llama"]


@pytest.mark.slow
def test_a_foreign_next_link_gets_no_token(tmp_path, world, hub, monkeypatch):  # issue break: token origin
    monkeypatch.setenv("HF_TOKEN", SECRET)
    with HubSim(World(seed=1, models=200, now="2026-08-10")) as foreign:
        s = _settings(tmp_path, hub)
        hub.faults.add(f"foreign,url={foreign.endpoint},route=listing,author=Qwen,page=1")
        run = _collect(s, world)
        assert foreign.stats.total == 0  # not followed at all, so the token went nowhere else
    _assert_only_llama(s, world, run)
    assert "another origin" in run["error"]
    assert any(r["client"] == f"token:{SECRET}" for r in hub.stats.requests)  # the endpoint did get it


@pytest.mark.slow
def test_a_redirect_to_another_origin_drops_the_token(tmp_path, monkeypatch):  # issue break: token origin
    """Below the paging checks, the transport itself never sends the token off the endpoint's origin."""
    import http.server
    import threading

    from tracker.hub import Hub

    monkeypatch.setenv("HF_TOKEN", SECRET)
    with HubSim(World(seed=1, models=200, now="2026-08-10")) as foreign:

        class Redirect(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(307)
                self.send_header("Location", f"{foreign.endpoint}{self.path}")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            s = _settings(tmp_path, hub=type("H", (), {"endpoint": f"http://127.0.0.1:{srv.server_address[1]}"}))
            model = World(seed=1, models=200, now="2026-08-10").snapshot().id[0]
            assert Hub(s.hub).current_id(model) == model
        finally:
            srv.shutdown()
        assert foreign.stats.total == 1 and foreign.stats.requests[0]["client"].startswith("ip:")


@pytest.mark.slow
def test_a_hub_error_that_echoes_the_token_is_stored_and_shown_redacted(tmp_path, world, hub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    path = write_config(tmp_path, hub.endpoint, [QWEN, LLAMA], page_size=25, **FAST)
    hub.faults.add("echo,status=403,route=listing,author=Qwen")
    res = CliRunner().invoke(cli, ["collect", "--config", str(path)])
    assert res.exit_code == 1 and "403" in res.output
    s = config.load(path)
    stored = _runs(s).error[0]
    assert "Invalid credentials" in stored and SECRET not in stored and SECRET[3:] not in stored
    assert SECRET not in res.output
    for args in (["status"], ["status", "--json"]):
        out = CliRunner().invoke(cli, [*args, "--config", str(path)])
        assert out.exit_code == 0 and "Invalid credentials" in out.output and SECRET not in out.output
    monkeypatch.delenv("HF_TOKEN")  # a reader without the token in its environment still sees it redacted
    assert SECRET not in CliRunner().invoke(cli, ["status", "--json", "--config", str(path)]).output


# ---------------------------------------------------------------------------------------------
# The machine (§6.1 cases 9-16)


def _private_mounts() -> str | None:
    """Give this process a mount namespace of its own (and a user namespace when not root), so that the
    tmpfs it mounts is seen by it alone; None, or why it cannot. Only in a single-threaded process (a fork)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.geteuid(), os.getegid()
    clone_newns, clone_newuser, ms_rec, ms_private = 0x00020000, 0x10000000, 0x4000, 0x40000
    if libc.unshare(clone_newns if uid == 0 else clone_newns | clone_newuser) != 0:
        return f"unshare: {os.strerror(ctypes.get_errno())}"
    if uid != 0:  # root inside the new user namespace, as `unshare -Urm` maps it
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
        Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    if libc.mount(None, b"/", None, ms_rec | ms_private, None) != 0:  # nothing mounted here leaks out
        return f"mount --make-rprivate /: {os.strerror(ctypes.get_errno())}"
    return None


def _small_disks_child(jobs_: dict[str, list], seed: str, conn) -> None:
    """The forked child: mount each trial's tmpfs, run its steps (CLI commands; filling and freeing the
    disk; "seed": a copy of the warehouse `seed` put there, as a collect would have left it), and send what
    each step saw back through `conn`."""
    import ctypes
    import logging

    logging.disable(logging.CRITICAL)
    results: dict[str, object] = {}
    why = _private_mounts()
    libc = ctypes.CDLL(None, use_errno=True)
    for name, (size_kb, cfg, wh, filler, steps) in jobs_.items():
        disk, size = str(Path(wh).parent).encode(), f"size={size_kb}k".encode()
        if why is None and libc.mount(b"tracker-test", disk, b"tmpfs", 0, size) != 0:
            why = f"mount -t tmpfs: {os.strerror(ctypes.get_errno())}"
        st = os.statvfs(disk)
        if why is None and st.f_blocks * st.f_frsize > size_kb * 1024:  # never fill the real disk
            why = f"{disk.decode()} is not the {size_kb} KB tmpfs just mounted"
        if why is not None:
            conn.send({"skip": why})
            os._exit(0)
        out = results[name] = []
        for step in steps:
            if step == "fill":  # leave no room on the little disk
                st = os.statvfs(os.path.dirname(filler))
                with open(filler, "wb") as fh:
                    fh.write(b"x" * (st.f_bavail * st.f_frsize))
                out.append({"step": step})
                continue
            if step == "free":
                os.unlink(filler)
                out.append({"step": step})
                continue
            if step == "seed":
                shutil.copytree(seed, wh)
                Warehouse(wh).ensure()  # its views name the copy, as a collect made there leaves them
                code, output = 0, ""
            else:
                res = CliRunner().invoke(cli, ["collect", "--config", cfg])
                code, output = res.exit_code, res.output
            try:
                runs = Warehouse(wh).query("select status, error from runs order by started_at").to_dict("records")
                rows = int(Warehouse(wh).query("select count(*) n from snapshots").n[0])
            except Exception as exc:  # noqa: BLE001 - what the step left is the result, whatever it is
                runs, rows = f"unreadable: {exc}", None
            out.append({"step": step, "code": code, "output": output, "runs": runs, "rows": rows})
    conn.send(json.loads(json.dumps(results, default=str)))
    conn.close()
    os._exit(0)


def _on_small_disks(
    tmp_path, hub, seed: Path, trials: dict[str, tuple[int, list[str]]], **cfg
) -> dict[str, list[dict]]:
    """Run each trial's CLI steps with its warehouse on a tmpfs of its own size in KB, all in one forked
    child (a process of its own, in a private mount namespace; the libraries already imported, so no
    interpreter start-up)."""
    import multiprocessing

    import huggingface_hub

    jobs_ = {}
    for name, (size_kb, steps) in trials.items():
        disk = tmp_path / name / "disk"
        disk.mkdir(parents=True)
        wh = disk / "warehouse"
        path = tmp_path / name / "config.yaml"
        path.write_text(
            json.dumps(
                {
                    "warehouse": str(wh),
                    "hub": {"endpoint": hub.endpoint, "page_size": 25, **FAST},
                    "families": [QWEN],
                    **cfg,
                }
            )
        )
        jobs_[name] = [size_kb, str(path), str(wh), str(disk / "filler"), steps]
    huggingface_hub.close_session()  # no connection of this process is shared with the child
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_small_disks_child, args=(jobs_, str(seed), send))
    child.start()
    send.close()
    try:
        results = recv.recv() if recv.poll(120) else None
    except EOFError:  # it died before sending anything
        results = None
    child.join(10)
    if child.exitcode is None:
        child.kill()
        child.join()
    assert results is not None and child.exitcode == 0, f"the small-disk trials' child ended with {child.exitcode}"
    if "skip" in results:
        pytest.skip(f"cannot mount a small tmpfs here ({results['skip']}); needs root or user namespaces")
    return results


@pytest.fixture(scope="module")
def small_disks(tmp_path_factory, _hub, collected):
    """The two full-disk trials, run in one forked child (they only read their own results). The first
    trial's first day is a copy of `collected` (qwen's day, as the trials' collects get it)."""
    return _on_small_disks(
        tmp_path_factory.mktemp("disks"),
        reset_hub(_hub, quota=500),
        collected[1].warehouse,
        {
            "mid_run": (4096, ["seed", "fill", "collect", "free", "collect"]),
            # a command that creates the warehouse (sql, status and report refuse a missing one, issue 13)
            "fresh": (256, ["collect"]),
        },
        warehouse_min_free_mb=0,
    )


@pytest.mark.trial  # crash trial: a forked child on a tmpfs, two collects
def test_disk_full_mid_run_leaves_nothing_visible_and_a_clear_message(small_disks):  # §6.1 case 11
    ok, _fill, full, _free, again = small_disks["mid_run"]
    assert ok["code"] == 0 and ok["runs"][0]["status"] == "ok"
    assert full["code"] == 1 and "Traceback" not in full["output"]
    assert "is full" in full["output"] and "/disk/warehouse" in full["output"]
    assert full["rows"] == ok["rows"]  # nothing of the failed run is visible
    assert [r["status"] for r in full["runs"]][:1] == ["ok"] and all(r["status"] != "ok" for r in full["runs"][1:])
    assert again["code"] == 0 and again["runs"][-1]["status"] == "ok" and again["rows"] == 2 * ok["rows"]


@pytest.mark.trial  # a forked child on a tmpfs (shared with the test above)
def test_a_fresh_warehouse_on_a_full_disk_fails_with_one_paragraph(small_disks):  # §6.1 case 11
    (res,) = small_disks["fresh"]
    assert res["code"] == 1 and "Traceback" not in res["output"] and "FatalException" not in res["output"]
    assert "/disk/warehouse" in res["output"] and ("full" in res["output"] or "fatal" in res["output"])
    assert len(res["output"].strip().splitlines()) == 1


def test_low_free_space_refuses_the_run_with_a_runs_row(tmp_path, world, hub):  # §6.1 case 11: preflight
    path = write_config(tmp_path, hub.endpoint, [QWEN], page_size=25, **FAST)
    path.write_text(path.read_text() + "warehouse_min_free_mb: 9000000\n")  # 9 TB: more than this disk has
    res = CliRunner().invoke(cli, ["collect", "--config", str(path)])
    assert res.exit_code == 1 and "warehouse_min_free_mb" in res.output and "MB free" in res.output
    s = config.load(path)
    runs = _runs(s)
    assert runs.status.tolist() == ["failed"] and "refused" in runs.error[0]
    assert _visible(s) == 0 and hub.stats.total == 0  # the Hub was never asked


@pytest.mark.trial  # crash trial: a collect process killed
def test_kill_9_mid_collect_leaves_nothing_and_the_next_run_cleans_up(tmp_path, world, hub):  # §6.1 case 10
    import huggingface_hub

    path = write_config(tmp_path, hub.endpoint, [QWEN, LLAMA], page_size=25, timeout_s=5, budget_s=60)
    s = config.load(path)
    Warehouse(s.warehouse).ensure()
    hub.faults.add("hang,route=listing,author=Qwen,page=3")  # held there: two of its eight pages served
    huggingface_hub.close_session()  # no connection of this process is shared with the child
    child = forked.start(["collect", "--config", str(path)])  # the CLI's collect, libraries already imported
    deadline = time.monotonic() + 20  # killed while it waits for page 3 (within timeout_s): mid-listing
    while not [r for r in hub.stats.of(route="listing") if r["status"] is None] and time.monotonic() < deadline:
        assert child.exitcode is None, "the collect ended before it could be killed"
        time.sleep(0.01)
    assert child.exitcode is None and [r["status"] for r in hub.stats.of(route="listing")] == [200, 200, None]
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    assert child.exitcode == -signal.SIGKILL
    # what a kill inside a file write leaves: a temporary file named with the dead writer's PID
    leftover = s.warehouse / "snapshots" / "2026-08-10" / f".x.parquet.{child.pid}.abcdef.tmp"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"PAR1 half a file")
    mine = s.warehouse / "snapshots" / "2026-08-10" / f".y.parquet.{os.getpid()}.abcdef.tmp"
    mine.write_bytes(b"a live writer's file")  # a running process's file is not touched
    assert _runs(s).empty and _visible(s) == 0
    hub.faults.clear()
    run = _collect(s, world)
    assert run["status"] == "ok" and not leftover.exists() and mine.exists()
    assert _runs(s).status.tolist() == ["ok"]
    assert _visible(s) == _truth(world, QWEN)["models"] + _truth(world, LLAMA)["models"]


@pytest.mark.trial  # a collect and a trend derivation
def test_trend_tables_are_never_older_than_the_runs(tmp_path, world, hub, collected):  # break: killed before derive
    _day_one(collected, tmp_path)  # a collect whose trend tables were derived (`collected` runs the whole job)
    path = write_config(tmp_path, hub.endpoint, [QWEN], page_size=25)  # one family: weeks are counted
    s = config.load(path)
    # a run recorded but killed before its trend refresh (exactly what refresh_trends=False leaves)
    jobs.collect(s, now=world.now + dt.timedelta(days=7), show_progress=False, refresh_trends=False)
    stale = Warehouse(s.warehouse).query("select count(distinct week) n from family_weekly").n[0]
    res = CliRunner().invoke(
        cli, ["sql", "--config", str(path), "--csv", "select count(distinct week) n from family_weekly"]
    )
    assert res.exit_code == 0
    assert stale == 1 and res.stdout.splitlines() == ["n", "2"]  # two ISO weeks of snapshots, 2026-W33 and W34


@pytest.mark.slow
def test_a_double_fire_is_idempotent(tmp_path, world, hub, collected):  # §6.1 case 9 (clock jumps: a coalesced rerun)
    _day_one(collected, tmp_path)  # the first fire's collect
    s = _settings(tmp_path, hub, [QWEN])
    assert _collect(s, world)["status"] == "ok"  # the second, on the same day
    assert _runs(s).status.tolist() == ["ok", "ok"]
    fd = Warehouse(s.warehouse).query("select family, models from family_daily order by family")
    assert fd.to_dict("records") == [{"family": "qwen", "models": _truth(world, QWEN)["models"]}]


@pytest.mark.slow
def test_two_daemons_cannot_run_on_one_warehouse(tmp_path, world, hub):  # §6.1 case 12
    from tracker.daemon import AlreadyRunning, DaemonLock

    s = _settings(tmp_path, hub)
    first = DaemonLock(s.warehouse)
    first.acquire()
    try:
        with pytest.raises(AlreadyRunning, match=f"PID {os.getpid()}"):
            DaemonLock(s.warehouse).acquire(wait_s=0.1)
        assert _collect(s, world)["status"] == "ok"  # the warehouse itself is not locked by it
    finally:
        first.release()
    assert _runs(s).status.tolist() == ["ok"]


@pytest.mark.slow
def test_a_reader_holding_the_database_blocks_nothing(tmp_path, world, hub):  # §6.1 case 13
    import duckdb

    s = _settings(tmp_path, hub)
    Warehouse(s.warehouse).ensure()
    with duckdb.connect(str(Warehouse(s.warehouse).db_path), read_only=True) as reader:
        assert _collect(s, world)["status"] == "ok"
        assert reader.execute("select count(*) from snapshots").fetchone()[0] == _visible(s) > 0


@pytest.mark.trial
def test_duplicate_records_in_one_batch_keep_the_last(tmp_path, world, hub):  # §6.1 case 15
    path = write_config(tmp_path, hub.endpoint, [QWEN], page_size=25)
    archive = tmp_path / "dump.json"
    archive.write_text(
        json.dumps(
            {
                "fetched_at": "2026-08-01T06:00:00Z",
                "models": [
                    {"id": "Qwen/a", "downloads": 1, "likes": 1},
                    {"id": "Qwen/b", "downloads": 5},
                    {"id": "Qwen/a", "downloads": 2, "likes": 3},
                ],
            }
        )
    )
    res = CliRunner().invoke(cli, ["import", "--config", str(path), str(archive)])
    assert res.exit_code == 0, res.output
    got = Warehouse(config.load(path).warehouse).query(
        "select model_id, downloads_30d, likes from snapshots order by model_id"
    )
    assert got.to_dict("records") == [
        {"model_id": "Qwen/a", "downloads_30d": 2, "likes": 3},
        {"model_id": "Qwen/b", "downloads_30d": 5, "likes": None},
    ]


def test_a_write_failing_mid_publish_leaves_a_failed_run_and_nothing_visible(tmp_path, world, hub):  # case 16
    s = _settings(tmp_path, hub)
    Warehouse(s.warehouse).ensure()
    (s.warehouse / "family_snapshots" / world.now.date().isoformat()).write_text("a file where a folder goes")
    with pytest.raises(jobs.snapshot.CollectFailed) as err:
        _collect(s, world)
    assert err.value.record["status"] == "failed"
    runs = _runs(s)
    assert runs.status.tolist() == ["failed"] and "family_snapshots" in runs.error[0]
    assert _visible(s) == 0 and _visible(s, "family_daily") == 0
