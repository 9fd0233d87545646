"""Ten simulated days of daily collects (the end of the week before the crossover's and the crossover's
whole week, with a day missing): the Qwen/Llama crossover is found on the world's day, with the world's
values, in the `crossovers` view and in the weekly report."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.conftest import family_truth, write_config
from tracker import config, jobs, trends
from tracker.hubsim import HubSim, World
from tracker.report.format import distinct
from tracker.warehouse import Warehouse

FAMILIES = [
    {"name": "llama", "label": "Meta Llama", "authors": ["meta-llama"], "region": "us"},
    {"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"},
]
START = dt.datetime(2026, 8, 14, 6, 0, tzinfo=dt.UTC)  # the Friday before the crossover (Monday 2026-08-17)
DAYS = 10  # to Sunday 2026-08-23, the end of the crossover's week (2026-W34)
MISSING = dt.date(2026, 8, 15)  # a day without a collect
pytestmark = pytest.mark.slow  # 9 collects: the suite's long end-to-end trial


@pytest.fixture(scope="module")
def weeks(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("weeks")
    world = World(seed=0, models=4000, now=START)
    truth = {}
    with HubSim(world) as hub:
        s = config.load(write_config(tmp, hub.endpoint, FAMILIES))
        for i in range(DAYS):
            at = START + dt.timedelta(days=i)
            if at.date() == MISSING:
                continue  # the report must say so, and downloads_day spreads the gap
            world.set_time(at)
            run = jobs.collect(s, now=at, show_progress=False, refresh_trends=False)
            assert run["status"] == "ok"
            truth[at.date()] = world.snapshot()
        jobs.derive(s)
    return world, s, truth


def test_crossover_found_on_the_worlds_day_with_the_worlds_values(weeks):
    _world, s, truth = weeks
    day = World.DOWNLOADS_CROSSOVER_DAY
    cx = Warehouse(s.warehouse).query(
        "select * from crossovers where metric = 'downloads_30d' and family in ('qwen', 'llama') "
        "and overtaken in ('qwen', 'llama')"
    )
    assert len(cx) == 1, cx  # the difference is monotone: one crossing, no flip back
    row = cx.iloc[0]
    assert (row.family, row.overtaken, row.day.date()) == ("qwen", "llama", day)
    prev = day - dt.timedelta(days=1)
    assert row.previous_day.date() == prev
    assert row.family_value == family_truth(truth[day], FAMILIES[1])["downloads_30d"]
    assert row.overtaken_value == family_truth(truth[day], FAMILIES[0])["downloads_30d"]
    assert row.family_previous_value == family_truth(truth[prev], FAMILIES[1])["downloads_30d"]
    assert row.overtaken_previous_value == family_truth(truth[prev], FAMILIES[0])["downloads_30d"]
    assert row.family_previous_value <= row.overtaken_previous_value


def test_downloads_day_equals_the_truth(weeks):
    _world, s, truth = weeks
    fd = Warehouse(s.warehouse).query("select * from family_daily where family = 'qwen' order by day")
    fd = fd.set_index(fd.day.dt.date)
    for d0, d1 in ((dt.date(2026, 8, 16), dt.date(2026, 8, 17)), (dt.date(2026, 8, 14), dt.date(2026, 8, 16))):
        a, b = truth[d0], truth[d1]
        a, b = a[a.author == "Qwen"].set_index("id"), b[b.author == "Qwen"].set_index("id")
        both = b.index.intersection(a.index)
        t0 = pd.Timestamp(dt.datetime.combine(d0, START.timetz()))
        new = b[(~b.index.isin(a.index)) & (pd.to_datetime(b.created_at, utc=True) > t0)]
        total = int(
            (b.loc[both, "downloads_all_time"] - a.loc[both, "downloads_all_time"]).clip(lower=0).sum()
            + new.downloads_all_time.sum()
        )
        days = (d1 - d0).days
        assert fd.loc[d1, "downloads_day"] == pytest.approx(total / days), (d0, d1)


def test_quality_notes_the_missing_day(weeks):
    _world, s, _truth = weeks
    missing = MISSING
    q = Warehouse(s.warehouse).query("select * from quality where issue = 'missing_day'")
    assert sorted({(r.day.date(), r.family) for r in q.itertuples()}) == [(missing, "llama"), (missing, "qwen")]


def test_weekly_report_headline(weeks, tmp_path):
    _world, s, truth = weeks
    day = World.DOWNLOADS_CROSSOVER_DAY
    prev = day - dt.timedelta(days=1)
    week = trends.week_label(day)
    paths = jobs.report(s, week=week, out=tmp_path / "reports", now=dt.datetime(2026, 9, 9, tzinfo=dt.UTC))
    md = next(p for p in paths if p.suffix == ".md").read_text()
    q = family_truth(truth[day], FAMILIES[1])["downloads_30d"]
    ll = family_truth(truth[day], FAMILIES[0])["downloads_30d"]
    a, b = distinct(q, ll)
    headline = f"Alibaba Qwen overtook Meta Llama in 30-day downloads on {day} (last behind on {prev}): {a} vs {b}"
    assert headline in md
    html = next(p for p in paths if p.suffix == ".html").read_text()
    assert headline in html and "<svg" in html
    fw = Warehouse(s.warehouse).query("select * from family_weekly where week = $w order by family", {"w": week})
    assert list(fw.family) == ["llama", "qwen"]
    assert fw.downloads_30d_share.sum() == pytest.approx(1.0)
