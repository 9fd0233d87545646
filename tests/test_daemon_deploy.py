"""deploy/: the systemd unit parses (and verifies, where systemd-analyze exists), the environment file
holds no secret, and the crontab line parses as crontab and runs against the emulator."""

from __future__ import annotations

import configparser
import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tracker import config, cron
from tracker.daemon import DaemonLock
from tracker.hubsim import HubSim, World
from tracker.warehouse import Warehouse

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
UNIT = DEPLOY / "hub-tracker.service"
ENV = DEPLOY / "hub-tracker.env.example"
CRONTAB = DEPLOY / "crontab.example"


def unit() -> configparser.ConfigParser:
    cp = configparser.ConfigParser(
        strict=False,
        interpolation=None,
        comment_prefixes=("#", ";"),
        inline_comment_prefixes=None,
        empty_lines_in_values=False,
    )
    cp.optionxform = str  # systemd keys are case-sensitive
    cp.read_string(UNIT.read_text())
    return cp


def test_unit_file_has_what_the_daemon_needs():
    u = unit()
    assert set(u.sections()) == {"Unit", "Service", "Install"}
    s = u["Service"]
    assert s["Type"] == "simple"
    assert s["Restart"] == "on-failure"
    assert s["EnvironmentFile"].startswith("/etc/")
    assert not re.search(r"^Environment=.*HF_TOKEN", UNIT.read_text(), re.M)  # the token lives in the env file
    assert re.fullmatch(r"\S+/tracker daemon --config \S+\.yaml", s["ExecStart"])
    assert s["WorkingDirectory"].startswith("/")
    assert s.get("KillSignal", "SIGTERM") == "SIGTERM"
    timeout = re.fullmatch(r"(\d+)(min|s)?", s["TimeoutStopSec"])
    assert timeout and int(timeout[1]) * (60 if timeout[2] == "min" else 1) >= 300  # jobs get time to finish
    assert s["RestartPreventExitStatus"] == "2"  # a config mistake is not retried in a loop
    assert "network-online.target" in u["Unit"]["After"]
    assert u["Install"]["WantedBy"] == "multi-user.target"
    for line in UNIT.read_text().splitlines():  # systemd has no inline comments: '#' would be part of a value
        if "=" in line and not line.lstrip().startswith("#"):
            assert "#" not in line, line


def test_unit_file_verifies_with_systemd_analyze(tmp_path):
    analyze, tracker = shutil.which("systemd-analyze"), shutil.which("tracker")
    if not analyze or not tracker:
        pytest.skip(
            "systemd-analyze (or the tracker entry point) is not installed here; install it as .ci/run "
            "does: apt-get install -y chromium fonts-dejavu-core systemd"
        )
    text = UNIT.read_text().replace(unit()["Service"]["ExecStart"].split()[0], tracker)
    path = tmp_path / "hub-tracker.service"
    path.write_text(text)
    res = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True, timeout=60)
    if res.returncode != 0 and ("Failed to" in res.stderr and "bus" in res.stderr.lower()):
        pytest.skip(f"systemd-analyze cannot run here: {res.stderr.strip()[:200]}")
    assert res.returncode == 0, res.stderr


def test_env_example_holds_no_secret():
    pairs = dict(
        line.split("=", 1)
        for line in ENV.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    assert pairs["HF_TOKEN"] == ""
    assert not re.search(r"hf_[A-Za-z0-9]{8,}", ENV.read_text())
    assert all(re.fullmatch(r"[A-Z_][A-Z0-9_]*", k) for k in pairs)


def cron_lines() -> list[str]:
    return [
        x
        for x in CRONTAB.read_text().splitlines()
        if x.strip() and not x.lstrip().startswith("#") and not re.match(r"^[A-Z_]+=", x)
    ]


@pytest.mark.trial
def test_crontab_line_parses_and_runs_against_the_emulator(tmp_path):
    (line,) = cron_lines()
    fields = line.split(None, 5)
    expr, command = " ".join(fields[:5]), fields[5]
    cron.parse_crontab(expr)  # a valid crontab schedule with crontab's meaning
    assert cron.trigger(expr).get_next_fire_time(None, dt.datetime(2026, 8, 10, tzinfo=dt.UTC)).hour == 6
    assert "%" not in command and "tracker collect" in command
    if not shutil.which("flock") or not shutil.which("tracker"):
        pytest.skip("flock or the tracker entry point is not installed here")

    world = World(seed=4, models=1200, now="2026-08-10T06:00:00Z")
    with HubSim(world) as hub:
        home = tmp_path / "srv"
        home.mkdir()
        doc = {
            "warehouse": "warehouse/",
            "hub": {"endpoint": hub.endpoint},
            "families": [{"name": "qwen", "authors": ["Qwen"], "region": "china"}],
        }
        (home / "config.yaml").write_text(yaml.safe_dump(doc))
        env = tmp_path / "hub-tracker.env"
        env.write_text(ENV.read_text())
        # the example's paths, mapped onto this test's folders (longest first)
        local = (
            command.replace("/srv/hub-tracker/.venv/bin/tracker", shutil.which("tracker"))
            .replace("/etc/hub-tracker/hub-tracker.env", str(env))
            .replace("/srv/hub-tracker", str(home))
        )
        clean_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # cron's environment is that bare
        res = subprocess.run(["/bin/sh", "-c", local], env=clean_env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, (res.stdout, res.stderr, (home / "collect.log").read_text())
        assert "ok: 1 family stored" in (home / "collect.log").read_text()
        wh = Warehouse(config.load(home / "config.yaml").warehouse)
        assert list(wh.query("select status from runs")["status"]) == ["ok"]

        # while a daemon holds the warehouse, the cron run is skipped rather than run twice
        lock = DaemonLock(wh.root)
        lock.acquire()
        try:
            res = subprocess.run(["/bin/sh", "-c", local], env=clean_env, capture_output=True, text=True, timeout=60)
        finally:
            lock.release()
        assert res.returncode == 1
        assert len(wh.query("select * from runs")) == 1
