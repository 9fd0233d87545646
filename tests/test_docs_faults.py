"""The fault examples of docs/hubsim.md, README.md and `tracker hubsim --help` fire on the shipped
config: each selects at least one request that a collect and a tree of config.yaml's families make
against the default emulator (recorded from a real collect; the tree asks model info of every listed
official model)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from tracker import config, jobs
from tracker.hubsim import FaultPlan, HubSim, World
from tracker.hubsim.command import EPILOG
from tracker.warehouse import Warehouse

pytestmark = pytest.mark.slow  # a 20,000-model world and a collect of the shipped config

DOCS = {
    "docs/hubsim.md": (ROOT / "docs" / "hubsim.md").read_text(),
    "README.md": (ROOT / "README.md").read_text(),
    "hubsim --help": EPILOG,
}


def examples() -> list[tuple[str, str]]:
    out = []
    for where, text in DOCS.items():
        out += [(where, s) for s in re.findall(r'--faults "([^"]+)"', text)]
        out += [
            (where, s)
            for s in re.findall(r"^\| `((?:429|status|hang|truncate|html|delay|corrupt)[^`]*)` \|", text, flags=re.M)
        ]
    return out


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shipped")
    shipped = (ROOT / "config.yaml").read_text()
    (tmp / "config.yaml").write_text(shipped.replace("warehouse: warehouse/", f"warehouse: {tmp / 'wh'}"))
    world = World(seed=0, now="2026-08-17T06:00:00Z")
    with HubSim(world) as hub:
        s = config.load(tmp / "config.yaml")
        from dataclasses import replace

        s = replace(s, hub=replace(s.hub, endpoint=hub.endpoint))
        assert jobs.collect(s, now=world.now, show_progress=False, refresh_trends=False)["status"] == "ok"
        listing = [dict(r) for r in hub.stats.requests if r["route"] == "listing"]
    members = Warehouse(s.warehouse).latest_members([f.name for f in s.families])
    info = [
        {"route": "info", "path": f"/api/models/{m}", "model": m, "author": m.split("/")[0], "page": None}
        for ids in members.values()
        for m in ids or ()
    ]
    assert len(listing) == 9 and len(info) > 500
    return listing + info


def test_there_are_examples():
    assert len(examples()) >= 10


@pytest.mark.parametrize("where, spec", examples(), ids=[f"{w}: {s}" for w, s in examples()])
def test_fault_example_fires_on_the_shipped_config(stream, where, spec):
    plan = FaultPlan.parse(spec, seed=0)
    fired = 0
    for req in stream:
        delay, fault = plan.decide(dict(req))
        fired += bool(delay) or fault is not None
    assert fired, f"{where}: `{spec}` selects none of the requests a collect and tree of config.yaml make"
