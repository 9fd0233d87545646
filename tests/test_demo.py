"""`tracker demo` in a fresh process leaves no process behind on error, Ctrl-C or SIGKILL, and never
deletes a folder it did not write. (Its full run, headline against the emulator's truth, is in
tests/test_readme.py: the README's first command.)"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_DISABLE_TELEMETRY": "1"}


def _tracker(*args, cwd, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "tracker", *args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout
    )


def _gone(pid: int, wait_s: float = 30.0) -> bool:
    """The process has exited (a zombie waiting for a reaper counts as gone). The wait ends as soon as it
    has; its bound is generous because a loaded machine (load 9 on 2 cores) once took over 8 s."""
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


def _start_demo(tmp_path, *args):
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "demo", *args],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen += line
        if "emulator: http" in line or not line:
            break
    return proc, _emulator_pid(seen)


def _log_events(folder: Path) -> list[str]:
    """The events of the demo's own log (demo/demo.log, JSON lines) so far."""
    path = folder / "demo.log"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(x)["event"] for x in lines if x.startswith("{")]


def _wait_for_event(proc: subprocess.Popen, folder: Path, event: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while event not in _log_events(folder):
        assert proc.poll() is None and time.monotonic() < deadline, f"no {event!r} in demo.log: {_log_events(folder)}"
        time.sleep(0.01)


@pytest.mark.trial
def test_demo_ctrl_c_stops_the_emulator(tmp_path):
    proc, pid = _start_demo(tmp_path, "--weeks", "2")
    # in the middle of a job (where a KeyboardInterrupt would land in a DuckDB query or a publish): the
    # job finishes, nothing else starts, the emulator is stopped and the demo says it was interrupted
    _wait_for_event(proc, tmp_path / "demo", "collect started")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "interrupted; the emulator was stopped" in err and "Traceback" not in err
    assert _gone(pid)
    events = _log_events(tmp_path / "demo")
    assert events.count("collect started") == 1 and events[-1] == "collect finished", events


@pytest.mark.trial
def test_demo_killed_outright_takes_the_emulator_with_it(tmp_path):
    proc, pid = _start_demo(tmp_path, "--weeks", "2")
    proc.kill()
    proc.wait(timeout=10)
    assert _gone(pid), "the emulator outlived a SIGKILLed demo"


@pytest.mark.trial
def test_demo_error_stops_the_emulator_and_says_why(tmp_path):
    # every Qwen listing answers 404: the first job of the replay, the collect of 2026-08-10 (the first
    # day of the last two weeks), is partial, and the demo stops there
    res = _tracker("demo", "--weeks", "2", "--faults", "status=404,route=listing,author=Qwen", cwd=tmp_path)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert re.search(r"the collect of 2026-08-10 06:00 UTC was partial: qwen: HTTP 404", res.stderr), res.stderr
    assert _log_events(tmp_path / "demo").count("collect started") == 1  # nothing ran after the failed job
    assert "the emulator was stopped" in res.stderr
    assert _gone(_emulator_pid(res.stdout))


def test_demo_refuses_a_folder_it_did_not_write(tmp_path, monkeypatch):
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "notes.txt").write_text("mine")
    monkeypatch.chdir(tmp_path)  # the default --dir, demo/ (it refuses before it starts anything: no process)
    res = CliRunner().invoke(cli, ["demo"])
    assert res.exit_code == 1 and "already holds files that the demo did not write" in res.output
    assert (tmp_path / "demo" / "notes.txt").read_text() == "mine"


def test_a_first_ctrl_c_waits_for_the_running_job_and_a_second_interrupts_at_once():
    from tracker.demo import CtrlC

    ambient = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in `tracker demo` on a terminal
    ctrl_c = CtrlC()
    try:
        ctrl_c.check()  # nothing asked yet
        os.kill(os.getpid(), signal.SIGINT)  # noted, not raised: the job in progress goes on
        assert ctrl_c.asked.is_set()
        with pytest.raises(KeyboardInterrupt):
            ctrl_c.check()  # between two jobs
        with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C: at once (Python runs the handler as kill returns)
            os.kill(os.getpid(), signal.SIGINT)
    finally:
        ctrl_c.restore()
        restored = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, ambient)
    assert restored is signal.default_int_handler
