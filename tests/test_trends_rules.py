"""The rules of issue 12 on small frames whose expected values are worked out by hand in each test:
like-for-like change, crossovers that hold over the same models, stale days, membership jumps,
projection ranges, relative adoption."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker import trends as T

D = pd.Timestamp
UTC = "UTC"


def model_rows(rows):
    """(day, family, model_id, created_at, downloads_30d, likes, downloads_all_time) tuples -> frame."""
    df = pd.DataFrame(
        rows, columns=["day", "family", "model_id", "created_at", "downloads_30d", "likes", "downloads_all_time"]
    )
    df["day"] = pd.to_datetime(df["day"])
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True)
    for c in ("downloads_30d", "likes", "downloads_all_time"):
        df[c] = df[c].astype("Int64")
    return df


# --------------------------------------------------------------------------- like for like

# family a at the end of W33 (Sunday 2026-08-16) and of W34 (Sunday 2026-08-23):
#   x: 30d 100 -> 130, likes 5 -> 7, all-time 1000 -> 1030
#   y: 30d  50 ->  40, likes 2 -> 2,  all-time  500 ->  510
#   gone: 30d 1000, likes 1 (left)
#   n: created 2026-08-20 (new), 30d 500, likes 3
#   e: created 2024 (entered), 30d 2000, likes 9
ENDS = model_rows(
    [
        ("2026-08-16", "a", "x", "2025-01-01", 100, 5, 1000),
        ("2026-08-16", "a", "y", "2025-01-01", 50, 2, 500),
        ("2026-08-16", "a", "gone", "2025-01-01", 1000, 1, 300),
        ("2026-08-23", "a", "x", "2025-01-01", 130, 7, 1030),
        ("2026-08-23", "a", "y", "2025-01-01", 40, 2, 510),
        ("2026-08-23", "a", "n", "2026-08-20", 500, 3, 500),
        ("2026-08-23", "a", "e", "2024-03-03", 2000, 9, 9000),
    ]
)


def test_like_for_like_by_hand():
    same = T.like_for_like(ENDS)
    assert len(same) == 1
    r = same.iloc[0]
    assert r["week_start"] == D("2026-08-17") and r["family"] == "a"
    # 30d over x and y: (130 - 100) + (40 - 50) = 20, of 150 before
    assert (r["downloads_30d_wow_same"], r["downloads_30d_base_same"]) == (20, 150)
    # likes: (7 - 5) + (2 - 2) = 2 of 7; all-time: 30 + 10 = 40 of 1500
    assert (r["likes_wow_same"], r["likes_base_same"]) == (2, 7)
    assert (r["downloads_all_time_wow_same"], r["downloads_all_time_base_same"]) == (40, 1500)
    assert (r["models_new"], r["models_entered"], r["models_left"]) == (1, 1, 1)


def test_weekly_carries_like_for_like_beside_the_whole_change():
    fd = ENDS.groupby(["day", "family"], as_index=False)[["downloads_30d", "likes"]].sum()
    fd["models"] = [3, 4]
    fw = T.weekly(fd, T.like_for_like(ENDS))
    r = fw[fw.week == "2026-W34"].iloc[0]
    # all models: (130 + 40 + 500 + 2000) - (100 + 50 + 1000) = 2670 - 1150 = 1520 (+132.2 %)
    assert r["downloads_30d_wow"] == 1520
    assert r["downloads_30d_wow_pct"] == pytest.approx(1520 / 1150)
    # same models: +20 of 150 = +13.3 %
    assert r["downloads_30d_wow_same"] == 20
    assert r["downloads_30d_wow_pct_same"] == pytest.approx(20 / 150)
    # a model count's like-for-like change is 0; its change is all membership (+1 new +1 entered -1 left)
    assert (r["models_wow"], r["models_wow_same"]) == (1, 0)
    assert (r["models_new"], r["models_entered"], r["models_left"]) == (1, 1, 1)
    # the first week has nothing to compare with
    first = fw[fw.week == "2026-W33"].iloc[0]
    assert pd.isna(first["downloads_30d_wow_same"]) and pd.isna(first["models_new"])


def test_one_popular_model_entering_is_no_13000_percent_trend():
    # the case: a small family's archive gains one popular (old) model for a week
    ends = model_rows(
        [
            ("2026-08-09", "s", "s/small", "2025-01-01", 100, 1, None),
            ("2026-08-16", "s", "s/small", "2025-01-01", 130, 1, None),
            ("2026-08-16", "s", "s/popular", "2024-01-01", 13_000, 50, None),
        ]
    )
    fd = ends.groupby(["day", "family"], as_index=False)[["downloads_30d"]].sum()
    fw = T.weekly(fd, T.like_for_like(ends)).set_index("week")
    # all models: 13130 / 100 - 1 = +13030 %; same models: 130 / 100 - 1 = +30 %
    assert fw.loc["2026-W33", "downloads_30d_wow_pct"] == pytest.approx(130.30)
    assert fw.loc["2026-W33", "downloads_30d_wow_pct_same"] == pytest.approx(0.30)
    assert fw.loc["2026-W33", "models_entered"] == 1


def test_like_for_like_downloads_week_needs_three_week_ends():
    # x's all-time: 100 (W32 end), 150 (W33 end: +50), 230 (W34 end: +80) -> downloads_week change +30
    ends = model_rows(
        [
            ("2026-08-09", "a", "x", "2025-01-01", 1, 1, 100),
            ("2026-08-16", "a", "x", "2025-01-01", 1, 1, 150),
            ("2026-08-23", "a", "x", "2025-01-01", 1, 1, 230),
        ]
    )
    same = T.like_for_like(ends).set_index("week_start")
    assert same.loc[D("2026-08-17"), "downloads_week_wow_same"] == 30
    assert same.loc[D("2026-08-17"), "downloads_week_base_same"] == 50
    assert pd.isna(same.loc[D("2026-08-10"), "downloads_week_wow_same"])  # W33 has no W31 end to compare


def test_like_for_like_skips_weeks_that_are_not_consecutive():
    ends = model_rows(
        [
            ("2026-08-02", "a", "x", "2025-01-01", 1, 1, 100),
            ("2026-08-16", "a", "x", "2025-01-01", 5, 1, 150),  # two weeks later: no week-over-week change
        ]
    )
    assert T.like_for_like(ends).empty


# --------------------------------------------------------------------------- crossovers


def fam_series(values: dict[str, list], days: list[str], metric="downloads_30d"):
    return pd.DataFrame(
        [{"day": D(d), "family": f, metric: v[k]} for f, v in values.items() for k, d in enumerate(days)]
    )


def test_crossover_by_membership_alone_is_no_headline():
    # a: x 100 -> 101, plus big (entered on 08-11) 60; b: y 150 -> 151.
    # a's sum 100 -> 161 passes b's 150 -> 151; over the same models a went +1, b +1:
    # counterfactual lead = (100 + 1) - (150 + 1) = -50 <= 0 -> does not hold.
    rows = model_rows(
        [
            ("2026-08-10", "a", "a/x", "2025-01-01", 100, 1, None),
            ("2026-08-11", "a", "a/x", "2025-01-01", 101, 1, None),
            ("2026-08-11", "a", "a/big", "2024-01-01", 60, 1, None),
            ("2026-08-10", "b", "b/y", "2025-01-01", 150, 1, None),
            ("2026-08-11", "b", "b/y", "2025-01-01", 151, 1, None),
        ]
    )
    fd = rows.groupby(["day", "family"], as_index=False)[["downloads_30d"]].sum()
    cx = T.crossovers(fd, "downloads_30d")
    assert cx[["day", "family", "overtaken"]].values.tolist() == [[D("2026-08-11"), "a", "b"]]
    out = T.annotate(cx, rows, None)
    assert out["holds_same_models"].tolist() == [False] and out["headline"].tolist() == [False]


def test_crossover_that_holds_over_the_same_models_is_a_headline():
    # a: x 100 -> 160; b: y 150 -> 151 and z 10 left on 08-11 (b: 160 -> 151).
    # same models: a +60, b +1 -> (100 + 60) - (160 + 1) = -1 ... does NOT hold (b's loss made it)
    rows = model_rows(
        [
            ("2026-08-10", "a", "a/x", "2025-01-01", 100, 1, None),
            ("2026-08-11", "a", "a/x", "2025-01-01", 160, 1, None),
            ("2026-08-10", "b", "b/y", "2025-01-01", 150, 1, None),
            ("2026-08-10", "b", "b/z", "2025-01-01", 10, 1, None),
            ("2026-08-11", "b", "b/y", "2025-01-01", 151, 1, None),
        ]
    )
    fd = rows.groupby(["day", "family"], as_index=False)[["downloads_30d"]].sum()
    out = T.annotate(T.crossovers(fd, "downloads_30d"), rows, None)
    assert out["holds_same_models"].tolist() == [False]
    # with a at 163 instead: (100 + 63) - (160 + 1) = +2 -> holds, a headline
    rows.loc[1, "downloads_30d"] = 163
    fd = rows.groupby(["day", "family"], as_index=False)[["downloads_30d"]].sum()
    out = T.annotate(T.crossovers(fd, "downloads_30d"), rows, None)
    assert out["holds_same_models"].tolist() == [True] and out["headline"].tolist() == [True]


def test_model_count_crossovers_are_never_headlines_and_reversals_are_not_either():
    days = ["2026-08-10", "2026-08-11", "2026-08-12", "2026-08-13", "2026-08-14"]
    fd = fam_series({"a": [1, 3, 3, 3, 3], "b": [2, 2, 2, 2, 2]}, days, metric="models")
    fd["likes"] = [1, 3, 1, 1, 1] + [2] * 5  # a over b on 08-11, reversed on 08-12
    cx = T.annotate(T.crossovers(fd, ["models", "likes"]), None, None)
    got = {(r.metric, r.family): (r.reversed, r.headline) for r in cx.itertuples()}
    assert got[("models", "a")] == (False, False)  # membership by definition
    assert got[("likes", "a")] == (True, False)  # reversed within three snapshots
    assert got[("likes", "b")] == (False, True)  # b back ahead on 08-12 and stays: a headline


def test_crossover_after_a_stale_day_says_on_or_before():
    days = ["2026-08-10", "2026-08-11", "2026-08-12"]
    fd = fam_series({"a": [1, 1, 5], "b": [3, 3, 4]}, days)
    fd["likes"] = [1, 1, 5, 3, 3, 4]
    cx = T.crossovers(fd, ["downloads_30d", "likes"])
    assert cx["previous_day"].tolist() == [D("2026-08-11")] * 2
    # 08-11: downloads did not refresh for a -> the downloads crossover may have come on 08-11
    q = pd.DataFrame(
        {"day": [D("2026-08-11")], "family": ["a"], "model_id": [None], "issue": ["stale_downloads"], "detail": ["..."]}
    )
    out = T.annotate(cx, None, q).set_index("metric")
    assert bool(out.loc["downloads_30d", "after_stale"]) is True
    assert bool(out.loc["likes", "after_stale"]) is False  # likes were refreshed
    # a stale day after the crossover is no reason
    q["day"] = [D("2026-08-12")]
    assert not T.annotate(cx, None, q)["after_stale"].any()
    # `stale` (everything unchanged) covers every metric
    q["day"], q["issue"] = [D("2026-08-11")], ["stale"]
    assert T.annotate(cx, None, q)["after_stale"].all()


def test_model_crossovers_as_of_ignore_later_data():
    days = ["2026-08-01", "2026-08-02", "2026-08-03", "2026-08-04"]
    df = pd.DataFrame(
        {
            "day": days * 3,
            "model_id": ["m/a"] * 4 + ["m/b"] * 4 + ["m/c"] * 4,
            # a 5, 20, 30, 1; b 10, 15, 25, 2; c 1, 17, 12, 90
            "downloads_30d": [5, 20, 30, 1, 10, 15, 25, 2, 1, 17, 12, 90],
        }
    )
    # as of 08-03 the top 2 are a (30), b (25): a over b on 08-02; what 08-04 shows changes nothing
    out = T.model_crossovers(df, "downloads_30d", top=2, as_of="2026-08-03")
    assert out[["day", "model_id", "overtaken"]].values.tolist() == [[D("2026-08-02"), "m/a", "m/b"]]
    assert out.equals(T.model_crossovers(df[df.day <= "2026-08-03"], "downloads_30d", top=2))


# --------------------------------------------------------------------------- projections


def linear(days: int, as_of: str, f0: float, fs: float, l0: float, ls: float, noise=None) -> pd.DataFrame:
    k = np.arange(-(days - 1), 1)
    dd = D(as_of) + pd.to_timedelta(k, unit="D")
    f, lv = f0 + fs * k, l0 + ls * k
    if noise is not None:
        f = f + noise
    return pd.DataFrame(
        {
            "day": np.concatenate([dd, dd]),
            "family": ["f"] * days + ["l"] * days,
            "downloads_30d": np.concatenate([f, lv]),
        }
    )


def test_projection_is_a_range_that_widens_with_noise():
    # f = 1000 + 30k, l = 2000 + 10k: equal at k = 50 (2026-10-20), ahead from 2026-10-21. Exact: the
    # range is that one day. With noise +-30 alternating the fitted line barely moves, but the margin
    # grows: the band +-2 * s * sqrt(1 + 1/n + (t - mean t)^2 / sxx) with s = 30 * sqrt(28/26) = 31.1,
    # t = 50, mean t = -13.5, sxx = 28 * (28^2 - 1) / 12 = 1827: 2 * 31.1 * 1.80 = 112; plus twice the
    # line's error on its own history: the fit made ~60 days earlier misses today's value by the noise
    # (30) and its own extrapolation error (its band there is 112 wide: up to ~30 more), 2 * 30..60:
    # +-172..232 at 20/day: +-8.6..11.6 days
    exact = T.projections(linear(120, "2026-08-31", 1000, 30, 2000, 10), "downloads_30d", "2026-08-31")
    assert (exact.loc[0, "projected_from"], exact.loc[0, "projected_to"]) == (D("2026-10-21"), D("2026-10-21"))
    noise = np.where(np.arange(120) % 2 == 0, 30.0, -30.0)
    out = T.projections(linear(120, "2026-08-31", 1000, 30, 2000, 10, noise), "downloads_30d", "2026-08-31")
    assert len(out) == 1
    r = out.iloc[0]
    assert r["projected_from"] < D("2026-10-21") < r["projected_to"]
    assert 17 <= (r["projected_to"] - r["projected_from"]).days <= 23
    assert (r["n_points"], r["first_day"], r["last_day"]) == (28, D("2026-08-04"), D("2026-08-31"))


def test_no_projection_across_a_membership_jump_nor_of_model_counts():
    df = linear(120, "2026-08-31", 1000, 30, 2000, 10)
    assert len(T.projections(df, "downloads_30d", "2026-08-31")) == 1  # a straight line: claimed
    # the leader stepped down by 500 on 08-20 when a model left: a jump (median step 10)
    df.loc[(df.family == "l") & (df.day >= D("2026-08-20")), "downloads_30d"] -= 500
    q = pd.DataFrame(
        {"day": [D("2026-08-20")], "family": ["l"], "model_id": ["l/x"], "issue": ["left"], "detail": ["..."]}
    )
    assert T.membership_jumps(df, "downloads_30d", q) == {("l", D("2026-08-20"))}
    assert T.projections(df, "downloads_30d", "2026-08-31", quality=q).empty
    # a membership note on a day without a step is no jump
    q["day"] = [D("2026-08-25")]
    assert T.membership_jumps(df, "downloads_30d", q) == set()
    df = linear(120, "2026-08-31", 1000, 30, 2000, 10)
    assert len(T.projections(df, "downloads_30d", "2026-08-31", quality=q)) == 1
    # model counts are never projected, however straight the line
    models = linear(35, "2026-08-31", 10, 3, 200, 1).rename(columns={"downloads_30d": "models"})
    assert T.projections(models, "models", "2026-08-31").empty


def test_projection_needs_a_line_that_held_on_history():
    # the follower gains 10/day on a leader at 3000, then, in the last 8 days, faster and faster (a
    # curve). The fit made as far back as the range reaches ahead misses today's gap by more than half
    # the gap -> no claim, although the last 28 days alone fit a line well enough (t >= 5, R^2 >= 0.6)
    k = np.arange(-119, 1)
    f = 1000 + 10.0 * k + np.where(k > -8, 40.0 * (k + 8) ** 2 / 8, 0.0)
    dd = D("2026-08-31") + pd.to_timedelta(k, unit="D")
    df = pd.DataFrame(
        {
            "day": np.concatenate([dd, dd]),
            "family": ["f"] * 120 + ["l"] * 120,
            "downloads_30d": np.concatenate([f, 3000 + 0 * k]),
        }
    )
    assert T.projections(df, "downloads_30d", "2026-08-31").empty
    # without the check (the benchmark's baseline) the same data give a confident claim
    assert len(T.projections(df, "downloads_30d", "2026-08-31", check_history=False)) == 1


def test_backtest_scores_hits_within_the_range():
    # exact lines crossing on 2026-10-21; data run on to 2026-11-30
    df = linear(240, "2026-11-30", 1000 + 30 * 91, 30, 2000 + 10 * 91, 10)
    bt = T.backtest(df, "downloads_30d", ["2026-08-31", "2026-09-15"])
    assert bt["as_of"].tolist() == [D("2026-08-31"), D("2026-09-15")]
    assert bt["actual_day"].tolist() == [D("2026-10-21")] * 2
    assert bt["hit"].tolist() == [True, True]


# --------------------------------------------------------------------------- adoption


def test_relative_adoption_by_hand():
    rows = pd.DataFrame(
        {
            "day": pd.to_datetime(["2026-02-01", "2026-02-01", "2026-02-02", "2026-02-01", "2026-02-10", "2026-02-01"]),
            "family": ["a", "a", "b", "b", "b", "a"],
            "model_id": ["m/1", "m/2", "m/3", "m/4", "m/5", "m/6"],
            # created 31 days before: m/1 m/2 m/4 (age 31), m/3 (age 32), m/5 (age 41: past the slack)
            "created_at": pd.to_datetime(
                ["2026-01-01", "2026-01-01", "2026-01-01", "2026-01-01", "2026-01-01", "2026-01-02"], utc=True
            ),
            "downloads_all_time": pd.array([100, 200, 400, 999, 50, None], dtype="Int64"),
            "downloads_30d": pd.array([1, 1, 1, 1, 1, 70], dtype="Int64"),
            "parameters": [7e9, 8e9, 3e9, 70e9, 7e9, None],
        }
    )
    out = T.adoption(rows).set_index("model_id")
    # under 10B, 2026: m/1 100, m/2 200, m/3 400 -> median 200 -> 0.5, 1.0, 2.0; m/5 is 41 days old
    assert out.loc[["m/1", "m/2", "m/3"], "relative_adoption"].tolist() == [0.5, 1.0, 2.0]
    assert set(out.loc[["m/1", "m/2", "m/3"], "size_class"]) == {"under 10B"}
    assert "m/5" not in out.index
    # m/4 alone in 50-100B -> 1.0; m/6 has no parameters (unknown) and no all-time count: at exactly 30
    # days old its 30-day count (70) is its cumulative count
    assert (out.loc["m/4", "size_class"], out.loc["m/4", "relative_adoption"]) == ("50-100B", 1.0)
    assert (out.loc["m/6", "size_class"], out.loc["m/6", "downloads_all_time"]) == ("unknown", 70.0)
    assert (out["age_days"] == 30).all() and out.loc["m/1", "peers"] == 3
    # as of a day before any milestone: nothing
    assert T.adoption(rows, as_of="2026-01-20").empty


def test_size_classes():
    got = T.size_class([1e9, 9.99e9, 10e9, 49e9, 50e9, 100e9, 1e12, None, 0]).tolist()
    assert got == [
        "under 10B",
        "under 10B",
        "10-50B",
        "10-50B",
        "50-100B",
        "100B and up",
        "100B and up",
        "unknown",
        "unknown",
    ]
