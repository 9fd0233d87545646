"""No test depends on today's date: the date-sensitive tests pass with every test process's clock moved
to two far-apart dates (tests/run_on_dates.py, which can run the whole suite that way too)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the tests that read the real clock somewhere (a daemon on the real clock catching up on a warehouse
# seeded relative to it; the test the issue found depending on today), schedule arithmetic, the
# world's computed dates. Threaded daemons run on a SimClock from a fixed start: not date-sensitive.
SELECTION = [
    "tests/test_daemon.py::test_catch_up_runs_once_status_shows_it_a_second_daemon_is_refused_and_kill_9_frees_the_lock",
    "tests/test_cron.py",
    "tests/test_hubsim_world.py::test_derivatives_crossover_and_world_shape",
]


@pytest.mark.heavy
def test_date_sensitive_tests_pass_on_two_far_apart_dates():
    pytest.importorskip("time_machine", reason="needs time-machine (pip install -e '.[test]')")
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "run_on_dates.py"),
            "--",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            "-m",
            "not heavy",  # a trial among them too (a plain run would leave it out)
            *SELECTION,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [x for x in res.stdout.splitlines() if x.startswith("run_on_dates:")]
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    # two runs, each on its fake date, each passing
    assert len(lines) == 2 and all("pytest exit 0" in x for x in lines), lines
    assert "2019-03-04" in lines[0] and "2034-10-03" in lines[1], lines
    assert res.stdout.count(" passed in ") == 2 and " failed" not in res.stdout, res.stdout[-2000:]
