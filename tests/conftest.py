"""Shared fixtures: a real emulated Hub on 127.0.0.1 and configs that point the tracker at it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.pop("HF_HUB_OFFLINE", None)
os.environ.pop("HF_TOKEN", None)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def write_config(tmp_path: Path, endpoint: str, families: list[dict], **hub) -> Path:
    doc = {"warehouse": str(tmp_path / "warehouse"), "hub": {"endpoint": endpoint, **hub}, "families": families}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_tracker(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m tracker ARGS` as a real process started in the checkout (its tracker is the one imported),
    output captured as text; `env` replaces the environment (default: this process's)."""
    return subprocess.run(
        [sys.executable, "-m", "tracker", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def family_truth(snapshot: pd.DataFrame, fam: dict) -> dict:
    """A family's sums computed straight from the world's truth, with the family rules written out here."""
    authors = fam["authors"]
    sel = snapshot[snapshot["author"].isin(authors)]
    if fam.get("search"):
        sel = sel[sel["id"].str.lower().str.contains(fam["search"].lower(), regex=False)]
    names = sel["id"].str.split("/", n=1).str[1]
    if fam.get("include"):
        sel = sel[names.map(lambda n: re.search(fam["include"], n) is not None)]
        names = sel["id"].str.split("/", n=1).str[1]
    if fam.get("exclude"):
        sel = sel[names.map(lambda n: re.search(fam["exclude"], n) is None)]

    def total(col):
        vals = sel[col].dropna()
        return int(vals.sum()) if len(vals) else None

    return {
        "models": len(sel),
        "downloads_30d": total("downloads"),
        "downloads_all_time": total("downloads_all_time"),
        "likes": total("likes"),
    }


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The team's shared folder (real Hub listings); a plain clone has none, and the test says so."""
    if not (SHARED / "realdata").is_dir():
        pytest.skip(
            f"needs the real Hub data in ../shared/realdata, which is not beside this checkout (looked in {SHARED})"
        )
    return SHARED


@pytest.fixture(scope="module")
def stock_hf_client():
    """The unmodified huggingface_hub client (tracker.hub installs a pacing client factory when it is
    imported): the emulator's own tests check the Hub's behaviour as the stock client sees it."""
    from tracker.hubsim.testing import stock_client

    with stock_client():
        yield


# Two workers take whole files (--dist loadfile) as they free up: a long file handed out last keeps one
# worker busy while the other idles. So the workers run the files longest first, by each test's seconds in
# the last run that ran it (kept in pytest's cache, .pytest_cache/); a test not timed yet counts as
# UNTIMED_S (slow-marked: UNTIMED_SLOW_S), which also orders a first run on a fresh clone.
TEST_SECONDS = "tracker/test_seconds"
UNTIMED_S, UNTIMED_SLOW_S = 0.2, 3.0
_timed: dict[str, float] = {}


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist: every worker orders by the same timings, read once here (a run finishing meanwhile in the same
    checkout would otherwise give the workers different orders, which xdist refuses)."""
    cache = getattr(node.config, "cache", None)
    node.workerinput[TEST_SECONDS] = cache.get(TEST_SECONDS, {}) if cache is not None else {}


def pytest_runtest_logreport(report):
    """Times each test (setup + call + teardown, module fixtures included) where all reports arrive: the
    controller under xdist, the one process with -n 0."""
    _timed[report.nodeid] = _timed.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    config = session.config
    cache = getattr(config, "cache", None)
    if _is_worker(config) or cache is None or not _timed:
        return
    seconds = {**cache.get(TEST_SECONDS, {}), **{k: round(v, 3) for k, v in _timed.items()}}
    cache.set(TEST_SECONDS, {k: v for k, v in seconds.items() if (config.rootpath / k.split("::")[0]).exists()})


def _longest_files_first(items, seconds: dict[str, float]) -> None:
    cost: dict[str, float] = {}
    for item in items:
        est = seconds.get(item.nodeid)
        if est is None:
            est = UNTIMED_SLOW_S if item.get_closest_marker("slow") else UNTIMED_S
        cost[item.nodeid.split("::")[0]] = cost.get(item.nodeid.split("::")[0], 0.0) + est
    # stable: each file's tests keep their order and stay together
    items.sort(key=lambda item: -cost[item.nodeid.split("::")[0]])


def pytest_collection_modifyitems(config, items):
    """Tests marked heavy run only when asked for by name (`-m heavy`, or any -m expression that names
    the marker): a plain run and `-m "not slow"` leave them out (a -m on the command line would
    replace one in addopts). Under xdist, files are then ordered longest first (above)."""
    if "heavy" not in (config.getoption("markexpr") or ""):
        heavy = [item for item in items if item.get_closest_marker("heavy")]
        if heavy:
            config.hook.pytest_deselected(items=heavy)
            items[:] = [item for item in items if not item.get_closest_marker("heavy")]
    if _is_worker(config):
        _longest_files_first(items, config.workerinput.get(TEST_SECONDS, {}))
