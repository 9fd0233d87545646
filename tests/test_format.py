"""Number formatting of the report, worked out by hand."""

import pandas as pd
import pytest

from tracker.report.format import distinct, human, pct


@pytest.mark.parametrize(
    "n, text",
    [
        (283_000_000, "283.0M"),  # 283e6 / 1e6 = 283.0
        (29_400_000, "29.4M"),
        (12_345, "12.3k"),  # 12.345 -> 12.3
        (950, "950"),
        (999_960, "1.0M"),  # 999.96k would round to "1000.0k": one unit up
        (1_500_000_000, "1.5B"),
        (-12_345, "-12.3k"),
        (0, "0"),
        (pd.NA, "n/a"),
        (float("nan"), "n/a"),
    ],
)
def test_human(n, text):
    assert human(n) == text


@pytest.mark.parametrize(
    "x, text",
    [(0.1237, "+12.4%"), (-0.03, "-3.0%"), (0.0, "0.0%"), (-0.0004, "0.0%"), (1.5, "+150.0%"), (None, "n/a")],
)
def test_pct(x, text):
    assert pct(x) == text


@pytest.mark.parametrize(
    "a, b, want",
    [
        (7_451_000, 7_449_000, ("7.5M", "7.4M")),  # 7.451 -> 7.5, 7.449 -> 7.4: one decimal tells them apart
        (7_460_000, 7_450_000, ("7.46M", "7.45M")),  # both 7.5M at one decimal
        (3_153, 3_152, ("3.153k", "3.152k")),
        (12_400, 12_000, ("12.4k", "12.0k")),
        (1_000_000_001, 1_000_000_000, ("1,000,000,001", "1,000,000,000")),  # 4 decimals do not tell them apart
        (5, 5, ("5", "5")),
    ],
)
def test_distinct_uses_enough_digits(a, b, want):
    assert distinct(a, b) == want
