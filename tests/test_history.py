"""History on day one: import archived listings, backfill from creation dates, export for other engines.
(The import of the real archive, ../shared/realdata, is in test_trends_real.py, which shares that import.)"""

from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tests.conftest import write_config
from tracker import config, jobs
from tracker.cli import cli
from tracker.hubsim import HubSim, World
from tracker.warehouse import Warehouse

REL = {"finetune": "finetunes", "adapter": "adapters", "quantized": "quantizations", "merge": "merges"}


# ---------------------------------------------------------------- import


@pytest.mark.slow
def test_import_formats_quarantine_and_taken_at(tmp_path):
    p = write_config(tmp_path, "http://127.0.0.1:9", [{"name": "qwen", "authors": ["Qwen"], "region": "china"}])
    recs = [
        {"id": "Qwen/A", "downloads": 10, "likes": 1, "createdAt": "2025-01-01T00:00:00.000Z"},
        {"id": "Qwen/B", "downloads": 5, "likes": "2"},
        {"downloads": 7},
        {"id": "other/x", "downloads": 99},
    ]
    (tmp_path / "a.json").write_text(json.dumps(recs))
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in recs))
    pq.write_table(
        pd.DataFrame(
            {
                "id": ["Qwen/A", "Qwen/C"],
                "downloads": [3, 4],
                "likes": [0, 1],
                "createdAt": pd.to_datetime(["2025-01-01", "2025-02-01"], utc=True),
            }
        ).pipe(__import__("pyarrow").Table.from_pandas),
        tmp_path / "c.parquet",
    )
    r = CliRunner().invoke(cli, ["import", "--config", str(p), str(tmp_path / "a.json")])
    assert r.exit_code == 1 and "--taken-at" in r.output
    s = config.load(p)
    out = []
    for name, day in (("a.json", 1), ("b.jsonl", 2), ("c.parquet", 3)):  # no trend table is read: no derive
        at = dt.datetime(2026, 8, day, 6, tzinfo=dt.UTC)
        out += jobs.import_files(s, [tmp_path / name], taken_at=at, refresh_trends=False)
    assert [r["status"] for r in out] == ["failed", "failed", "ok"]  # 1 bad of 2 qwen records > 1%
    wh = Warehouse(s.warehouse)
    fd = wh.query("select day, models, downloads_30d from family_daily order by day")
    assert list(fd.models) == [2]  # only the Parquet day stored its family
    q = wh.query("select * from quarantine order by run_id, reason")
    assert set(q.reason) == {"likes is str '2', expected a non-negative integer", "no id"}
    snap = wh.query("select model_id, created_at from snapshots order by model_id")
    assert list(snap.model_id) == ["Qwen/A", "Qwen/C"]
    assert snap.created_at[1] == pd.Timestamp("2025-02-01", tz="UTC")


# ---------------------------------------------------------------- backfill


