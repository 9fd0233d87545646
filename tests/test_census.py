"""`tracker census` against the emulator's tree world: attribution equals the world's truth (worked out
while the world was generated, without any graph search), the awkward cases are counted, a stopped
or killed census leaves nothing visible and resumes, and a hub-stats dump imports as a census."""

from __future__ import annotations

import datetime as dt
import functools
import math
import multiprocessing
import os
import shutil
import signal
import time
from pathlib import Path

import huggingface_hub
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import ROOT, write_config
from tracker import config, jobs
from tracker.hubsim.testing import running_hub
from tracker.hubsim.tree import TreeWorld
from tracker.jobs.census import CHUNK_PAGES
from tracker.warehouse import Warehouse

NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
FAMILIES = yaml.safe_load((ROOT / "config.yaml").read_text())["families"]  # the shipped rules
PAGE = 50  # 40 pages: the stopped (7 pages) and the killed census (past a staging chunk of 25) end early
CYCLES, DANGLING = 2, 6


@pytest.fixture(scope="module")
def world():
    """About 2,000 served models, six generations deep under Qwen, with models in several families."""
    return TreeWorld(models=1000, seed=3, cycles=CYCLES, dangling=DANGLING)


@pytest.fixture
def hub(world):
    with running_hub(world, page_size=PAGE, quota_anonymous=100_000, quota_token=100_000) as h:
        yield h


def _settings(tmp_path, hub):
    return config.load(write_config(tmp_path, hub.endpoint, FAMILIES))


# `-m "not slow"` keeps the census against the truth and the report (one census between them); the
# trials of several jobs each (stop and resume, kill, import, backfill, the CLI) are marked slow.


@pytest.fixture(scope="module")
def censused(tmp_path_factory, world):
    """One census of the world, for the tests that only read it (a report adds only its own run)."""
    tmp = tmp_path_factory.mktemp("census")
    with running_hub(world, page_size=PAGE, quota_anonymous=100_000, quota_token=100_000) as hub:
        s = _settings(tmp, hub)
        run = jobs.census(s, now=NOW, show_progress=False)
    return s, run


@functools.cache
def _truth(world: TreeWorld, name: str) -> pd.DataFrame:
    """The world's truth for the shipped families (`truth`, `new_derivatives` or `attributed`), worked
    out once per world (~0.1 s each; the world never changes): callers must not change the frame."""
    return getattr(world, name)(FAMILIES)


def _check_against_truth(wh: Warehouse, world: TreeWorld):
    fe = wh.read("SELECT * FROM family_ecosystem").set_index("family")
    truth = _truth(world, "truth").set_index("family")
    assert list(fe.index) == [f["name"] for f in FAMILIES]
    for col in truth.columns:
        assert fe[col].astype("float").fillna(-1).to_dict() == truth[col].astype("float").fillna(-1).to_dict(), col
    assert truth.loc["qwen", "max_depth"] >= 5 and truth.loc["llama", "descendants"] > 0  # deep, non-trivial
    nd = _truth(world, "new_derivatives")
    ds = wh.read("SELECT month, family, new_derivatives FROM derivative_share")
    got = {(pd.Timestamp(m).date(), f): n for m, f, n in ds.itertuples(index=False)}
    assert got == {(m, f): n for m, f, n in nd.itertuples(index=False)}
    shares = wh.read("SELECT month, family, share, share_of_hub FROM derivative_share")
    served = world.snapshot()
    att = _truth(world, "attributed")
    month = lambda t: t.dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.date  # noqa: E731
    derived = served[served.base_models.map(len) > 0]
    hub_n = derived.groupby(month(derived.created_at)).size()
    tracked_n = att.drop_duplicates("model_id").groupby(month(att.drop_duplicates("model_id").created_at)).size()
    for m, f, share, of_hub in shares.itertuples(index=False):
        m = pd.Timestamp(m).date()
        assert share == pytest.approx(got[(m, f)] / tracked_n[m]) and of_hub == pytest.approx(got[(m, f)] / hub_n[m])
    # awkward cases, counted as the world built them
    st = wh.read("SELECT * FROM census_stats").iloc[0]
    assert st.dangling_parents == DANGLING
    assert st.cycles == world.cycles and st.self_references == len(world.self_references)
    assert st.unrooted == len(world.orphan_cycle_models)
    att = _truth(world, "attributed")
    multi = att.groupby("model_id").family.nunique()
    assert st.multi_family == int((multi > 1).sum()) > 0
    flagged = wh.read("SELECT model_id, count(*) AS n, max(families) AS f FROM attribution GROUP BY model_id")
    assert (flagged.n == flagged.f).all()  # `families` says in how many families a model counts
    assert set(flagged.model_id[flagged.f > 1]) == set(multi.index[multi > 1])
    no_family = set(world.orphan_cycle_models) | set(world.snapshot().id) - set(att.model_id)
    assert not no_family & set(flagged.model_id) - set(att.model_id)
    assert not set(world.orphan_cycle_models) & set(flagged.model_id)
    return st


