"""Shared fixtures: a real emulated Hub on 127.0.0.1 and configs that point the tracker at it."""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

if TYPE_CHECKING:  # pytest's main process (no test runs there) need not import pandas
    import pandas as pd

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


# left out of the default run (`python -m pytest` without -m); `.ci/run` runs them (README "Tests")
LEFT_OUT = ("trial", "heavy")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """The tiers of the README's "Tests". A `trial` or `heavy` test is also `slow` (so `-m "not slow"`, the
    edit-test loop, leaves it out). A run without -m (the default run) leaves out the trials and the heavy
    tests; a run with -m selects by its expression alone (`-m trial`, `-m heavy`, `-m "not heavy"`: every
    test but the heavy ones). A -m on the command line would replace one in addopts, hence this hook."""
    left = {item for item in items if any(item.get_closest_marker(name) for name in LEFT_OUT)}
    for item in left:
        item.add_marker(pytest.mark.slow)
    if left and not config.getoption("markexpr"):
        config.hook.pytest_deselected(items=[item for item in items if item in left])
        items[:] = [item for item in items if item not in left]


def pytest_terminal_summary(terminalreporter, config):
    """Say what a run without -m (the default run) leaves out, and how to run it."""
    if not config.getoption("markexpr") and not hasattr(config, "workerinput"):
        terminalreporter.write_line(
            "a run without -m leaves out the tests marked trial or heavy: `python -m pytest -m trial` and "
            '`-m heavy` run them, `-m "not heavy"` every test but the heavy ones (README "Tests")'
        )


def pytest_collection_finish(session):
    """What the run has imported and collected lives to its end: moved out of the cyclic collector's
    reach (gc.freeze), so that neither its collections during the tests nor pytest's five at the end of
    the session walk the libraries' objects again (a sixth of a worker's GC time goes, ~1 % of its CPU)."""
    gc.freeze()