@pytest.mark.trial
def test_backfill_matches_the_truth_and_finds_the_derivative_crossover(tmp_path):
    # 2,000 models, 68 of them official (a listing request each): seed 8's derivative curves cross
    # near their calibrated day (2025-02-10; this world's realised day is 2025-02-16)
    world = World(seed=8, models=2000, official={"meta-llama": 18, "Qwen": 50}, now="2026-08-10T06:00:00Z")
    fams = [
        {"name": "llama", "label": "Meta Llama", "authors": ["meta-llama"], "region": "us"},
        {"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"},
    ]
    with HubSim(world) as hub:
        s = config.load(write_config(tmp_path, hub.endpoint, fams))
        # no trend derive here: the backfill derives the trend tables once it has stored its days
        assert jobs.collect(s, now=world.now, show_progress=False, refresh_trends=False)["status"] == "ok"
        members = Warehouse(s.warehouse).latest_members(["llama", "qwen"])
        hub.stats.reset()
        run = jobs.backfill(s, since=dt.date(2024, 6, 1), now=world.now, show_progress=False)
        assert run["status"] == "ok", run["error"]
        listing = [r for r in hub.stats.requests if r["route"] == "listing"]
    now_snap = world.snapshot()
    alive_now = set(now_snap.id) | set(world.renames.old_id if len(world.renames) else [])
    # requests: one listing per official model, ⌈children/1000⌉ pages each
    kids_now = world.children_counts().set_index("model_id")
    official = [m for ids in members.values() for m in ids]
    n_children = dict(
        zip(official, kids_now.reindex(official)[list(REL)].fillna(0).sum(axis=1).astype(int), strict=True)
    )
    assert len(listing) == sum(max(1, math.ceil(n / 1000)) for n in n_children.values())
    fd = Warehouse(s.warehouse).query("select * from family_daily where source = 'backfill'")
    fd = fd.set_index([fd.day.dt.date, fd.family])
    for d in (dt.date(2024, 9, 1), dt.date(2025, 1, 1), dt.date(2025, 6, 15), dt.date(2026, 3, 1)):
        end = dt.datetime.combine(d + dt.timedelta(days=1), dt.time(), dt.UTC) - dt.timedelta(seconds=1)
        then = world.snapshot(at=end)
        deleted = set(world.deleted(at=world.now).id)  # gone by now: a backfill cannot see them
        for name, ids in members.items():
            kids = then[then.base_models.map(lambda ps, ids=ids: any(p in ids for p in ps))]
            lost = kids[kids.id.isin(deleted)]
            for rel, col in REL.items():
                # a merge of two official parents counts under each, as childrenModelCount does
                n_all = sum(sum(p in ids for p in ps) for ps in kids[kids.base_relation == rel].base_models)
                n_lost = sum(sum(p in ids for p in ps) for ps in lost[lost.base_relation == rel].base_models)
                assert fd.loc[(d, name), col] == n_all - n_lost, (d, name, rel)
            created = pd.to_datetime(now_snap.set_index("id").loc[ids, "created_at"], utc=True)
            assert fd.loc[(d, name), "models"] == int((created <= pd.Timestamp(end)).sum())
    cx = Warehouse(s.warehouse).query(
        "select * from crossovers where metric = 'derivatives' and family = 'qwen' and overtaken = 'llama'"
    )

    # The crossing as a backfill can see it: from the derivatives alive now, counted by creation day
    # (the world's own day also counts derivatives deleted since, so the two may differ by days).
    def series(ids):
        kids = now_snap[now_snap.base_models.map(lambda ps: any(p in ids for p in ps))]
        weights = kids.base_models.map(lambda ps: sum(p in ids for p in ps))
        created = pd.to_datetime(kids.created_at, utc=True).dt.tz_localize(None).dt.normalize()
        per_day = weights.groupby(created).sum()
        days = pd.date_range("2024-06-01", "2026-08-10")
        return per_day.reindex(pd.date_range(per_day.index.min(), days[-1]), fill_value=0).cumsum().reindex(days)

    q, ll = series(members["qwen"]), series(members["llama"])
    ahead = (q > ll).to_numpy()
    flips = [q.index[i].date() for i in range(1, len(q)) if ahead[i] and not ahead[i - 1]]
    assert sorted(cx.day.dt.date) == flips and flips
    assert abs((flips[-1] - world.derivatives_crossover_day).days) <= 21, (flips, world.derivatives_crossover_day)
    assert alive_now  # the world really has models now


# ---------------------------------------------------------------- export


@pytest.mark.trial
def test_export_reads_back_row_for_row(tmp_path):
    world = World(seed=8, models=400, now="2026-08-10T06:00:00Z")  # both families have models in it
    fams = [
        {"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"},
        {"name": "llama", "label": "Meta Llama", "authors": ["meta-llama"], "region": "us"},
    ]
    with HubSim(world) as hub:
        path = write_config(tmp_path, hub.endpoint, fams)
        s = config.load(path)
        for i in range(2):  # two days: two partitions, and a downloads_day (NULL on the first day)
            world.set_time(dt.datetime(2026, 8, 10 + i, 6, tzinfo=dt.UTC))
            # the export reads snapshots and family_daily, never the trend tables: no derive
            assert jobs.collect(s, now=world.now, show_progress=False, refresh_trends=False)["status"] == "ok"
    wh = Warehouse(s.warehouse)
    for fmt in ("parquet", "csv"):
        out = tmp_path / f"export-{fmt}"
        res = CliRunner().invoke(cli, ["export", "--config", str(path), "--format", fmt, "--out", str(out)])
        assert res.exit_code == 0, res.output
        assert sorted(p.name for p in (out / "snapshots").iterdir()) == ["day=2026-08-10", "day=2026-08-11"]
        for view in ("snapshots", "family_daily"):
            want = wh.query(f"select * from {view} order by all")
            reader = "read_parquet" if fmt == "parquet" else "read_csv"
            cols = ", ".join(want.columns)
            got = wh.query(
                f"select {cols} from (select * replace (day::date as day) from "
                f"{reader}('{out}/{view}/*/*.{fmt}', hive_partitioning = true)) order by all"
            )
            pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=False)
    # pandas with pyarrow reads the hive layout too
    got = pd.read_parquet(tmp_path / "export-parquet" / "family_daily", engine="pyarrow")
    want = wh.query("select * from family_daily")
    assert len(got) == len(want) and set(want.family) == {"qwen", "llama"}
    got["day"] = pd.to_datetime(got["day"].astype(str))
    merged = want.merge(got, on=["day", "family"], suffixes=("", "_x"))
    assert len(merged) == len(want)
    for col in ("models", "downloads_30d", "downloads_all_time", "likes"):
        assert (merged[col] == merged[f"{col}_x"]).all(), col
