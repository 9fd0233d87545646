"""A recomputation that leaves a trend table as it was does not rewrite its file, yet the tables still
count as current: `refresh_if_stale` recomputes them only when a run came after them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.conftest import write_config
from tracker import config, jobs
from tracker.jobs.common import refresh_if_stale

FAMILIES = [{"name": "llama", "authors": ["meta-llama"], "region": "us"}]


def _archive(tmp, day: str, downloads: int):
    recs = [
        {"id": f"meta-llama/m{i}", "downloads": downloads + i, "createdAt": "2025-01-01T00:00:00.000Z"}
        for i in range(3)
    ]
    path = tmp / f"{day}.json"
    path.write_text(json.dumps({"date": day, "fetched_at": f"{day}T06:00:00Z", "models": recs}))
    return path


@pytest.mark.trial
def test_unchanged_tables_are_kept_and_still_current(tmp_path):
    s = config.load(write_config(tmp_path, "http://127.0.0.1:9", FAMILIES))
    jobs.import_files(s, [_archive(tmp_path, "2026-08-01", 100)])
    derived = s.warehouse / "derived"
    # one family: never a crossover, so that table is the same after every recomputation
    cx = derived / "crossovers.parquet"
    inode = cx.stat().st_ino
    jobs.import_files(s, [_archive(tmp_path, "2026-08-02", 200)], refresh_trends=False)
    assert refresh_if_stale(s)  # a run after the tables: recomputed
    assert cx.stat().st_ino == inode  # the unchanged table's file was not replaced
    assert not refresh_if_stale(s)  # and every table, rewritten or not, counts as current
    weekly = pd.read_parquet(derived / "family_weekly.parquet")
    assert weekly["downloads_30d"].tolist() == [200 + 201 + 202]  # 2026-W31 ends on the new day's listing


@pytest.mark.trial
def test_a_reports_run_record_does_not_make_the_trend_tables_stale(tmp_path):
    """A report reads the trend tables and changes no data: its `runs` record must not send the next
    `tracker sql` / `export` into recomputing them (it did after every `tracker demo`)."""
    s = config.load(write_config(tmp_path, "http://127.0.0.1:9", FAMILIES))
    jobs.import_files(s, [_archive(tmp_path, "2026-08-01", 100), _archive(tmp_path, "2026-08-02", 200)])
    assert not refresh_if_stale(s)  # the import refreshed them
    run = jobs.recorded_report(s, week="2026-W31", formats=("md",), now=pd.Timestamp("2026-08-03T08:00Z"))
    assert run["status"] == "ok" and run["job"] == "report"
    assert not refresh_if_stale(s)  # a report is no new data
    jobs.import_files(s, [_archive(tmp_path, "2026-08-03", 300)], refresh_trends=False)
    assert refresh_if_stale(s)  # new data is
