"""Unit tests for tracker.trends on tiny inline frames.

Every expected value is worked out by hand in a comment next to it; none is
copied from the function's output.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tracker import trends as T

D = pd.Timestamp


# the columns downloads_day output starts with (its docstring)
DOWNLOADS_DAY_KEYS = ["day", "family", "downloads_day", "interval_start", "interval_days"]


def snaps_frame(rows, taken_at=None):
    """rows: (day, family, model_id, created_at, downloads_all_time)."""
    df = pd.DataFrame(rows, columns=["day", "family", "model_id", "created_at", "downloads_all_time"])
    df["downloads_all_time"] = df["downloads_all_time"].astype("Int64")
    if taken_at is not None:
        df["taken_at"] = taken_at
    return df


def by_day(df, col):
    return {d.strftime("%Y-%m-%d"): v for d, v in zip(df["day"], df[col], strict=True)}


# --------------------------------------------------------------------------- downloads_day


def test_downloads_day_common_models_are_all_time_differences():
    old = "2025-01-01"
    df = snaps_frame(
        [
            ("2026-08-01", "qwen", "q/a", old, 100),
            ("2026-08-01", "qwen", "q/b", old, 50),
            ("2026-08-02", "qwen", "q/a", old, 130),
            ("2026-08-02", "qwen", "q/b", old, 55),
        ]
    )
    out = T.downloads_day(df)
    assert list(out.columns[:5]) == DOWNLOADS_DAY_KEYS
    # (130 - 100) + (55 - 50) = 30 + 5 = 35, one-day interval
    assert len(out) == 1
    assert out.loc[0, "day"] == D("2026-08-02")
    assert out.loc[0, "family"] == "qwen"
    assert out.loc[0, "downloads_day"] == pytest.approx(35.0)
    assert out.loc[0, "interval_start"] == D("2026-08-01")
    assert out.loc[0, "interval_days"] == 1
    assert out.loc[0, "na_models"] == 0


def test_downloads_day_spreads_a_gap_evenly_and_accepts_date_objects():
    old = "2025-01-01"
    df = snaps_frame(
        [
            (dt.date(2026, 8, 1), "llama", "m/a", old, 1000),
            (dt.date(2026, 8, 4), "llama", "m/a", old, 1090),
        ]
    )
    out = T.downloads_day(df)
    # 1090 - 1000 = 90 over a 3-day gap -> 30 per day on 08-02, 08-03, 08-04
    assert by_day(out, "downloads_day") == {
        "2026-08-02": pytest.approx(30.0),
        "2026-08-03": pytest.approx(30.0),
        "2026-08-04": pytest.approx(30.0),
    }
    assert set(out["interval_days"]) == {3}
    assert set(out["interval_start"]) == {D("2026-08-01")}
    assert out["interval_downloads"].tolist() == pytest.approx([90.0, 90.0, 90.0])
    assert str(out["day"].dtype) == "datetime64[us]"


def test_downloads_day_model_created_mid_interval_adds_all_its_downloads():
    # snapshot of 08-01 taken at 06:00 UTC; q/new created 08-01 10:00 (after it)
    taken = pd.to_datetime(["2026-08-01 06:00", "2026-08-02 06:00", "2026-08-02 06:00"], utc=True)
    df = snaps_frame(
        [
            ("2026-08-01", "qwen", "q/a", "2025-01-01", 100),
            ("2026-08-02", "qwen", "q/a", "2025-01-01", 110),
            ("2026-08-02", "qwen", "q/new", "2026-08-01T10:00:00Z", 40),
        ],
        taken_at=taken,
    )
    out = T.downloads_day(df)
    # (110 - 100) + 40 (all of q/new's downloads fall in the interval) = 50
    assert out["downloads_day"].tolist() == [pytest.approx(50.0)]


def test_downloads_day_without_taken_at_uses_midnight_of_the_day():
    # no taken_at: the 08-01 snapshot counts as taken at 08-01 00:00 UTC;
    # q/new created at 08-01 03:00 naive (read as UTC) -> new
    df = snaps_frame(
        [
            ("2026-08-01", "qwen", "q/a", "2025-01-01", 100),
            ("2026-08-02", "qwen", "q/a", "2025-01-01", 100),
            ("2026-08-02", "qwen", "q/new", "2026-08-01 03:00", 7),
        ]
    )
    # 0 + 7 = 7
    assert T.downloads_day(df)["downloads_day"].tolist() == [pytest.approx(7.0)]


def test_downloads_day_model_entering_the_set_adds_nothing():
    # q/renamed was created in 2024 but only enters the family's set on 08-02
    df = snaps_frame(
        [
            ("2026-08-01", "qwen", "q/a", "2025-01-01", 100),
            ("2026-08-02", "qwen", "q/a", "2025-01-01", 104),
            ("2026-08-02", "qwen", "q/renamed", "2024-03-01", 1_000_000),
        ]
    )
    out = T.downloads_day(df)
    # only q/a counts: 104 - 100 = 4; the 1,000,000 lifetime downloads are not added
    assert out["downloads_day"].tolist() == [pytest.approx(4.0)]
    assert out["na_models"].tolist() == [0]


def test_downloads_day_null_in_either_snapshot_adds_nothing_and_is_counted():
    old = "2025-01-01"
    df = snaps_frame(
        [
            ("2026-08-01", "eu", "e/a", old, 10),
            ("2026-08-01", "eu", "e/b", old, None),  # NA earlier
            ("2026-08-01", "eu", "e/c", old, 5),
            ("2026-08-02", "eu", "e/a", old, 16),
            ("2026-08-02", "eu", "e/b", old, 99),
            ("2026-08-02", "eu", "e/c", old, None),  # NA later
        ]
    )
    out = T.downloads_day(df)
    # e/a: 16 - 10 = 6; e/b and e/c skipped (NA on one side) -> 6, na_models = 2
    assert out["downloads_day"].tolist() == [pytest.approx(6.0)]
    assert out["na_models"].tolist() == [2]


def test_downloads_day_only_nulls_is_na_not_zero():
    df = snaps_frame(
        [
            ("2026-08-01", "eu", "e/a", "2025-01-01", None),
            ("2026-08-02", "eu", "e/a", "2025-01-01", None),
        ]
    )
    out = T.downloads_day(df)
    # the single contributor is NA on both days: the sum over only NA is NA
    assert len(out) == 1 and pd.isna(out.loc[0, "downloads_day"])
    assert out.loc[0, "na_models"] == 1


def test_downloads_day_falling_all_time_is_clipped_at_zero():
    old = "2025-01-01"
    df = snaps_frame(
        [
            ("2026-08-01", "qwen", "q/a", old, 500),
            ("2026-08-01", "qwen", "q/b", old, 100),
            ("2026-08-02", "qwen", "q/a", old, 480),  # fell by 20: data error
            ("2026-08-02", "qwen", "q/b", old, 112),
        ]
    )
    # q/a: max(480 - 500, 0) = 0; q/b: 112 - 100 = 12 -> 12 (not -8)
    assert T.downloads_day(df)["downloads_day"].tolist() == [pytest.approx(12.0)]


def test_downloads_day_families_are_independent_and_first_snapshot_has_no_row():
    old = "2025-01-01"
    df = snaps_frame(
        [
            ("2026-08-01", "a", "a/1", old, 10),
            ("2026-08-02", "a", "a/1", old, 13),
            ("2026-08-02", "b", "b/1", old, 70),  # b's first snapshot: no row yet
            ("2026-08-04", "b", "b/1", old, 90),
        ]
    )
    out = T.downloads_day(df).sort_values(["family", "day"]).reset_index(drop=True)
    # a: 13 - 10 = 3 on 08-02; b: (90 - 70) / 2 = 10 on 08-03 and 08-04
    assert list(zip(out["family"], out["day"].dt.strftime("%m-%d"), out["downloads_day"], strict=True)) == [
        ("a", "08-02", pytest.approx(3.0)),
        ("b", "08-03", pytest.approx(10.0)),
        ("b", "08-04", pytest.approx(10.0)),
    ]


def test_downloads_day_empty_when_single_snapshot():
    df = snaps_frame([("2026-08-01", "a", "a/1", "2025-01-01", 10)])
    out = T.downloads_day(df)
    assert out.empty
    assert list(out.columns[:5]) == DOWNLOADS_DAY_KEYS


# --------------------------------------------------------------------------- weekly


def test_weekly_end_values_wow_and_share():
    # ISO week 2026-W32 = Mon 08-03 .. Sun 08-09; 2026-W33 = Mon 08-10 .. Sun 08-16
    fd = pd.DataFrame(
        {
            "day": pd.to_datetime(
                [
                    "2026-08-08",
                    "2026-08-09",
                    "2026-08-08",
                    "2026-08-09",
                    "2026-08-15",
                    "2026-08-16",
                    "2026-08-16",
                ]
            ),
            "family": ["qwen", "qwen", "llama", "llama", "qwen", "qwen", "llama"],
            "label": ["Qwen", "Qwen", "Meta Llama", "Meta Llama", "Qwen", "Qwen", "Meta Llama"],
            "region": ["china", "china", "us", "us", "china", "china", "us"],
            "downloads_30d": pd.array([90, 100, 310, 300, 150, None, 250], dtype="Int64"),
            "likes": pd.array([0, 0, 5, 5, 4, 4, 5], dtype="Int64"),
        }
    )
    out = T.weekly(fd)
    assert out["week"].tolist() == ["2026-W32", "2026-W32", "2026-W33", "2026-W33"]
    assert out["family"].tolist() == ["llama", "qwen", "llama", "qwen"]
    assert out["week_start"].tolist() == [D("2026-08-03")] * 2 + [D("2026-08-10")] * 2
    assert out["region"].tolist() == ["us", "china", "us", "china"]
    w33 = out[out["week"] == "2026-W33"].set_index("family")
    w32 = out[out["week"] == "2026-W32"].set_index("family")
    # W32 end values: llama 300 (08-09, a falling 30-day count), qwen 100
    assert w32.loc["llama", "downloads_30d"] == 300
    assert w32.loc["qwen", "downloads_30d"] == 100
    # W33 qwen: 08-16 is NA, so the week-end value is 08-15's 150
    assert w33.loc["qwen", "downloads_30d"] == 150
    assert w33.loc["llama", "downloads_30d"] == 250
    # wow: qwen 150 - 100 = +50 (+50%); llama 250 - 300 = -50 (-16.67%)
    assert w33.loc["qwen", "downloads_30d_wow"] == 50
    assert w33.loc["qwen", "downloads_30d_wow_pct"] == pytest.approx(0.5)
    assert w33.loc["llama", "downloads_30d_wow"] == -50
    assert w33.loc["llama", "downloads_30d_wow_pct"] == pytest.approx(-50 / 300)
    # first week has no previous week
    assert pd.isna(w32.loc["qwen", "downloads_30d_wow"]) and pd.isna(w32.loc["qwen", "downloads_30d_wow_pct"])
    # share W33: 150 / (150 + 250) = 0.375, 250 / 400 = 0.625
    assert w33.loc["qwen", "downloads_30d_share"] == pytest.approx(0.375)
    assert w33.loc["llama", "downloads_30d_share"] == pytest.approx(0.625)
    # likes: qwen 0 -> 4: wow +4, pct NA (previous is 0); W32 share 0/5 = 0, 5/5 = 1
    assert w33.loc["qwen", "likes_wow"] == 4
    assert pd.isna(w33.loc["qwen", "likes_wow_pct"])
    assert w32.loc["qwen", "likes_share"] == pytest.approx(0.0)
    assert w32.loc["llama", "likes_share"] == pytest.approx(1.0)
    # no downloads_day input -> no downloads_week columns
    assert "downloads_week" not in out.columns


def test_weekly_downloads_week_sum_partial_week_and_zero_total():
    # 2026-W34 = Mon 08-17 .. Sun 08-23
    fd = pd.DataFrame(
        {
            "day": pd.to_datetime(["2026-08-17", "2026-08-18", "2026-08-19", "2026-08-17", "2026-08-18"]),
            "family": ["a", "a", "a", "b", "b"],
            "downloads_day": [10.0, np.nan, 2.5, np.nan, np.nan],
            "derivatives": pd.array([0, 0, 0, None, 0], dtype="Int64"),
        }
    )
    out = T.weekly(fd).set_index("family")
    # a: 10 + 2.5 = 12.5 over 2 valued days; b: only NA -> NA (not 0)
    assert out.loc["a", "downloads_week"] == pytest.approx(12.5)
    assert out.loc["a", "downloads_week_days"] == 2
    assert pd.isna(out.loc["b", "downloads_week"])
    assert out.loc["b", "downloads_week_days"] == 0
    # downloads_week share: 12.5 / 12.5 = 1 for a, NA for b (no value)
    assert out.loc["a", "downloads_week_share"] == pytest.approx(1.0)
    assert pd.isna(out.loc["b", "downloads_week_share"])
    # derivatives total 0 + 0 = 0 -> shares NA
    assert pd.isna(out.loc["a", "derivatives_share"]) and pd.isna(out.loc["b", "derivatives_share"])
    # label/region absent in the input -> NA columns, still present
    assert {"label", "region"} <= set(out.columns)


def test_weekly_iso_week_across_year_end_and_gap_week():
    # 2027-01-01 is a Friday in ISO week 2026-W53 (2026 has 53 ISO weeks: it starts on a Thursday);
    # 2027-01-15 is in 2027-W02, so 2027-W01 is missing and its wow has no previous week.
    fd = pd.DataFrame(
        {
            "day": [dt.date(2027, 1, 1), dt.date(2027, 1, 15)],
            "family": ["a", "a"],
            "models": [3, 4],
        }
    )
    out = T.weekly(fd)
    assert out["week"].tolist() == ["2026-W53", "2027-W02"]
    assert out["week_start"].tolist() == [D("2026-12-28"), D("2027-01-11")]
    assert pd.isna(out.loc[1, "models_wow"])


def test_weekly_model_entering_mid_week_does_not_inflate_downloads_week():
    # One family, a daily week (2026-W34: 08-17 Mon .. 08-23 Sun) plus 08-16 (Sun of W33).
    # m/old enters the set on Wednesday 08-19 with 1,000,000 lifetime downloads.
    days = ["2026-08-16", "2026-08-17", "2026-08-18", "2026-08-19", "2026-08-19"]
    snaps = snaps_frame(
        [
            (days[0], "f", "m/a", "2025-01-01", 100),
            (days[1], "f", "m/a", "2025-01-01", 110),
            (days[2], "f", "m/a", "2025-01-01", 125),
            (days[3], "f", "m/a", "2025-01-01", 127),
            (days[4], "f", "m/old", "2024-01-01", 1_000_000),
        ]
    )
    dd = T.downloads_day(snaps)
    dd["models"] = [1, 1, 2]  # models counted on 08-17, 08-18, 08-19
    out = T.weekly(dd).set_index("week")
    # 08-17: 10, 08-18: 15, 08-19: 2 (m/old adds nothing) -> 27
    assert out.loc["2026-W34", "downloads_week"] == pytest.approx(27.0)
    assert out.loc["2026-W34", "models"] == 2


# --------------------------------------------------------------------------- shares


def test_shares_by_family_per_day_with_na():
    df = pd.DataFrame(
        {
            "day": ["2026-08-01", "2026-08-01", "2026-08-01", "2026-08-02", "2026-08-02"],
            "family": ["a", "b", "c", "a", "b"],
            "downloads_30d": pd.array([30, 10, None, 0, 0], dtype="Int64"),
        }
    )
    out = T.shares(df, "downloads_30d")
    assert list(out.columns) == ["day", "family", "value", "share"]
    d1 = out[out["day"] == D("2026-08-01")].set_index("family")
    # 30 / (30 + 10) = 0.75, 10 / 40 = 0.25, c has no value -> NA
    assert d1.loc["a", "share"] == pytest.approx(0.75)
    assert d1.loc["b", "share"] == pytest.approx(0.25)
    assert pd.isna(d1.loc["c", "share"]) and pd.isna(d1.loc["c", "value"])
    # 08-02: total 0 -> NA shares
    assert out[out["day"] == D("2026-08-02")]["share"].isna().all()


def test_shares_by_region_sums_families_first():
    df = pd.DataFrame(
        {
            "week": ["2026-W34"] * 4,
            "family": ["llama", "gemma", "qwen", "mistral"],
            "region": ["us", "us", "china", "eu"],
            "likes": pd.array([60, 20, 100, None], dtype="Int64"),
        }
    )
    out = T.shares(df, "likes", by="region").set_index("region")
    assert list(T.shares(df, "likes", by="region").columns) == ["week", "region", "value", "share"]
    # us = 60 + 20 = 80; china = 100; eu = NA; total 180
    assert out.loc["us", "value"] == 80
    assert out.loc["us", "share"] == pytest.approx(80 / 180)
    assert out.loc["china", "share"] == pytest.approx(100 / 180)
    assert pd.isna(out.loc["eu", "share"])


# --------------------------------------------------------------------------- crossovers


def cross_frame(days, a, b, metric="downloads_30d", names=("qwen", "llama"), entity="family"):
    n = len(days)
    return pd.DataFrame(
        {
            "day": list(days) * 2,
            entity: [names[0]] * n + [names[1]] * n,
            metric: pd.array(list(a) + list(b), dtype="Int64"),
        }
    )


def test_crossovers_simple_crossing_with_values():
    days = ["2026-08-15", "2026-08-16", "2026-08-17"]
    # qwen: 200, 250, 283; llama: 300, 290, 280 (a falling 30-day count)
    df = cross_frame(days, [200, 250, 283], [300, 290, 280])
    out = T.crossovers(df, "downloads_30d")
    assert list(out.columns) == [
        "day", "metric", "family", "overtaken", "family_value", "overtaken_value",
        "previous_day", "family_previous_value", "overtaken_previous_value", "reversed", "reversed_day",
    ]  # fmt: skip
    # 08-16: 250 < 290 (behind); 08-17: 283 > 280 -> qwen overtakes llama on 08-17
    assert len(out) == 1
    r = out.iloc[0]
    assert (r["day"], r["metric"], r["family"], r["overtaken"]) == (
        D("2026-08-17"),
        "downloads_30d",
        "qwen",
        "llama",
    )
    assert (r["family_value"], r["overtaken_value"]) == (283, 280)
    assert r["previous_day"] == D("2026-08-16")
    assert (r["family_previous_value"], r["overtaken_previous_value"]) == (250, 290)


def test_crossovers_skip_ties():
    days = ["2026-08-01", "2026-08-02", "2026-08-03", "2026-08-04", "2026-08-05"]
    # a: 5, 5, 6, 6, 7 ; b: 6, 5, 5, 6, 6
    # 08-01 a behind; 08-02 tie (skipped); 08-03 a ahead: a crossover, last behind on 08-01 (not
    # the tie of 08-02); 08-04 tie (skipped); 08-05 a ahead again, but the last day they differed
    # (08-03) a was already ahead -> no second crossover. b is never ahead after being behind.
    df = cross_frame(days, [5, 5, 6, 6, 7], [6, 5, 5, 6, 6], names=("a", "b"))
    out = T.crossovers(df, "downloads_30d")
    assert list(zip(out["day"], out["family"], out["overtaken"], out["previous_day"], strict=True)) == [
        (D("2026-08-03"), "a", "b", D("2026-08-01"))
    ]
    assert (out["family_previous_value"][0], out["overtaken_previous_value"][0]) == (5, 6)


def test_crossovers_ties_flipping_make_no_crossover():
    # model counts 1 and 2 that flip between level and a 1-model lead for the same family:
    # a 1, 1, 1, 1 ; b 1, 2, 1, 2 -> b ahead on 08-02, level, ahead, never a behind->ahead change
    df = cross_frame(
        ["2026-08-01", "2026-08-02", "2026-08-03", "2026-08-04"],
        [1, 1, 1, 1],
        [1, 2, 1, 2],
        metric="models",
        names=("a", "b"),
    )
    assert T.crossovers(df, "models").empty


def test_crossovers_reversed_within_three_snapshots():
    days = [f"2026-08-{d:02d}" for d in range(1, 8)]
    # a over b on 08-02 (3 > 2 after 1 < 2); b ahead again on 08-05, the third snapshot after
    # -> reversed on 08-05. b over a on 08-05 (b last behind on 08-04) holds: no reversal after.
    df = cross_frame(days, [1, 3, 3, 3, 1, 1, 1], [2, 2, 2, 2, 2, 2, 2], names=("a", "b"))
    out = T.crossovers(df, "downloads_30d")
    got = list(
        zip(
            out["day"].dt.strftime("%m-%d"),
            out["family"],
            out["reversed"],
            out["reversed_day"].dt.strftime("%m-%d").fillna("-"),
            strict=True,
        )
    )
    assert got == [("08-02", "a", True, "08-05"), ("08-05", "b", False, "-")]
    # a fourth snapshot later is not a reversal: b ahead again only on 08-06
    df = cross_frame(days, [1, 3, 3, 3, 3, 1, 1], [2, 2, 2, 2, 2, 2, 2], names=("a", "b"))
    out = T.crossovers(df, "downloads_30d")
    assert out["reversed"].tolist() == [False, False]
    # days without a value for either are not snapshots of the pair: 08-03/04 NA -> 08-06 is third
    df = cross_frame(days, [1, 3, None, None, 3, 1, 1], [2, 2, 2, 2, 2, 2, 2], names=("a", "b"))
    out = T.crossovers(df, "downloads_30d")
    assert out["reversed"].tolist() == [True, False]


def test_crossovers_skip_days_where_either_is_na():
    days = ["2026-08-01", "2026-08-02", "2026-08-03", "2026-08-04"]
    # a: 1, 9, NA, 9 ; b: 5, NA, 5, 3
    # both valid on 08-01 (a behind) and 08-04 (a ahead) only; 08-02/08-03 are skipped
    # -> one crossover on 08-04 with previous_day 08-01 (1 vs 5)
    df = cross_frame(days, [1, 9, None, 9], [5, None, 5, 3], names=("a", "b"))
    out = T.crossovers(df, "downloads_30d")
    assert len(out) == 1
    r = out.iloc[0]
    assert (r["day"], r["family"], r["previous_day"]) == (D("2026-08-04"), "a", D("2026-08-01"))
    assert (r["family_previous_value"], r["overtaken_previous_value"]) == (1, 5)


def test_crossovers_both_directions_and_multiple_metrics_sorted():
    days = ["2026-08-01", "2026-08-02", "2026-08-03"]
    # likes: a 1, 3, 2 ; b 2, 2, 3 -> a over b on 08-02, b over a on 08-03
    df = cross_frame(days, [1, 3, 2], [2, 2, 3], metric="likes", names=("a", "b"))
    # models: a 3, 4, 5 ; b 4, 4, 4 -> a over b on 08-03 (last behind on 08-01; 08-02 a tie)
    df["models"] = [3, 4, 5, 4, 4, 4]
    out = T.crossovers(df, ["likes", "models"])
    assert list(
        zip(
            out["day"].dt.strftime("%m-%d"),
            out["metric"],
            out["family"],
            out["overtaken"],
            strict=True,
        )
    ) == [
        ("08-02", "likes", "a", "b"),
        ("08-03", "likes", "b", "a"),
        ("08-03", "models", "a", "b"),
    ]


def test_crossovers_none_when_always_ahead():
    df = cross_frame(["2026-08-01", "2026-08-02", "2026-08-03"], [9, 10, 11], [1, 2, 3])
    out = T.crossovers(df, "downloads_30d")
    assert out.empty and "family" in out.columns


def test_crossovers_entity_model_id_names_columns_by_entity():
    df = cross_frame(["2026-08-01", "2026-08-02"], [1, 3], [2, 2], names=("o/x", "o/y"), entity="model_id")
    out = T.crossovers(df, "downloads_30d", entity="model_id")
    assert list(out.columns) == [
        "day", "metric", "model_id", "overtaken", "model_id_value", "overtaken_value",
        "previous_day", "model_id_previous_value", "overtaken_previous_value", "reversed", "reversed_day",
    ]  # fmt: skip
    # 08-02: 3 > 2 after 1 < 2
    assert out[["model_id", "overtaken"]].values.tolist() == [["o/x", "o/y"]]


def test_model_crossovers_only_among_top_models_ranked_on_latest_day():
    days = ["2026-08-01", "2026-08-02", "2026-08-03"]
    df = pd.DataFrame(
        {
            "day": days * 3,
            "model_id": ["m/a"] * 3 + ["m/b"] * 3 + ["m/c"] * 3,
            # a: 5, 20, 30   b: 10, 15, 25   c: 1, 17, 12
            "downloads_30d": pd.array([5, 20, 30, 10, 15, 25, 1, 17, 12], dtype="Int64"),
        }
    )
    out = T.model_crossovers(df, "downloads_30d", top=2)
    # latest day 08-03: a 30, b 25, c 12 -> top 2 = a, b. Between them:
    # 08-02 a 20 > b 15 after 5 <= 10 -> a over b. (c over b on 08-02 is excluded.)
    assert out[["day", "model_id", "overtaken"]].values.tolist() == [[D("2026-08-02"), "m/a", "m/b"]]
    # top=3 adds c: c over b on 08-02 (17 > 15 after 1 <= 10); b over c on 08-03 (25 > 12 after
    # 15 <= 17); a vs c: a ahead every day (5 > 1, 20 > 17, 30 > 12) -> none
    out3 = T.model_crossovers(df, "downloads_30d", top=3)
    assert out3[["day", "model_id", "overtaken"]].values.tolist() == [
        [D("2026-08-02"), "m/a", "m/b"],
        [D("2026-08-02"), "m/c", "m/b"],
        [D("2026-08-03"), "m/b", "m/c"],
    ]
    # a model without a value on the latest day is not ranked at all
    df.loc[8, "downloads_30d"] = pd.NA
    out_na = T.model_crossovers(df, "downloads_30d", top=3)
    assert set(out_na["model_id"]) | set(out_na["overtaken"]) == {"m/a", "m/b"}


# --------------------------------------------------------------------------- projections


def linear_pair(n_days, as_of, f0, fs, l0, ls, names=("qwen", "llama")):
    """Follower f0 + fs*k and leader l0 + ls*k for k = -(n_days-1) .. 0 (k = 0 is as_of)."""
    ks = np.arange(-(n_days - 1), 1)
    days = pd.Timestamp(as_of) + pd.to_timedelta(ks, unit="D")
    return pd.DataFrame(
        {
            "day": np.concatenate([days, days]),
            "family": [names[0]] * n_days + [names[1]] * n_days,
            "downloads_30d": np.concatenate([f0 + fs * ks, l0 + ls * ks]).astype(float),
        }
    )


def test_projections_exact_linear_pair():
    # follower 1000 + 30k, leader 2000 + 10k (k = days after as_of 2026-08-31):
    # gap 1000 closes at 20/day -> equal at k = 50 (2026-10-20), ahead from k = 51 (2026-10-21); the
    # history check needs the fit made 51 days earlier: 28 + 51 days of data, 90 given
    df = linear_pair(90, "2026-08-31", 1000, 30, 2000, 10)
    out = T.projections(df, "downloads_30d", "2026-08-31")
    assert list(out.columns[:8]) == [
        "as_of", "metric", "family", "overtaken", "projected_from", "projected_to", "projected_day",
        "window_days",
    ]  # fmt: skip
    assert len(out) == 1
    r = out.iloc[0]
    assert (r["family"], r["overtaken"], r["metric"]) == ("qwen", "llama", "downloads_30d")
    assert r["as_of"] == D("2026-08-31")
    assert r["projected_day"] == D("2026-10-21")
    assert r["window_days"] == 28
    assert r["slope_diff"] == pytest.approx(20.0)
    assert r["r2"] == pytest.approx(1.0)
    assert r["n_points"] == 28
    # an exact line has no residuals: the range is the one day; the fitted span is the window's
    assert r["projected_from"] == r["projected_to"] == D("2026-10-21")
    assert (r["first_day"], r["last_day"]) == (D("2026-08-04"), D("2026-08-31"))


def test_projections_window_ignores_older_days():
    # only the last 28 days (08-04 .. 08-31) are fitted, and the 28 ending 51 days earlier checked.
    # On 40 days before those (before 2026-05-24) qwen was at 9000 and llama at 0: fitted, they would
    # wreck the line.
    df = linear_pair(100, "2026-08-31", 1000, 30, 2000, 10)
    old = linear_pair(140, "2026-08-31", 9000, 0, 0, 0)
    old = old[old["day"] < pd.Timestamp("2026-05-24")]
    df = pd.concat([df, old], ignore_index=True)
    out = T.projections(df, "downloads_30d", "2026-08-31", window_days=28)
    # same as the exact pair: ahead on 2026-10-21
    assert out["projected_day"].tolist() == [D("2026-10-21")]


def test_projections_beyond_horizon_is_dropped():
    # gap 1000 closing at 5/day -> equal at k = 200 > 180 -> nothing; with horizon 250 -> k = 201
    df = linear_pair(240, "2026-08-31", 1000, 15, 2000, 10)
    assert T.projections(df, "downloads_30d", "2026-08-31").empty
    out = T.projections(df, "downloads_30d", "2026-08-31", horizon_days=250)
    assert out["projected_day"].tolist() == [D("2026-08-31") + pd.Timedelta(days=201)]


def test_projections_follower_slower_or_already_ahead_gives_nothing():
    # follower behind and growing slower: 1000 + 5k vs 2000 + 10k -> gap widens
    assert T.projections(linear_pair(28, "2026-08-31", 1000, 5, 2000, 10), "downloads_30d", "2026-08-31").empty
    # "qwen" ahead already (3000 vs 2000) and faster: llama is the one behind and slower -> nothing
    assert T.projections(linear_pair(28, "2026-08-31", 3000, 30, 2000, 10), "downloads_30d", "2026-08-31").empty


def test_projections_need_enough_points_and_history():
    # crossing 51 days ahead (as in the exact pair): the window needs 14 points, and the history check
    # a window of as many points ending 51 days earlier
    full = linear_pair(90, "2026-08-31", 1000, 30, 2000, 10)
    assert len(T.projections(full, "downloads_30d", "2026-08-31")) == 1
    # 13 points in the window (every other day but one): no claim
    window = full["day"] >= pd.Timestamp("2026-08-04")
    keep = ~window | (full["day"].dt.day % 2 == 0) & (full["day"] != pd.Timestamp("2026-08-30"))
    assert (full[keep & window]["family"] == "qwen").sum() == 13
    assert T.projections(full[keep], "downloads_30d", "2026-08-31").empty
    # 60 days of data: the window ending 51 days before as_of has 9 points (< 14): no claim
    assert T.projections(full[full["day"] > pd.Timestamp("2026-07-02")], "downloads_30d", "2026-08-31").empty
    # window 40 needs ceil(40 / 2) = 20 points in the window and in the earlier one: 90 days are enough,
    # 60 are not
    assert len(T.projections(full, "downloads_30d", "2026-08-31", window_days=40)) == 1


def test_projections_noise_is_not_a_trend():
    # a small hand-made zig-zag: follower alternates 100, 104 and drifts by nothing;
    # leader constant 102 on even days and NA-free. The follower's slope is ~0 -> t-stat tiny.
    n = 28
    ks = np.arange(-(n - 1), 1)
    days = pd.Timestamp("2026-08-31") + pd.to_timedelta(ks, unit="D")
    f = np.where(ks % 2 == 0, 100.0, 104.0)
    f[-1] = 101.0  # behind on as_of (101 < 102)
    df = pd.DataFrame(
        {
            "day": np.concatenate([days, days]),
            "family": ["f"] * n + ["l"] * n,
            "x": np.concatenate([f, np.full(n, 102.0)]),
        }
    )
    assert T.projections(df, "x", "2026-08-31").empty


# --------------------------------------------------------------------------- quality_flags


def test_quality_flags_entered_left_new_missing_and_fell():
    taken = pd.to_datetime(["2026-08-01 06:00"] * 3 + ["2026-08-04 06:00"] * 3, utc=True)
    df = snaps_frame(
        [
            ("2026-08-01", "qwen", "q/a", "2025-01-01", 500),
            ("2026-08-01", "qwen", "q/gone", "2025-01-01", 10),
            ("2026-08-01", "qwen", "q/b", "2025-01-01", 20),
            ("2026-08-04", "qwen", "q/a", "2025-01-01", 480),  # fell 500 -> 480
            ("2026-08-04", "qwen", "q/b", "2025-01-01", 25),
            ("2026-08-04", "qwen", "q/new", "2026-08-02 09:00", 3),  # created after 08-01 06:00
        ],
        taken_at=taken,
    )
    df = pd.concat(
        [
            df,
            snaps_frame([("2026-08-04", "qwen", "q/renamed", "2024-05-05", 9)], taken_at=[taken[-1]]),
        ],
        ignore_index=True,
    )
    out = T.quality_flags(df)
    assert list(out.columns) == ["day", "family", "model_id", "issue", "detail"]
    got = sorted(
        (d.strftime("%m-%d"), i, None if pd.isna(m) else m)
        for d, i, m in zip(out["day"], out["issue"], out["model_id"], strict=True)
    )
    # 08-02 and 08-03 are missing; on 08-04: q/a fell, q/gone left, q/new is new,
    # q/renamed (created 2024) entered. No stale day: downloads changed.
    assert got == sorted(
        [
            ("08-02", "missing_day", None),
            ("08-03", "missing_day", None),
            ("08-04", "all_time_fell", "q/a"),
            ("08-04", "left", "q/gone"),
            ("08-04", "new_model", "q/new"),
            ("08-04", "entered", "q/renamed"),
        ]
    )
    fell = out[out["issue"] == "all_time_fell"].iloc[0]
    assert "500 -> 480" in fell["detail"]


def test_quality_flags_stale_when_every_metric_is_unchanged():
    old = "2025-01-01"
    df = snaps_frame(
        [
            ("2026-08-01", "a", "a/1", old, 10),
            ("2026-08-02", "a", "a/1", old, 10),  # identical to 08-01 -> stale
            ("2026-08-03", "a", "a/1", old, 11),
        ]
    )
    df["downloads_30d"] = pd.array([5, 5, 6], dtype="Int64")
    out = T.quality_flags(df)
    assert out[["day", "issue"]].values.tolist() == [[D("2026-08-02"), "stale"]]
    assert pd.isna(out.loc[0, "model_id"])
    assert out.loc[0, "detail"] == "downloads unchanged for 1 of 1 models since 2026-08-01"


def stale_frame(d30_day2, likes_day2, n=10):
    """n models on two days; day 1: downloads_30d 100 + i, likes 10 + i; day 2 as given (lists)."""
    rows = []
    for i in range(n):
        rows.append(
            {
                "day": "2026-08-01",
                "family": "a",
                "model_id": f"a/{i}",
                "created_at": "2025-01-01",
                "downloads_30d": 100 + i,
                "likes": 10 + i,
            }
        )
        rows.append(
            {
                "day": "2026-08-02",
                "family": "a",
                "model_id": f"a/{i}",
                "created_at": "2025-01-01",
                "downloads_30d": d30_day2[i],
                "likes": likes_day2[i],
            }
        )
    df = pd.DataFrame(rows)
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    return df


def test_quality_flags_stale_downloads_while_likes_changed():
    same_d30 = [100 + i for i in range(10)]
    # 9 of 10 download counts unchanged (0.9 >= STALE_SHARE), likes all changed -> stale_downloads
    out = T.quality_flags(stale_frame([*same_d30[:9], 500], [11 + i for i in range(10)]))
    assert out[["issue", "detail"]].values.tolist() == [
        ["stale_downloads", "downloads unchanged for 9 of 10 models since 2026-08-01"]
    ]
    # 8 of 10 unchanged (0.8 < 0.9): not stale
    out = T.quality_flags(stale_frame([*same_d30[:8], 500, 501], [11 + i for i in range(10)]))
    assert out.empty
    # likes all unchanged, downloads all changed -> stale_likes
    out = T.quality_flags(stale_frame([200 + i for i in range(10)], [10 + i for i in range(10)]))
    assert out["issue"].tolist() == ["stale_likes"]
    # both unchanged -> stale
    out = T.quality_flags(stale_frame(same_d30, [10 + i for i in range(10)]))
    assert out["issue"].tolist() == ["stale"]


def test_quality_flags_stale_likes_needs_five_models():
    # 4 models whose likes stood still while downloads moved: too few to call the likes stale
    out = T.quality_flags(stale_frame([200 + i for i in range(4)], [10 + i for i in range(4)], n=4))
    assert out.empty


def test_quality_flags_all_time_fell_skips_na_and_compares_to_last_value():
    old = "2025-01-01"
    df = snaps_frame(
        [
            ("2026-08-01", "a", "a/1", old, 100),
            ("2026-08-02", "a", "a/1", old, None),
            ("2026-08-03", "a", "a/1", old, 90),  # 90 < 100 (last known) -> fell
        ]
    )
    out = T.quality_flags(df)
    fell = out[out["issue"] == "all_time_fell"]
    assert fell["day"].tolist() == [D("2026-08-03")]
    assert fell["model_id"].tolist() == ["a/1"]


def test_quality_flags_clean_data_has_no_rows():
    df = snaps_frame([("2026-08-01", "a", "a/1", "2025-01-01", 1), ("2026-08-02", "a", "a/1", "2025-01-01", 2)])
    out = T.quality_flags(df)
    assert out.empty and list(out.columns) == ["day", "family", "model_id", "issue", "detail"]


def test_week_label_and_start():
    assert T.week_label("2026-08-17") == "2026-W34"  # Monday of W34
    assert T.week_label(dt.date(2026, 8, 23)) == "2026-W34"  # Sunday
    assert T.week_start("2026-W34") == D("2026-08-17")
    assert T.week_start("2026-W53") == D("2026-12-28")
