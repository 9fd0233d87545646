"""Every shell command of the README is run, in order, from a fresh folder holding only the shipped
config.yaml, against an emulator on a free port (README's port 8765 is replaced). What the commands
print is checked against the emulator's own truth. Commands that cannot run here are listed in
EXCLUDED with the reason; a stale entry fails the test."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tracker import demo_emulator
from tracker.hubsim import World
from tracker.report.format import distinct

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()

# exact command line (as in the README) -> why it is not run here
EXCLUDED = {
    'pip install -e ".[test,scale-out]" && python -m pytest': "the test run itself (this test is part of it)",
    "HF_TOKEN=hf_... tracker daemon --config config.yaml": "needs a token for the live Hub and runs until stopped; "
    "tests/test_daemon.py runs the daemon against the emulator",
    "sudo useradd --system --home /srv/hub-tracker hub-tracker        # once; adjust paths to your install": (
        "needs root and changes the machine's users"
    ),
    "sudo install -d -m 700 -o root /etc/hub-tracker": "needs root",
    "sudo install -m 600 deploy/hub-tracker.env.example /etc/hub-tracker/hub-tracker.env": "needs root",
    "sudoedit /etc/hub-tracker/hub-tracker.env                        # set HF_TOKEN=hf_...": "interactive, needs root",
    "sudo cp deploy/hub-tracker.service /etc/systemd/system/": "needs root and systemd "
    "(tests/test_daemon_deploy.py verifies the unit)",
    "sudo systemctl daemon-reload && sudo systemctl enable --now hub-tracker": "needs root and a running systemd",
    "journalctl -u hub-tracker -f": "needs the systemd service above; follows forever",
    'tracker census                     # or schedule it: `census: "0 3 * * *"` in config.yaml (off by default)': (
        "lists the whole live Hub (the block has no emulator); tests/test_census.py runs it against the emulator"
    ),
    (
        "tracker import models.parquet --taken-at 2026-08-07T06:00:00Z   "
        "# a cfahlgren1/hub-stats dump = a census of its date"
    ): "needs a downloaded hub-stats dump; the census tests import one built from the emulator",
    "sudo apt-get install -y chromium fonts-dejavu-core systemd": "installs system packages (what .ci/run does)",
    "sudo apt-get install -y openjdk-17-jre-headless": "installs system packages (what .ci/run does)",
    'pip install -e ".[test,lint]"   # ruff, mypy, pre-commit and the stubs mypy reads': (
        "installs the project into the environment running this test"
    ),
    "bash .ci/lint                   # ruff check, ruff format --check, mypy: what CI runs": (
        "the gate itself: .ci/run runs it on the checkout before the tests"
    ),
    "ruff check --fix . && ruff format .   # fix what can be fixed mechanically": "rewrites the checkout's files",
    "pre-commit install              # the same gates on every commit (local hooks: the installed tools)": (
        "installs a git hook into the checkout"
    ),
}
# prefixes dropped before running: the test runs from this checkout, which is installed already
DROP_PREFIX = ["pip install -e . && "]


def blocks() -> list[str]:
    return re.findall(r"```(?:bash|sh)\n(.*?)```", README, flags=re.S)


def commands(block: str) -> list[str]:
    """Logical command lines (comment-only lines left out)."""
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def script(block: str, port: int) -> str:
    lines = []
    for line in block.splitlines():
        if line.strip() in EXCLUDED:
            lines.append(f"# excluded: {line}")
            continue
        for p in DROP_PREFIX:
            line = line.replace(p, "")
        for old, new in {"8765": str(port), "/data/export": "export"}.items():  # a free port; inside the folder
            line = line.replace(old, new)
        lines.append(line)
    # stop whatever a block started in the background (the walk-through's own `kill %1` does it first)
    return "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n" + "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Run every block in order in one fresh folder; returns [(block, CompletedProcess)]."""
    cwd = tmp_path_factory.mktemp("readme")
    shutil.copy(ROOT / "config.yaml", cwd / "config.yaml")
    shim = cwd / ".bin"
    shim.mkdir()
    (shim / "tracker").write_text(f'#!/bin/sh\nexec {sys.executable} -m tracker "$@"\n')
    (shim / "tracker").chmod(0o755)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}",
        "HF_HUB_DISABLE_TELEMETRY": "1",
    }
    for k in ("HF_TOKEN", "HF_ENDPOINT", "TRACKER_NOW", "TRACKER_CONFIG"):
        env.pop(k, None)
    out = []
    for block in blocks():
        res = subprocess.run(
            ["bash", "-c", script(block, free_port())], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
        )
        out.append((block, res))
    return cwd, out


