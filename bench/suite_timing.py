"""A pytest plugin for `bench/suite.py`: one line per test (process CPU seconds, children included; wall
seconds; the xdist worker; its tier: "heavy", "trial", "slow" or "-" (README "Tests"); the test id) appended to the file
named by SUITE_TIMING_LOG. Loaded with `-p suite_timing` (bench/ on PYTHONPATH); inert when the variable
is unset."""

from __future__ import annotations

import os
import resource
import time

import pytest


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    log = os.environ.get("SUITE_TIMING_LOG")
    cpu, wall = _cpu(), time.perf_counter()
    yield
    if log:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "-")
        tier = next((m for m in ("heavy", "trial", "slow") if item.get_closest_marker(m)), "-")
        with open(log, "a") as fh:
            fh.write(f"{_cpu() - cpu:.3f}\t{time.perf_counter() - wall:.3f}\t{worker}\t{tier}\t{item.nodeid}\n")