@pytest.mark.slow
def test_census_matches_the_worlds_truth(censused, world):
    s, run = censused
    assert run["status"] == "ok", run["error"]
    served = world.snapshot()
    assert run["models"] == len(served)
    assert run["requests"] == math.ceil(len(served) / PAGE)  # the bound: one listing, nothing else
    wh = Warehouse(s.warehouse)
    _check_against_truth(wh, world)
    # lineage: every listed edge (dangling parents and cycles included), as child -> parent ids
    lin = wh.read("SELECT model_id, parent_id, relation FROM lineage")
    want = {(m, p) for m, ps in zip(served.id, served.base_models, strict=True) for p in ps}
    assert set(zip(lin.model_id, lin.parent_id, strict=True)) == want
    for a, b in world.back_edges:
        assert (a, b) in want and (b, a) in want
    rel = dict(zip(served.id, served.base_relation, strict=True))
    assert all(rel[m] == r for m, r in zip(lin.model_id, lin.relation, strict=True))
    # the whole Hub by region, worked out from the world with the config's authors
    hub_daily = wh.read("SELECT * FROM hub_daily").set_index("region")
    region = {a: f["region"] for f in reversed(FAMILIES) for a in f["authors"]}
    served["region"] = served.author.map(region).fillna("other")
    for reg, grp in [("all", served), *served.groupby("region")]:
        assert hub_daily.loc[reg, "models"] == len(grp)
        assert hub_daily.loc[reg, "downloads_30d"] == grp.downloads.sum()
        by = grp.groupby("author").downloads.sum()
        assert hub_daily.loc[reg, "hhi_authors"] == pytest.approx(((by / by.sum()) ** 2).sum())
    assert not (s.warehouse / "census_staging" / NOW.date().isoformat()).exists()  # staging cleared


@pytest.mark.slow  # two censuses, one stopped and one resumed
def test_stopped_census_shows_nothing_and_resumes(tmp_path, hub, world):
    s = _settings(tmp_path, hub)
    first = jobs.census(s, now=NOW, show_progress=False, max_pages=7)
    assert first["status"] == "partial" and first["requests"] == 7
    wh = Warehouse(s.warehouse)
    for view in ("family_ecosystem", "derivative_share", "hub_daily", "lineage", "attribution", "census_stats"):
        assert wh.read(f"SELECT count(*) AS n FROM {view}").n[0] == 0, view
    second = jobs.census(s, now=NOW + dt.timedelta(hours=1), show_progress=False)
    assert second["status"] == "ok"
    n = len(world.snapshot())
    assert first["requests"] + second["requests"] == math.ceil(n / PAGE)  # resumed, no page fetched twice
    _check_against_truth(wh, world)


def _census_in_child(path: str) -> None:
    """The body of a forked child (libraries already imported, so the kill lands in the census itself)."""
    import logging

    logging.disable(logging.CRITICAL)
    jobs.census(config.load(path), now=NOW, show_progress=False)
    os._exit(0)


