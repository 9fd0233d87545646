"""Issue 12 on emulator worlds whose truth is known: reports that do not change when later data
arrive, projections backtested against the world's known crossover, parameter counts from the Hub's
safetensors metadata, and `--taken-at` applying only to files that state no time."""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tests.conftest import write_config
from tracker import config, jobs, trends
from tracker.cli import cli
from tracker.hubsim import HubSim, World
from tracker.warehouse import Warehouse

FAMILIES = [
    {"name": "llama", "label": "Meta Llama", "authors": ["meta-llama"], "region": "us"},
    {"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"},
]
START = dt.datetime(2026, 8, 9, 6, 0, tzinfo=dt.UTC)  # the Sunday ending 2026-W32


def _collect(s, world, days):
    for at in days:
        world.set_time(at)
        assert jobs.collect(s, now=at, show_progress=False, refresh_trends=False)["status"] == "ok"


def _without_generated(text: str) -> str:
    return re.sub(r"generated at \d{4}-\d\d-\d\d \d\d:\d\d UTC", "generated at ?", text)


@pytest.mark.trial
def test_a_past_report_does_not_change_when_later_data_arrive(tmp_path):
    world = World(seed=3, models=1500, now=START)
    with HubSim(world) as hub:
        s = config.load(write_config(tmp_path, hub.endpoint, FAMILIES))
        # the W32 end (08-09), 08-13 and the W33 end (08-16): model crossovers among the leaders, missing days
        _collect(s, world, [START + dt.timedelta(days=i) for i in (0, 4, 7)])
        jobs.derive(s)
        first = jobs.report(s, week="2026-W33", out=tmp_path / "a", now=dt.datetime(2026, 8, 17, 8, tzinfo=dt.UTC))
        # a week more (08-23): the leaders, crossovers (Qwen passes Llama between 08-16 and 08-23) and
        # quality notes of the latest data change
        _collect(s, world, [START + dt.timedelta(days=14)])
        jobs.derive(s)
        later = jobs.report(s, week="2026-W33", out=tmp_path / "b", now=dt.datetime(2026, 9, 30, 8, tzinfo=dt.UTC))
    wh = Warehouse(s.warehouse)
    assert wh.query("select max(day) d from family_daily").d[0].date() == dt.date(2026, 8, 23)
    for a, b in zip(first, later, strict=True):
        ta, tb = a.read_text(), b.read_text()
        assert ta != tb  # the "generated at" line differs ...
        assert _without_generated(ta) == _without_generated(tb), a.name  # ... and nothing else
    md = first[0].read_text()
    assert "passed" in md  # there was something to keep stable: model crossovers among the leaders
    svgs = sorted(p.name for p in (tmp_path / "a").glob("*.svg"))
    assert svgs == sorted(p.name for p in (tmp_path / "b").glob("*.svg"))
    for name in svgs:
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text(), name


def _truth_series(seed: int) -> pd.DataFrame:
    """Each day's summed 30-day downloads of Qwen's and meta-llama's official models, from the world's
    closed-form truth (no collect: the world's own numbers)."""
    w = World(seed=seed, models=1500, now="2026-06-01")
    rows = []
    for d in pd.date_range("2026-06-20", "2026-09-15"):
        at = d + pd.Timedelta(hours=6)
        for org, fam in (("Qwen", "qwen"), ("meta-llama", "llama")):
            rows.append({"day": d, "family": fam, "downloads_30d": w.org_downloads(org, at)})
    return pd.DataFrame(rows)


@pytest.mark.slow
def test_projections_backtested_on_worlds_with_a_known_crossover():
    score = {True: [0, 0], False: [0, 0]}  # check_history -> [claims, hits]
    for seed in (0, 1):
        df = _truth_series(seed)
        cx = trends.crossovers(df, "downloads_30d")
        # the world is calibrated so that Qwen passes Llama on this day, and only then
        assert cx[["day", "family"]].values.tolist() == [[pd.Timestamp(World.DOWNLOADS_CROSSOVER_DAY), "qwen"]]
        as_of = list(pd.date_range("2026-07-19", "2026-08-14", freq="3D"))
        for check in (True, False):
            bt = trends.backtest(df, "downloads_30d", as_of, check_history=check)
            assert (bt["actual_day"] == pd.Timestamp(World.DOWNLOADS_CROSSOVER_DAY)).all()
            score[check][0] += len(bt)
            score[check][1] += int(bt["hit"].sum())
    # the worlds' gaps close on a curve: a straight line through the last 28 days alone (the baseline)
    # is confidently early; checked on its own history and widened by its error there, the range
    # holds the real day in most claims
    (claims, hits), (base_claims, base_hits) = score[True], score[False]
    assert claims >= 10 and hits / claims >= 0.75, score
    assert hits / claims > base_hits / base_claims + 0.2, score


