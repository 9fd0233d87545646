"""The day x entity matrix every crossover and projection is computed on (crossovers.wide), and the day
normalisation (days), against plain pandas spellings of the same rule on small random frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker.trends.common import days
from tracker.trends.crossovers import wide


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    names = np.array(["qwen", "Qwen/b", "llama", "ä/x", "Z"], dtype=object)
    values = np.where(rng.random(n) < 0.3, None, rng.integers(0, 5, n)).tolist()
    df = pd.DataFrame(
        {
            "day": pd.Series(pd.Timestamp("2026-08-01") + pd.to_timedelta(rng.integers(0, 6, n), unit="D")),
            "family": pd.Series(names[rng.integers(0, len(names), n)], dtype="str"),
            "v": pd.array(values, dtype="Int64"),
        }
    )
    df.loc[rng.random(n) < 0.1, "family"] = None
    df.loc[rng.random(n) < 0.1, "day"] = pd.NaT
    return df


@pytest.mark.slow
def test_wide_is_the_last_value_of_each_day_and_family_sorted_both_ways():
    rng = np.random.default_rng(5)
    for _ in range(100):
        df = _frame(rng, int(rng.integers(1, 40)))
        # the rule spelled out: rows with a day and a family; per cell the last row with a value
        keyed = df.dropna(subset=["day", "family"])
        truth = keyed.dropna(subset=["v"]).groupby(["day", "family"])["v"].agg(lambda s: s.iloc[-1])
        d, names, x = wide(df, "v", "family")
        assert list(d) == sorted(set(keyed["day"]))
        assert list(names) == sorted(set(keyed["family"]))
        got = {(d[i], names[j]): x[i, j] for i in range(len(d)) for j in range(len(names)) if not np.isnan(x[i, j])}
        assert got == {k: float(v) for k, v in truth.items()}


def test_days_of_an_already_normalised_column_equal_days_of_its_text():
    col = pd.Series(pd.to_datetime(["2026-08-01", None, "1969-12-31"])).astype("datetime64[us]")
    text = pd.Series(["2026-08-01", None, "1969-12-31"], dtype="str")
    assert days(col).equals(days(text))
    stamped = pd.Series(pd.to_datetime(["2026-08-01T06:30:00"])).astype("datetime64[us]")
    assert days(stamped).iloc[0] == pd.Timestamp("2026-08-01")  # a time of day is still cut off