@pytest.mark.trial
def test_kill_9_during_a_census_leaves_nothing_visible(tmp_path, hub, world):
    s = _settings(tmp_path, hub)
    # pages 1-26 answered (the first staging chunk is pages 1-25), then every page held unanswered:
    # the kill lands in the census's listing, with nothing to race against
    hub.faults.add("hang", route="listing", nth=CHUNK_PAGES + 2)
    huggingface_hub.close_session()  # no connection of this process is shared with the child
    proc = multiprocessing.get_context("fork").Process(target=_census_in_child, args=(str(s.path),))
    proc.start()
    deadline = time.monotonic() + 60
    staged = s.warehouse / "census_staging" / NOW.date().isoformat() / "listing"
    while not list(staged.glob("chunk-*.parquet")) and time.monotonic() < deadline:  # past the first chunk
        assert proc.exitcode is None, "the census ended before it could be killed"
        time.sleep(0.01)
    assert proc.exitcode is None and len(list(staged.glob("chunk-*.parquet"))) == 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    assert proc.exitcode == -signal.SIGKILL
    hub.faults.clear()
    wh = Warehouse(s.warehouse)
    assert wh.read("SELECT count(*) AS n FROM runs WHERE job = 'census'").n[0] == 0
    for view in ("family_ecosystem", "derivative_share", "hub_daily", "lineage", "census_stats"):
        assert wh.read(f"SELECT count(*) AS n FROM {view}").n[0] == 0, view
    killed = len(hub.stats.of(route="listing"))
    run = jobs.census(s, now=NOW + dt.timedelta(hours=2), show_progress=False)
    assert run["status"] == "ok"
    assert run["requests"] < math.ceil(run["models"] / PAGE) <= killed + run["requests"]  # it resumed
    _check_against_truth(wh, world)


def _dump(world: TreeWorld, path: Path, with_date: str | None = None, rows: int | None = None) -> None:
    """The world (or its first `rows` models) in the cfahlgren1/hub-stats models.parquet layout;
    parents only in baseModels."""
    snap = world.snapshot()
    if rows is not None:  # a dump of part of the Hub: for facts about the import, not about its contents
        snap = snap.iloc[:rows].reset_index(drop=True)
    oid = {m: f"{i:024x}" for i, m in enumerate(snap.id)}
    base = [
        None if not ps else {"relation": r, "models": [{"_id": oid.get(p, "0" * 24), "id": p} for p in ps]}
        for r, ps in zip(snap.base_relation, snap.base_models, strict=True)
    ]
    table = pa.table(
        {
            "id": snap.id,
            "author": snap.author,
            "createdAt": pa.array(snap.created_at, pa.timestamp("ms", tz="UTC")),
            "lastModified": pa.array(snap.created_at, pa.timestamp("ms", tz="UTC")),
            "downloads": snap.downloads,
            "downloadsAllTime": snap.downloads_all_time,
            "likes": snap.likes,
            "trendingScore": np.zeros(len(snap)),
            "tags": [["transformers", "license:mit"]] * len(snap),
            "cardData": ['{"license": "mit"}'] * len(snap),
            "gguf": [None] * len(snap),
            "safetensors": pa.array(
                [{"parameters": '{"BF16": 7}', "total": 7}] * len(snap),
                pa.struct([("parameters", pa.string()), ("total", pa.int64())]),
            ),
            "baseModels": pa.array(
                base,
                pa.struct(
                    [
                        ("relation", pa.string()),
                        ("models", pa.list_(pa.struct([("_id", pa.string()), ("id", pa.string())]))),
                    ]
                ),
            ),
            "pipeline_tag": ["text-generation"] * len(snap),
            "library_name": ["transformers"] * len(snap),
        }
    )
    if with_date:
        table = table.replace_schema_metadata({"date": with_date})
    pq.write_table(table, path, row_group_size=700)


@pytest.mark.trial  # two imports of a whole dump
def test_import_of_a_hub_stats_dump_is_a_census(tmp_path, world):
    from tracker.jobs.census import DumpError, import_dump, is_dump

    s = config.load(write_config(tmp_path, "http://127.0.0.1:9", FAMILIES))  # no Hub: a dump costs no request
    path = tmp_path / "models.parquet"
    _dump(world, path)
    assert is_dump(path)
    with pytest.raises(DumpError, match="--taken-at"):
        import_dump(s, path)
    run = import_dump(s, path, taken_at=dt.datetime(2026, 8, 7, 6, tzinfo=dt.UTC), batch_rows=500)
    assert run["status"] == "ok" and run["requests"] == 0
    wh = Warehouse(s.warehouse)
    assert wh.read("SELECT DISTINCT day FROM family_ecosystem").day.tolist() == [pd.Timestamp("2026-08-07")]
    _check_against_truth(wh, world)
    assert import_dump(s, path, taken_at=dt.datetime(2026, 8, 7, 6, tzinfo=dt.UTC))["status"] == "skipped"
    dated = tmp_path / "dump.parquet"
    _dump(world, dated, with_date="2026-09-01", rows=50)  # only its date is looked at
    assert import_dump(s, dated)["run_id"].startswith("20260901")


