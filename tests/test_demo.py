"""`tracker demo`, run as a user runs it (a fresh process): the headline is the emulator's truth, the
report and the demo's warehouse are there, and no process is left behind on success, error or Ctrl-C."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracker import demo, trends
from tracker.hubsim import World

ROOT = Path(__file__).resolve().parents[1]


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_DISABLE_TELEMETRY": "1"}


def _tracker(*args, cwd, timeout=120):
    return subprocess.run([sys.executable, "-m", "tracker", *args], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=timeout)


def _gone(pid: int, wait_s: float = 8.0) -> bool:
    """The process has exited (a zombie waiting for a reaper counts as gone)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False


def _emulator_pid(text: str) -> int:
    m = re.search(r"emulator: http://127\.0\.0\.1:\d+ \(PID (\d+)", text)
    assert m, text
    return int(m.group(1))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("fresh")
    t0 = time.monotonic()
    res = _tracker("demo", cwd=cwd)
    return cwd, res, time.monotonic() - t0


@pytest.mark.slow
def test_demo_headline_is_the_emulators_truth(demo_run):
    cwd, res, seconds = demo_run
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    # the truth, from the emulator's closed-form world (same seed and size as the demo's emulator)
    world = World(seed=demo.SEED, models=demo.MODELS, official=demo.OFFICIAL)
    day = World.DOWNLOADS_CROSSOVER_DAY
    at = dt.datetime.combine(day, dt.time(6), tzinfo=dt.UTC)
    before = at - dt.timedelta(days=1)
    q, ll = world.org_downloads("Qwen", at), world.org_downloads("meta-llama", at)
    assert q > ll and world.org_downloads("Qwen", before) <= world.org_downloads("meta-llama", before)
    headline = f"Alibaba Qwen overtook Meta Llama in 30-day downloads on {day} ({trends.human(q)} vs {trends.human(ll)})"
    assert f"Headline of 2026-W34: {headline}." in res.stdout
    html = cwd / "demo" / "reports" / "2026-W34.html"
    assert "Report: demo/reports/2026-W34.html" in res.stdout  # relative to where it ran
    assert headline in html.read_text() and headline in html.with_suffix(".md").read_text()
    # the emulator it started is gone
    assert _gone(_emulator_pid(res.stdout))


@pytest.mark.slow
def test_demo_folder_is_queryable_with_the_printed_queries(demo_run):
    cwd, res, _ = demo_run
    queries = [line.strip() for line in res.stdout.splitlines() if line.strip().startswith("tracker sql")]
    assert len(queries) == 3
    for q in queries:
        out = subprocess.run(q.replace("tracker sql", f"{sys.executable} -m tracker sql", 1), shell=True, cwd=cwd,
                             env=_env(), capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and "Traceback" not in out.stderr, (q, out.stderr)
        assert "(no rows)" not in out.stdout, q
    runs = _tracker("sql", "--config", "demo/config.yaml", "--format", "csv", "--no-headers",
                    "select job, count(*), min(status), max(status) from runs group by job order by job", cwd=cwd)
    # 8 weeks x 7 days of collect and tree (the daemon's daily schedule), and the report run
    assert runs.stdout.splitlines() == ["collect,56,ok,ok", "report,1,ok,ok", "tree,56,ok,ok"], runs.stdout
    # report files get the mode the warehouse's files get
    wh_file = next((cwd / "demo" / "warehouse" / "runs").rglob("*.parquet"))
    rep = cwd / "demo" / "reports" / "2026-W34.html"
    assert (rep.stat().st_mode & 0o777) == (wh_file.stat().st_mode & 0o777)


def _start_demo(tmp_path, *args):
    proc = subprocess.Popen([sys.executable, "-m", "tracker", "demo", *args], cwd=tmp_path, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen += line
        if "emulator: http" in line or not line:
            break
    return proc, _emulator_pid(seen)


def test_demo_ctrl_c_stops_the_emulator(tmp_path):
    proc, pid = _start_demo(tmp_path, "--weeks", "2")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "interrupted; the emulator was stopped" in err and "Traceback" not in err
    assert _gone(pid)


def test_demo_killed_outright_takes_the_emulator_with_it(tmp_path):
    proc, pid = _start_demo(tmp_path, "--weeks", "2")
    proc.kill()
    proc.wait(timeout=10)
    assert _gone(pid), "the emulator outlived a SIGKILLed demo"


def test_demo_error_stops_the_emulator_and_says_why(tmp_path):
    # from the 3rd Qwen listing on, the emulator answers 404: the third collect is partial
    res = _tracker("demo", "--weeks", "2", "--faults", "status=404,route=listing,author=Qwen,nth=3", cwd=tmp_path)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert re.search(r"the collect of 2026-08-12 06:00 UTC was partial: qwen: HTTP 404", res.stderr), res.stderr
    assert "the emulator was stopped" in res.stderr
    assert _gone(_emulator_pid(res.stdout))


def test_demo_refuses_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "notes.txt").write_text("mine")
    res = _tracker("demo", cwd=tmp_path)
    assert res.returncode == 1 and "already holds files that the demo did not write" in res.stderr
    assert (tmp_path / "demo" / "notes.txt").read_text() == "mine"
