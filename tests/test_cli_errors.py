"""A user's mistake never prints a traceback: every command with bad option values and paths says what is
wrong (exit 2); read-only commands on a missing warehouse say so and create nothing (exit 1); an
unexpected error prints one line and where its traceback is (exit 1)."""

from __future__ import annotations

import os

import pytest
import yaml
from click.testing import CliRunner

from tests.conftest import ROOT, run_tracker
from tracker.cli import cli

FAMILY = {"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"}


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump({"warehouse": "wh/", "hub": {"endpoint": "http://127.0.0.1:9"}, "families": [FAMILY]})
    )
    (tmp_path / "afile").write_text("x")
    return path


BAD = [  # (arguments after the command's --config, words the message must contain)
    (["collect", "--family", "nosuch"], "no family named 'nosuch'"),
    (["tree", "--family", "nosuch"], "no family named 'nosuch'"),
    (["backfill", "--since", "yesterday"], "--since must be a date"),
    (["backfill", "--since", "2099-01-01"], "in the future"),
    (["report", "--week", "2026-W99"], "--week must be an ISO week"),
    (["report", "--week", "2025-W53"], "2025 has no week 53"),
    (["report", "--week", "W34"], "--week must be an ISO week"),
    (["report", "--format", "pdf"], "--format takes md, html"),
    (["report", "--out", "/proc/nope"], "cannot write into /proc"),
    (["report", "--out", "{tmp}/afile"], "is a file, not a folder"),
    (["import", "{tmp}/nothere.json"], "does not exist"),
    (["import", "{tmp}/afile", "--taken-at", "noon"], "--taken-at must be an ISO time"),
    (["export", "--format", "xls", "--out", "x"], "'xls' is not one of"),
    (["export", "--out", "/proc/nope"], "cannot write into /proc"),
    (["sql", "--format", "xml", "select 1"], "'xml' is not one of"),
    (["sql", "--csv", "--json", "select 1"], "choose one output format: --csv and --json"),
    (["sql", "--table", "--format", "csv", "select 1"], "choose one output format"),
    (["status", "--runs", "-1"], "-1 is not in the range"),
    (["status", "--runs", "many"], "'many' is not a valid integer"),
]


@pytest.mark.parametrize("args, words", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_values_exit_2_with_a_message(cfg, args, words):
    args = [a.replace("{tmp}", str(cfg.parent)) for a in args]
    res = CliRunner().invoke(cli, [args[0], "--config", str(cfg), *args[1:]])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception  # no traceback
    assert "Traceback" not in res.output
    assert res.exit_code == 2, res.output
    assert words in res.output, res.output
    assert not (cfg.parent / "wh").exists(), "a rejected command created the warehouse"


HUBSIM_BAD = [
    (["--port", "-5"], "-5 is not in the range"),
    (["--port", "70000"], "70000 is not in the range"),
    (["--models", "-1"], "-1 is not in the range"),
    (["--date", "someday"], "'someday' is not a date"),
    (["--speed", "-1"], "-1.0 is not in the range"),
    (["--window", "0"], "0.0 is not in the range"),
    (["--official", "Qwen"], "'Qwen' is not ORG=N"),
    (["--faults", "bogus=1"], "unknown fault kind 'bogus' in 'bogus=1'; kinds: 429, status"),
    (["--faults", "status=abc"], "status must be a whole number, got 'abc'"),
]


@pytest.mark.parametrize("args, words", HUBSIM_BAD, ids=[" ".join(a) for a, _ in HUBSIM_BAD])
def test_hubsim_bad_values_exit_2(args, words):
    res = CliRunner().invoke(cli, ["hubsim", *args])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code == 2 and words in res.output, res.output


@pytest.mark.parametrize(
    "args, words",
    [
        (["--weeks", "0"], "0 is not in the range"),
        (["--weeks", "9"], "9 is not in the range"),
        (["--faults", "bogus=1"], "--faults: unknown fault kind 'bogus'"),
        (["--dir", "/proc/demo"], "cannot create /proc/demo"),
    ],
)
def test_demo_bad_values_say_why(args, words):
    res = CliRunner().invoke(cli, ["demo", *args])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code in (1, 2) and words in res.output, res.output


def test_bad_hf_endpoint_is_blamed_on_hf_endpoint(tmp_path, monkeypatch):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"warehouse": "wh/", "families": [FAMILY]}))  # no hub.endpoint
    monkeypatch.setenv("HF_ENDPOINT", "localhost:8765")
    res = CliRunner().invoke(cli, ["collect", "--config", str(path)])
    assert res.exit_code == 2 and "HF_ENDPOINT is 'localhost:8765', not an http(s) URL" in res.output
    assert "hub.endpoint" not in res.output


@pytest.mark.parametrize(
    "args", [["sql", "select 1"], ["status"], ["status", "--json"], ["report"], ["export", "--out", "{tmp}/exp"]]
)
def test_read_only_commands_on_a_missing_warehouse_create_nothing(tmp_path, args):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"warehouse": str(tmp_path / "nonexistent" / "deep" / "wh"), "families": [FAMILY]}))
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    before = sorted(p.name for p in tmp_path.iterdir())
    res = CliRunner().invoke(cli, [args[0], "--config", str(path), *args[1:]])
    assert res.exit_code == 1, res.output
    assert (
        f"no warehouse at {tmp_path / 'nonexistent' / 'deep' / 'wh'} (check `warehouse:` in {path}, "
        "or run `tracker collect` first)"
    ) in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing created, not even reports/


@pytest.mark.trial
def test_an_unexpected_error_is_one_line_and_the_traceback_goes_to_the_log(tmp_path):
    """A real process: a warehouse whose runs/ holds a file that is not Parquet makes DuckDB fail."""
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"warehouse": "wh/", "families": [FAMILY]}))
    (tmp_path / "wh" / "runs" / "2026-08-01").mkdir(parents=True)
    (tmp_path / "wh" / "runs" / "2026-08-01" / "x.parquet").write_text("not parquet")
    log = tmp_path / "errors.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TRACKER_ERROR_LOG": str(log)}
    env.pop("TRACKER_LOG_LEVEL", None)
    res = run_tracker("status", "--config", str(path), env=env)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert res.stderr.startswith("error: unexpected error (InvalidInputException: ")
    assert f"the traceback is in {log}" in res.stderr
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "x.parquet" in text and "tracker status" in text
