"""Property tests (hypothesis) for tracker.trends."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker import trends as T

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
START = pd.Timestamp("2026-01-05")


@st.composite
def panels(draw, max_days=12, max_entities=4, max_value=6, na=True):
    """A day x entity panel of small ints (many ties) with NA holes, as a long frame."""
    n_days = draw(st.integers(1, max_days))
    n_ent = draw(st.integers(1, max_entities))
    value = st.integers(0, max_value)
    cell = st.one_of(st.none(), value) if na else value
    vals = draw(st.lists(cell, min_size=n_days * n_ent, max_size=n_days * n_ent))
    days = [START + pd.Timedelta(days=d) for d in range(n_days) for _ in range(n_ent)]
    ents = [f"e{e}" for _ in range(n_days) for e in range(n_ent)]
    return pd.DataFrame({"day": days, "family": ents, "x": pd.array(vals, dtype="Int64")})


@pytest.mark.slow
@FAST
@given(panels(max_value=1000), st.sampled_from(["family", "region"]))
def test_shares_sum_to_one_per_period(df, by):
    df["region"] = df["family"].map({"e0": "us", "e1": "china", "e2": "eu", "e3": "us"})
    out = T.shares(df, "x", by=by)
    for _day, g in out.groupby("day"):
        total = g["value"].sum()  # skips NA
        if pd.isna(total) or total == 0:
            assert g["share"].isna().all()
        else:
            assert g["share"].sum() == pytest.approx(1.0)
            # a group without a value has no share
            assert (g["share"].isna() == g["value"].isna()).all()


def brute_force_crossovers(df):
    """Reference: walk each ordered pair's both-valid days in order, skipping ties."""
    wide = df.pivot(index="day", columns="family", values="x")
    found = set()
    for a in wide.columns:
        for b in wide.columns:
            if a == b:
                continue
            both = wide[[a, b]].dropna()
            prev = None  # the last (a, b) that differed
            for day, (va, vb) in both.iterrows():
                if prev is not None and va > vb and prev[0] < prev[1]:
                    found.add((day, a, b))
                if va != vb:
                    prev = (va, vb)
    return found


@pytest.mark.slow
@FAST
@given(panels())
def test_crossovers_only_where_the_sign_changed(df):
    out = T.crossovers(df, "x")
    val = {(d, f): v for d, f, v in zip(df["day"], df["family"], df["x"], strict=True)}
    for r in out.itertuples(index=False):
        a_now, b_now = val[(r.day, r.family)], val[(r.day, r.overtaken)]
        a_prev, b_prev = val[(r.previous_day, r.family)], val[(r.previous_day, r.overtaken)]
        # the row's values are the input's, and A - B went from < 0 to > 0
        assert (r.family_value, r.overtaken_value) == (a_now, b_now)
        assert (r.family_previous_value, r.overtaken_previous_value) == (a_prev, b_prev)
        assert a_now - b_now > 0 and a_prev - b_prev < 0
        # previous_day is the last day before on which they differed: only ties or NA in between
        for d in pd.date_range(r.previous_day + pd.Timedelta(days=1), r.day - pd.Timedelta(days=1)):
            va, vb = val.get((d, r.family)), val.get((d, r.overtaken))
            assert pd.isna(va) or pd.isna(vb) or va == vb
    # and nothing is missed
    got = set(zip(out["day"], out["family"], out["overtaken"], strict=True))
    assert got == brute_force_crossovers(df)


@pytest.mark.slow
@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_fam=st.integers(2, 6),
    window=st.sampled_from([14, 21, 28, 42]),
    sd=st.sampled_from([0.5, 10.0, 1e4]),
    holes=st.floats(0.0, 0.3),
)
def test_pure_noise_never_yields_a_projection(seed, n_fam, window, sd, holes):
    rng = np.random.default_rng(seed)
    n_days = window + 5
    level = 1e6
    vals = level + rng.normal(0.0, sd, size=(n_days, n_fam))
    vals[rng.random(vals.shape) < holes] = np.nan
    days = START + pd.to_timedelta(np.repeat(np.arange(n_days), n_fam), unit="D")
    df = pd.DataFrame({"day": days, "family": [f"f{i}" for i in range(n_fam)] * n_days, "x": vals.ravel()})
    out = T.projections(df, "x", days.max(), window_days=window)
    assert out.empty, out


@pytest.mark.slow
@settings(max_examples=50, deadline=None)
@given(
    lead=st.integers(1_000, 1_000_000),
    slope_leader=st.integers(0, 5_000),
    slope_diff=st.integers(5, 20_000),
    cross_after=st.floats(1.0, 170.0),
    window=st.sampled_from([14, 28, 35]),
)
def test_diverging_linear_pair_is_projected_on_the_right_day(lead, slope_leader, slope_diff, cross_after, window):
    # follower and leader are equal cross_after days after as_of; values are rounded to whole
    # downloads, the only noise. Exact answer: first whole day k with gap - slope_diff*k < 0. The data
    # reach 180 days before the window, for the history check (the fit made as far back as the range
    # reaches ahead).
    gap = slope_diff * cross_after
    as_of = START + pd.Timedelta(days=60)
    k = np.arange(-(window - 1) - 180, 1)
    leader = np.round(lead + gap + slope_leader * k)
    follower = np.round(lead + (slope_leader + slope_diff) * k)
    days = as_of + pd.to_timedelta(k, unit="D")
    df = pd.DataFrame(
        {
            "day": np.concatenate([days, days]),
            "family": ["follower"] * len(k) + ["leader"] * len(k),
            "downloads_30d": np.concatenate([follower, leader]),
        }
    )
    out = T.projections(df, "downloads_30d", as_of, window_days=window)
    expected = as_of + pd.Timedelta(days=int(np.floor(cross_after)) + 1)
    assert len(out) == 1
    assert (out.loc[0, "family"], out.loc[0, "overtaken"]) == ("follower", "leader")
    assert abs((out.loc[0, "projected_day"] - expected).days) <= 1
    assert out.loc[0, "projected_from"] <= out.loc[0, "projected_day"] <= out.loc[0, "projected_to"]


@pytest.mark.slow
@settings(max_examples=20, deadline=None)
@given(panels(max_days=10, max_entities=3, max_value=1000))
def test_downloads_day_totals_match_all_time_growth_of_a_stable_set(df):
    # With a fixed set of old models that never fall (cumulative sums), the spread daily
    # downloads add up to last - first all-time per model, over the days both are known.
    df = df.rename(columns={"family": "model_id"})
    df["x"] = df["x"].fillna(0).astype("int64")
    df["downloads_all_time"] = df.groupby("model_id")["x"].cumsum().astype("Int64")
    df["family"] = "fam"
    df["created_at"] = pd.Timestamp("2020-01-01", tz="UTC")
    out = T.downloads_day(df)
    first = df[df["day"] == df["day"].min()].set_index("model_id")["downloads_all_time"]
    last = df[df["day"] == df["day"].max()].set_index("model_id")["downloads_all_time"]
    expected = float((last - first).sum())
    if df["day"].nunique() == 1:
        assert out.empty
    else:
        assert out["downloads_day"].sum() == pytest.approx(expected)
