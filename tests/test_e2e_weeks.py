"""Daily collects around the crossover (the Friday before it, a missing Saturday, the Sunday before it,
the crossover's Monday and the Tuesday after): the Qwen/Llama crossover is found on the world's day,
with the world's values, in the `crossovers` view and in the weekly report of its week. (The report
of a whole replayed week, headline against the emulator's truth, is the demo's: tests/test_readme.py.)"""

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
MISSING = dt.date(2026, 8, 15)  # a day without a collect
# the days each fact needs: 08-14 and 08-16 around the missing day (its quality note, the gap's spread of
# downloads_day), 08-16 and 08-17 around the crossover, 08-18 after it (it does not flip back; its week
# 2026-W34 has a day after the crossover's)
DAYS = (0, 2, 3, 4)
pytestmark = pytest.mark.trial  # 4 collects and a report: the suite's long end-to-end trial


@pytest.fixture(scope="module")
def weeks(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("weeks")
    world = World(seed=0, models=4000, now=START)
    truth = {}
    with HubSim(world) as hub:
        s = config.load(write_config(tmp, hub.endpoint, FAMILIES))
        for i in DAYS:
            at = START + dt.timedelta(days=i)
            assert at.date() != MISSING  # the report must say so, and downloads_day spreads the gap
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
    assert f"- {headline}\n" in md  # a headline, not a line of "Crossovers that are not headlines"
    html = next(p for p in paths if p.suffix == ".html").read_text()
    assert f"<li>{headline}</li>" in html and "<svg" in html
    fw = Warehouse(s.warehouse).query("select * from family_weekly where week = $w order by family", {"w": week})
    assert list(fw.family) == ["llama", "qwen"]
    assert fw.downloads_30d_share.sum() == pytest.approx(1.0)
