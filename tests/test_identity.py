"""Model identity is never lost, whatever order history is written in: a collect, then an import of
an older archive (the README's "history on day one" flow), collects with an earlier TRACKER_NOW.
Expected values are written out by hand from the archives below."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from tests.conftest import write_config
from tracker import config, jobs
from tracker.hubsim import HubSim, World
from tracker.warehouse import Warehouse

QWEN = [{"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"}]


def _rec(mid: str, downloads: int, pipeline: str, modified: str) -> dict:
    return {
        "id": mid,
        "downloads": downloads,
        "downloadsAllTime": downloads * 10,
        "likes": 1,
        "createdAt": "2025-01-01T00:00:00.000Z",
        "lastModified": modified,
        "pipeline_tag": pipeline,
    }


def _archive(path, day: str, recs: list[dict]):
    path.write_text(json.dumps({"date": day, "fetched_at": f"{day}T06:00:00Z", "models": recs}))
    return path


@pytest.mark.trial  # a collect, an import and a report with charts
def test_import_of_an_older_archive_after_a_collect_keeps_every_model_id(tmp_path):
    world = World(seed=3, models=400, official={"Qwen": 30}, now="2026-08-17T06:00:00Z")
    with HubSim(world) as hub:
        s = config.load(write_config(tmp_path, hub.endpoint, QWEN))
        # the trends are derived once, by the import below, over both (the report reads them)
        assert jobs.collect(s, now=world.now, show_progress=False, refresh_trends=False)["status"] == "ok"
    now = Warehouse(s.warehouse).query("select * from snapshots order by model_id")
    ids = list(now.model_id)
    same = now.iloc[2]  # a model whose attributes were the same a week before
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
    # an archive from a week before: that model, two with older attributes and one deleted since
    old = _archive(
        tmp_path / "old.json",
        "2026-08-10",
        [
            {
                "id": same.model_id,
                "downloads": 1,
                "downloadsAllTime": 10,
                "likes": 0,
                "createdAt": iso(same.created_at),
                "lastModified": iso(same.last_modified),
                "pipeline_tag": same.pipeline_tag,
                "library_name": same.library_name,
                "gated": {"false": False}.get(same.gated, same.gated),
            },
            _rec(ids[0], 5, "text-generation", "2025-06-01T00:00:00.000Z"),
            _rec(ids[1], 7, "text-generation", "2025-06-01T00:00:00.000Z"),
            _rec("Qwen/deleted-since", 3, "text-generation", "2025-06-01T00:00:00.000Z"),
        ],
    )
    assert jobs.import_files(s, [old])[0]["status"] == "ok"
    wh = Warehouse(s.warehouse)
    snap = wh.query("select day, model_id, author, pipeline_tag, last_modified from snapshots order by day, model_id")
    assert snap.model_id.notna().all() and snap.author.notna().all()
    first = snap[snap.day == pd.Timestamp("2026-08-10")]
    assert sorted(first.model_id) == sorted([ids[0], ids[1], same.model_id, "Qwen/deleted-since"])
    # as of 2026-08-10 the attributes are the archive's own (recorded then), not the later collect's
    mod = dict(zip(first.model_id, first.last_modified, strict=True))
    assert mod[ids[0]] == mod[ids[1]] == mod["Qwen/deleted-since"] == pd.Timestamp("2025-06-01", tz="UTC")
    assert mod[same.model_id] == same.last_modified
    latest = wh.query("select * from models_latest")
    assert latest.model_id.notna().all()
    assert sorted(latest.model_id) == sorted(ids)  # the collect of 08-17 is the family's latest snapshot
    # and the report of the archive's week works
    paths = jobs.report(s, week="2026-W33", out=tmp_path / "reports", now=world.now)
    assert any(str(p).endswith(".md") for p in paths)


@pytest.mark.slow
def test_attributes_as_of_each_snapshot_whatever_the_order_written(tmp_path):
    """Three archives of one model, imported newest first. Hand-worked expectation: each snapshot
    shows the attributes recorded at or before it; the oldest, older than all recorded when it came
    in, records its own."""
    s = config.load(write_config(tmp_path, "http://127.0.0.1:9", QWEN))
    m = "Qwen/Qwen3-8B"
    a3 = _archive(tmp_path / "a3.json", "2026-08-12", [_rec(m, 30, "text-generation", "2026-08-11T00:00:00.000Z")])
    a1 = _archive(tmp_path / "a1.json", "2026-08-08", [_rec(m, 10, "feature-extraction", "2026-08-01T00:00:00.000Z")])
    a2 = _archive(tmp_path / "a2.json", "2026-08-10", [_rec(m, 20, "feature-extraction", "2026-08-01T00:00:00.000Z")])
    for a in (a3, a1, a2):  # the snapshots are read, not the trend tables: no trend refresh
        assert jobs.import_files(s, [a], refresh_trends=False)[0]["status"] == "ok"
    snap = Warehouse(s.warehouse).query("select day, model_id, downloads_30d, pipeline_tag from snapshots order by day")
    assert list(snap.model_id) == [m, m, m]
    assert list(snap.downloads_30d) == [10, 20, 30]
    assert list(snap.pipeline_tag) == ["feature-extraction", "feature-extraction", "text-generation"]


@pytest.mark.slow
def test_collect_with_an_earlier_clock_after_a_later_one(tmp_path):
    world = World(seed=3, models=400, official={"Qwen": 30}, now="2026-08-17T06:00:00Z")
    with HubSim(world) as hub:
        s = config.load(write_config(tmp_path, hub.endpoint, QWEN))
        # the snapshots and models_latest are read, not the trend tables: no trend refresh
        assert jobs.collect(s, now=world.now, show_progress=False, refresh_trends=False)["status"] == "ok"
        earlier = dt.datetime(2026, 8, 3, 6, tzinfo=dt.UTC)
        assert jobs.collect(s, now=earlier, show_progress=False, refresh_trends=False)["status"] == "ok"
    wh = Warehouse(s.warehouse)
    n = wh.query(
        "select count(*) filter (where model_id is null) nulls, count(*) n, count(distinct day) n_days from snapshots"
    )
    assert n.nulls[0] == 0 and n.n_days[0] == 2 and n.n[0] > 0
    latest = wh.query("select distinct day from models_latest")
    assert list(latest.day) == [pd.Timestamp("2026-08-17")]