@pytest.mark.trial  # a backfill from a copy of the census
def test_backfill_uses_the_latest_census_without_requests(tmp_path, hub, world, censused):
    from tracker.hubsim.tree import owns

    s = _settings(tmp_path, hub)
    shutil.copytree(censused[0].warehouse, s.warehouse)  # the census, and nothing asked of this hub yet
    Warehouse(s.warehouse).ensure()  # the copy's views re-pointed
    assert hub.stats.total == 0
    # a week back is enough: each day's counts are of what existed at its end, whenever `since` is
    run = jobs.backfill(s, since=dt.date(2026, 11, 24), now=NOW, show_progress=False)
    assert run["status"] == "ok" and run["requests"] == 0 and hub.stats.total == 0
    fd = (
        Warehouse(s.warehouse)
        .read("SELECT * FROM family_daily WHERE source = 'backfill' AND day = DATE '2026-11-30'")
        .set_index("family")
    )
    served = world.snapshot()
    end = pd.Timestamp("2026-12-01", tz="UTC")
    for fam in FAMILIES:
        own = {m for m in served.id if owns(fam, m)}
        kids = [
            (r, c)
            for m, r, ps, c in zip(served.id, served.base_relation, served.base_models, served.created_at, strict=True)
            for p in dict.fromkeys(ps)  # a merge may list the same parent twice: one edge, as in `lineage`
            if p in own and p != m and c < end
        ]  # official = listed own models
        cols = {"finetune": "finetunes", "adapter": "adapters", "quantized": "quantizations", "merge": "merges"}
        want = {col: sum(1 for r, _c in kids if r == rel) for rel, col in cols.items()}
        got = fd.loc[fam["name"]]
        assert {c: int(got[c]) for c in want} == want, fam["name"]
        assert int(got.models) == sum(
            1 for m, c in zip(served.id, served.created_at, strict=True) if m in own and c < end
        )


@pytest.mark.slow
def test_report_has_a_whole_hub_section(tmp_path, censused, world):
    from tracker.report.format import human

    s, run = censused
    assert run["status"] == "ok"
    paths = jobs.report(s, week="2026-W48", out=tmp_path / "reports", now=NOW + dt.timedelta(hours=5))
    md = next(p for p in paths if p.suffix == ".md").read_text()
    assert "## Whole Hub" in md and "census of 2026-12-01" in md and "lower bounds" in md
    truth = _truth(world, "truth").set_index("family")
    assert f"| Alibaba Qwen | {human(truth.loc['qwen', 'descendants'])} |" in md
    assert (tmp_path / "reports" / "2026-W48-whole-hub-share.svg").exists()
    html = next(p for p in paths if p.suffix == ".html").read_text()
    assert "Share of new derivatives per month" in html
    # without a census the section is left out
    (tmp_path / "empty").mkdir()
    s2 = config.load(write_config(tmp_path / "empty", "http://127.0.0.1:9", FAMILIES))  # a report asks no Hub
    paths = jobs.report(s2, week="2026-W48", out=tmp_path / "r2", now=NOW)
    assert "Whole Hub" not in next(p for p in paths if p.suffix == ".md").read_text()


@pytest.mark.slow  # a census and an import through the CLI
def test_cli_census_and_import_of_a_dump(tmp_path, hub, world):
    from click.testing import CliRunner

    from tracker.cli import cli

    cfg = write_config(tmp_path, hub.endpoint, FAMILIES)
    env = {"TRACKER_NOW": "2026-12-01T03:00:00Z"}
    res = CliRunner().invoke(cli, ["census", "--config", str(cfg), "--no-progress"], env=env)
    assert res.exit_code == 0, res.output
    assert f"ok: {len(world.snapshot())} models" in res.output and f"{DANGLING} dangling parents" in res.output
    dump = tmp_path / "models.parquet"
    _dump(world, dump, rows=50)  # the import's contents are checked against the truth elsewhere: the CLI here
    res = CliRunner().invoke(cli, ["import", "--config", str(cfg), str(dump)])
    assert res.exit_code == 1 and "--taken-at" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["import", "--config", str(cfg), str(dump), "--taken-at", "2026-08-07T06:00:00Z"])
    assert res.exit_code == 0 and "census of 20260807" in res.output, res.output
    days = Warehouse(tmp_path / "warehouse").read("SELECT day, source FROM census_stats ORDER BY day")
    assert [(str(d.date()), s) for d, s in days.itertuples(index=False)] == [
        ("2026-08-07", "import"),
        ("2026-12-01", "listing"),
    ]
