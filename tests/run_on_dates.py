#!/usr/bin/env python3
"""Run tests with the clock of every test process moved to other dates, to prove no test depends on today.

    python tests/run_on_dates.py                          # every test but the heavy ones, on two far-apart dates
    python tests/run_on_dates.py --dates 2031-05-17T09:30:00 -- tests/test_daemon.py -m "not slow"

Each run starts pytest with tests/fake_clock/ on PYTHONPATH: its sitecustomize moves the wall clock
(time.time, datetime.now, date.today; time-machine) of every Python process of the run (pytest's
workers, `tracker daemon` subprocesses, forked collects) by the same offset, ticking, so they agree
with each other; monotonic time stays real, so timeouts keep their length. Each child's clock is
checked before the tests run. Prints one line per date; exits 1 if a run failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAKE_CLOCK = Path(__file__).resolve().parent / "fake_clock"
# far apart, and far from the dates the tests' worlds and fixed clocks use (2022-2026)
DATES = ("2019-03-04T05:06:07", "2034-10-03T17:05:00")


def faked_env(when: datetime) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TRACKER_NOW"}
    path = os.pathsep.join(p for p in (str(FAKE_CLOCK), env.get("PYTHONPATH", "") or str(ROOT)) if p)
    real_now = time.time() - float(os.environ.get("TRACKER_TEST_CLOCK_OFFSET_S") or 0)  # if run under itself
    return {**env, "PYTHONPATH": path, "TRACKER_TEST_CLOCK_OFFSET_S": f"{when.timestamp() - real_now:.3f}"}


def seen_date(env: dict[str, str]) -> datetime:
    """The UTC time a Python child sees under the fake clock (to prove it took effect)."""
    out = subprocess.run(
        [sys.executable, "-c", "import datetime; print(datetime.datetime.now(datetime.timezone.utc).isoformat())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return datetime.fromisoformat(out.strip())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dates", nargs="+", default=list(DATES), help="UTC times to start the clock at (ISO)")
    ap.add_argument(
        "pytest_args",
        nargs="*",
        help='passed to pytest (after --); default: -m "not heavy" (the default run and the trials)',
    )
    args = ap.parse_args(argv)
    failed = []
    for text in args.dates:
        when = datetime.fromisoformat(text).replace(tzinfo=UTC)
        env = faked_env(when)
        seen = seen_date(env)
        if abs((seen - when).total_seconds()) > 600:
            print(f"run_on_dates: the fake clock did not take: asked for {when}, a child saw {seen}", file=sys.stderr)
            return 2
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="run-on-dates-") as tmp:
            # its own --basetemp: pytest's clean-up of old temp folders reads the (fake) clock
            rc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    f"--basetemp={tmp}/t",
                    "-W",
                    "ignore::pytest.PytestAssertRewriteWarning",  # sitecustomize imported it
                    *(args.pytest_args or ["-m", "not heavy"]),
                ],
                cwd=ROOT,
                env=env,
            ).returncode
        print(
            f"run_on_dates: clock at {when:%Y-%m-%d %H:%M} UTC (a child saw {seen:%Y-%m-%d %H:%M}): "
            f"pytest exit {rc} in {time.monotonic() - t0:.1f} s",
            flush=True,
        )
        if rc != 0:
            failed.append(text)
    if failed:
        print(f"run_on_dates: FAILED on {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