def test_exclusions_are_real_readme_lines():
    lines = {c.strip() for b in blocks() for c in commands(b)}
    stale = sorted(set(EXCLUDED) - lines)
    assert not stale, f"EXCLUDED names commands that are no longer in the README: {stale}"


@pytest.mark.heavy
def test_every_readme_block_runs(ran):
    _, out = ran
    assert len(out) >= 4
    for block, res in out:
        assert res.returncode == 0, (
            f"README block failed:\n{block}\n--- stdout\n{res.stdout[-3000:]}\n--- stderr\n{res.stderr[-3000:]}"
        )
        assert "Traceback" not in res.stderr, block


def _output_of(out, words: str):
    return next(res for block, res in out if words in block)


@pytest.mark.heavy
def test_the_demo_headline_is_the_emulators_truth(ran):
    cwd, out = ran
    res = _output_of(out, "tracker demo")
    world = World(seed=demo_emulator.SEED, models=demo_emulator.MODELS, official=demo_emulator.OFFICIAL)  # rebuilt
    day = World.DOWNLOADS_CROSSOVER_DAY
    at = dt.datetime.combine(day, dt.time(6), tzinfo=dt.UTC)
    before = at - dt.timedelta(days=1)
    q, ll = world.org_downloads("Qwen", at), world.org_downloads("meta-llama", at)
    assert q > ll and world.org_downloads("Qwen", before) <= world.org_downloads("meta-llama", before)
    a, b = distinct(q, ll)
    headline = (
        f"Alibaba Qwen overtook Meta Llama in 30-day downloads on {day} (last behind on "
        f"{day - dt.timedelta(days=1)}): {a} vs {b}"
    )
    assert f"Headline of 2026-W34: {headline}." in res.stdout, res.stdout
    assert "Report: demo/reports/2026-W34.html" in res.stdout
    html = cwd / "demo" / "reports" / "2026-W34.html"
    assert headline in html.read_text() and headline in html.with_suffix(".md").read_text()
    pid = int(re.search(r"\(PID (\d+);", res.stdout).group(1))
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]
    # the three queries it prints run and find rows
    for q_line in [line.strip() for line in res.stdout.splitlines() if line.strip().startswith("tracker sql")]:
        r = subprocess.run(
            q_line.replace("tracker sql", f"{sys.executable} -m tracker sql", 1),
            shell=True,
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0 and "(no rows)" not in r.stdout, (q_line, r.stderr)


@pytest.mark.heavy
def test_the_demo_warehouse_holds_the_replayed_schedule(ran):
    cwd, _out = ran
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "tracker",
            "sql",
            "--config",
            "demo/config.yaml",
            "--format",
            "csv",
            "--no-headers",
            "select job, count(*), min(status), max(status) from runs group by job order by job",
        ],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    # 8 weeks x 7 days of the daemon's daily collect and tree, and the report of the crossover week
    assert r.stdout.splitlines() == ["collect,56,ok,ok", "report,1,ok,ok", "tree,56,ok,ok"], r.stdout + r.stderr
    wh_file = next((cwd / "demo" / "warehouse" / "runs").rglob("*.parquet"))
    rep = cwd / "demo" / "reports" / "2026-W34.html"
    assert (rep.stat().st_mode & 0o777) == (wh_file.stat().st_mode & 0o777)  # reports get the warehouse's mode


@pytest.mark.heavy
def test_the_walk_through_ends_on_a_report_with_the_crossover(ran):
    cwd, out = ran
    res = _output_of(out, "_hubsim/clock")
    world = World(seed=0)  # the walk-through's emulator: `tracker hubsim` defaults
    at = dt.datetime(2026, 8, 17, 6, tzinfo=dt.UTC)
    q, ll = world.org_downloads("Qwen", at), world.org_downloads("meta-llama", at)
    row = re.search(r"2026-08-17 │ qwen +│ llama +│ +([\d.]+) │ +([\d.]+) │", res.stdout)
    assert row, res.stdout
    assert (float(row.group(1)), float(row.group(2))) == (q, ll)
    assert "reports/2026-W34.html" in res.stdout
    html = (cwd / "reports" / "2026-W34.html").read_text()
    a, b = distinct(q, ll)
    assert (
        f"Alibaba Qwen overtook Meta Llama in 30-day downloads on 2026-08-17 (last behind on 2026-08-16): "
        f"{a} vs {b}" in html
    )
    # the emulator it started is stopped by its own `kill %1`
    assert "hubsim: stopped" in (cwd / "hubsim.log").read_text()
