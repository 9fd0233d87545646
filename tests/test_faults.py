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
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tests.conftest import family_truth, write_config
from tracker import config, jobs
from tracker.cli import cli
from tracker.hubsim import HubSim, World
from tracker.warehouse import Warehouse

SECRET = "hf_FaultMatrixToken1234567890abc"
QWEN = {"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"}
LLAMA = {"name": "llama", "label": "Meta Llama", "authors": ["meta-llama"], "region": "us"}
FAST = {"timeout_s": 0.5, "budget_s": 1.5}


@pytest.fixture(scope="module")
def world():
    return World(seed=5, models=1500, official={"Qwen": 60, "meta-llama": 30}, now="2026-08-10T06:00:00Z")


@pytest.fixture
def hub(world):
    with HubSim(world, page_size=25) as h:
        yield h


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


@pytest.fixture
def collected(tmp_path, world, hub):
    path = write_config(tmp_path, hub.endpoint, [QWEN], page_size=25)
    s = config.load(path)
    assert jobs.collect(s, now=world.now, show_progress=False)["status"] == "ok"
    return path, s


def test_sql_explain_analyze_copy_writes_no_file(collected, tmp_path):
    path, s = collected
    target = tmp_path / "z.csv"
    res = _sql(path, f"EXPLAIN ANALYZE COPY (select 42) TO '{target}'")
    assert res.exit_code == 1 and not target.exists()
    # nor inside the warehouse, where DuckDB's allowed_directories alone would let it write
    inside = s.warehouse / "z.csv"
    for stmt in (f"COPY (select 42) TO '{inside}'", f"EXPLAIN ANALYZE COPY (select 42) TO '{inside}'",
                 f"export database '{s.warehouse / 'exp'}'"):
        res = _sql(path, stmt)
        assert res.exit_code == 1 and "read-only" in res.output, stmt
    assert not inside.exists() and not (s.warehouse / "exp").exists()


def test_sql_cannot_forge_a_run(collected):
    path, s = collected
    before = _runs(s)
    forged = s.warehouse / "runs" / "_empty" / "forged.parquet"
    stmt = ("COPY (SELECT 'forged' AS run_id, 'collect' AS job, now() AS started_at, now() AS finished_at, "
            f"'ok' AS status) TO '{forged}' (FORMAT parquet)")
    for form in (stmt, f"EXPLAIN ANALYZE {stmt}", f"PREPARE p AS {stmt}", f"select 1; {stmt}"):
        assert _sql(path, form).exit_code == 1, form
    assert not forged.exists()
    assert list(_runs(s).run_id) == list(before.run_id)


def test_sql_cannot_change_settings_attach_or_load(collected):
    path, _s = collected
    for stmt in ("SET enable_external_access = true", "EXPLAIN ANALYZE SET threads = 1", "RESET lock_configuration",
                 "SET lock_configuration = false", "ATTACH ':memory:' AS m", "INSTALL httpfs", "LOAD httpfs",
                 "PRAGMA threads = 1", "EXECUTE p", "CALL pragma_version()", "CREATE TEMP TABLE t AS SELECT 1"):
        res = _sql(path, stmt)
        assert res.exit_code == 1, stmt
    # the settings hold even for a query that reaches them by other means
    res = _sql(path, "select value from duckdb_settings() where name in ('lock_configuration', "
                     "'enable_external_access') order by name")
    assert res.exit_code == 0 and res.output.splitlines() == ["value", "false", "true"]


def test_sql_reads_only_the_warehouse(collected, monkeypatch, tmp_path):
    path, s = collected
    monkeypatch.setenv("HF_TOKEN", SECRET)
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    for stmt in ("select * from read_text('/proc/self/environ')", "select * from read_text('/etc/passwd')",
                 f"select * from read_csv('{outside}')", "select * from glob('/*')",
                 f"select * from read_text('{s.warehouse}/../outside.csv')",
                 "select * from read_csv('http://127.0.0.1:9/x.csv')"):
        res = _sql(path, stmt)
        assert res.exit_code == 1 and SECRET not in res.output, stmt
    # inside the warehouse: the views and its files
    res = _sql(path, "select count(*) n from snapshots")
    assert res.exit_code == 0 and int(res.output.splitlines()[1]) == _visible(s)
    res = _sql(path, f"select count(*) n from read_parquet('{s.warehouse}/runs/*/*.parquet')")
    assert res.exit_code == 0 and res.output.splitlines()[1] == "1"  # the one collect (the seed file is empty)
    assert _sql(path, "EXPLAIN ANALYZE select count(*) from family_daily").exit_code == 0


# ---------------------------------------------------------------------------------------------
# The machine: config mistakes that used to pass (§6.1 case 14)

GOOD_FAMILY = "  - {name: qwen, authors: [Qwen], region: china}\n"


@pytest.mark.parametrize("text, key, right", [
    ("families:\n  - {name: llama, authors: [meta-llama], region: us}\nfamilies:\n" + GOOD_FAMILY,
     "families", "Merge them into one block"),
    ("hub:\n  timeout_s: 5\n  timeout_s: 6\nfamilies:\n" + GOOD_FAMILY, "timeout_s", "line 3 and line 4"),
    ("families:\n" + GOOD_FAMILY + "schedule:\n  collect: \"0 6 31 2 *\"\n", "schedule.collect", "0 6 28 2 *"),
    ("families:\n" + GOOD_FAMILY + "hub:\n  budget_s: .inf\n", "hub.budget_s", "budget_s: 900"),
    ("families:\n" + GOOD_FAMILY + "hub:\n  timeout_s: .nan\n", "hub.timeout_s", "timeout_s: 30"),
    ("families:\n" + GOOD_FAMILY + "warehouse_min_free_mb: -.inf\n", "warehouse_min_free_mb", "200"),
    ("families:\n" + GOOD_FAMILY + "quality: {all_time_jump_factor: .inf}\n", "quality.all_time_jump_factor", "100"),
])
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
    p.write_text("families:\n" + GOOD_FAMILY + "schedule:\n  collect: \"0 6 29 2 *\"\n")
    assert config.load(p).schedule["collect"] == "0 6 29 2 *"