@pytest.mark.slow
def test_parameters_come_from_the_safetensors_metadata(tmp_path):
    world = World(seed=5, models=1500, now="2026-08-10T06:00:00Z")
    with HubSim(world) as hub:
        s = config.load(write_config(tmp_path, hub.endpoint, FAMILIES))
        jobs.collect(s, now=world.now, show_progress=False, refresh_trends=False)
    got = Warehouse(s.warehouse).query("select model_id, parameters from snapshots")
    st = world.state()
    idx = np.flatnonzero(st.vis)
    truth = pd.Series(world.params[idx], index=st.ids[idx])
    with_st = np.array(["safetensors" in world.profile(i)["prefix"] for i in idx])
    want = truth.where(with_st)  # the Hub sends safetensors only for repos that have such files
    for r in got.itertuples():
        w = want[r.model_id]
        assert (pd.isna(r.parameters) and pd.isna(w)) or r.parameters == w, r.model_id
    assert got.parameters.notna().sum() > 10 and got.parameters.isna().sum() > 0
    classes = trends.size_class(got.parameters)
    assert set(classes) <= {"under 10B", "10-50B", "50-100B", "100B and up", "unknown"}


@pytest.mark.slow
def test_taken_at_applies_only_to_files_that_state_no_time(tmp_path):
    s_path = write_config(tmp_path, "http://127.0.0.1:9", FAMILIES)
    rec = {"id": "Qwen/Qwen3-8B", "downloads": 10, "likes": 1, "createdAt": "2025-01-01T00:00:00.000Z"}
    stated = tmp_path / "stated.json"
    stated.write_text(json.dumps({"date": "2026-08-07", "fetched_at": "2026-08-07T02:00:00Z", "models": [rec]}))
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps([rec]))
    res = CliRunner().invoke(
        cli, ["import", "--config", str(s_path), "--taken-at", "2026-08-09T06:00:00Z", str(stated), str(bare)]
    )
    assert res.exit_code == 0, res.output
    runs = Warehouse(config.load(s_path).warehouse).query("select started_at from runs order by started_at")
    assert [t.isoformat() for t in runs.started_at.dt.tz_convert("UTC")] == [
        "2026-08-07T02:00:00+00:00",  # the file's own time wins
        "2026-08-09T06:00:00+00:00",  # --taken-at for the file that states none
    ]


def test_records_read_the_parameter_count_and_quarantine_a_malformed_one():
    from tracker import records

    got = records.check(
        [
            {"id": "a/x", "safetensors": {"parameters": {"BF16": 7_000_000_000}, "total": 7_000_000_000}},
            {"id": "a/y"},  # no safetensors metadata: NULL, not 0
            {"id": "a/z", "safetensors": {"total": "7B"}},
        ]
    )
    assert dict(zip(got.rows.model_id, got.rows.parameters, strict=True)) == {"a/x": 7_000_000_000, "a/y": pd.NA}
    assert [(m, why.split(" is ")[0]) for m, why, _ in got.bad] == [("a/z", "safetensors")]


def test_a_warehouse_of_the_previous_layout_opens_and_derives(tmp_path):
    # derived tables and seed files written before issue 12 lack the new columns (reversed, parameters...)
    import pyarrow as pa
    import pyarrow.parquet as pq

    wh = Warehouse(tmp_path / "wh")
    wh.ensure()
    old = pa.schema(
        [
            ("day", pa.date32()),
            ("metric", pa.string()),
            ("family", pa.string()),
            ("overtaken", pa.string()),
            ("family_value", pa.float64()),
            ("overtaken_value", pa.float64()),
            ("previous_day", pa.date32()),
            ("family_previous_value", pa.float64()),
            ("overtaken_previous_value", pa.float64()),
        ]
    )
    pq.write_table(old.empty_table(), wh.root / "derived" / "crossovers.parquet")
    seed = wh.root / "models" / "_empty" / "_empty.parquet"
    pq.write_table(pa.schema([f for f in pq.read_schema(seed) if f.name != "parameters"]).empty_table(), seed)
    (wh.root / "hub.duckdb").unlink()
    again = Warehouse(tmp_path / "wh")
    assert list(again.query("select * from crossovers").columns)[-1] == "headline"
    assert "parameters" in again.query("select * from snapshots").columns
