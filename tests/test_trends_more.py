"""trailing_week and family_quality, on small frames worked out by hand."""

import math

import pandas as pd
import pytest

from tracker import trends


def test_trailing_week_spreads_gaps_with_their_own_average():
    # family a: snapshots every day 01..07, then a gap: next snapshot on the 10th covering 08-10 (3 days)
    days = [f"2026-08-{d:02d}" for d in (1, 2, 3, 4, 5, 6, 7, 10)]
    fd = pd.DataFrame(
        {
            "day": days,
            "family": "a",
            "downloads_day": [float("nan"), 10, 10, 10, 10, 10, 10, 30.0],
            "interval_days": [None, 1, 1, 1, 1, 1, 1, 3],
        }
    )
    out = trends.trailing_week(fd).set_index("day")["downloads_week"]
    # 07: days 01..07 but 01 unknown -> NA
    assert math.isnan(out[pd.Timestamp("2026-08-07")])
    # 10: days 04..10 = 10+10+10+10 (04..07) + 30+30+30 (08,09,10 each the gap's average 30) = 130
    assert out[pd.Timestamp("2026-08-10")] == pytest.approx(130.0)


def test_family_quality_flags_missing_days_only():
    fd = pd.DataFrame(
        {
            "day": ["2026-08-01", "2026-08-02", "2026-08-05"],
            "family": "a",
            "models": [3, 3, 3],
            "downloads_30d": [100, 100, 120],
            "likes": [5, 5, 6],
        }
    )
    q = trends.family_quality(fd)
    got = sorted(zip(q.day.dt.strftime("%m-%d"), q.issue, strict=True))
    # 03 and 04 have no snapshot; 08-02's equal sums are no evidence of staleness (models' values are)
    assert got == [("08-03", "missing_day"), ("08-04", "missing_day")]
    assert q.model_id.isna().all()


def test_interval_stats_is_downloads_day_and_quality_flags_at_once():
    snaps = pd.DataFrame(
        {
            "day": ["2026-08-01"] * 2 + ["2026-08-03"] * 2,
            "family": "a",
            "model_id": ["x", "y", "x", "z"],
            "created_at": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-01", "2026-08-02"], utc=True),
            "downloads_all_time": pd.array([100, 50, 130, 7], dtype="Int64"),
        }
    )
    dd, q = trends.interval_stats(snaps)
    pd.testing.assert_frame_equal(dd, trends.downloads_day(snaps))
    pd.testing.assert_frame_equal(q, trends.quality_flags(snaps))
    # by hand: x grew 30, z is new with 7, y left: 37 over 2 days
    assert list(dd.downloads_day) == [18.5, 18.5]
    assert sorted(q.issue) == ["left", "missing_day", "new_model"]


def test_week_models_gains_and_new_models():
    t = lambda s: pd.Timestamp(s, tz="UTC")  # noqa: E731
    before = pd.DataFrame(
        {
            "family": "a",
            "model_id": ["x", "y", "w"],
            "downloads_all_time": [100, 50, 9],
            "downloads_30d": 1,
            "likes": 1,
            "created_at": t("2025-01-01"),
        }
    )
    at_end = pd.DataFrame(
        {
            "family": "a",
            "model_id": ["x", "y", "n", "e"],
            "downloads_all_time": pd.array([130, 45, 20, 500], dtype="Int64"),
            "downloads_30d": [3, 2, 20, 7],
            "likes": [0, 0, 1, 2],
            "created_at": [t("2025-01-01"), t("2025-01-01"), t("2026-08-19"), t("2024-05-01")],
        }
    )
    movers, new = trends.week_models(at_end, before, "2026-08-17", "2026-08-23")
    # x grew 130-100 = 30; n is new this week: all its 20; y fell (a data error): gained nothing, not
    # a mover; e entered: unknown
    assert list(zip(movers.model_id, movers.downloads_week, strict=True)) == [("x", 30), ("n", 20)]
    assert list(new.model_id) == ["n"]
