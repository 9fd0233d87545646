"""Number formatting for people (the report's only place for it)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

_UNITS = ((1e9, "B"), (1e6, "M"), (1e3, "k"), (1.0, ""))


def _missing(n: Any) -> bool:
    return n is None or n is pd.NA or (isinstance(n, float) and (math.isnan(n) or math.isinf(n)))


def human(n: Any, digits: int = 1) -> str:
    """Format a count for people: 283_000_000 -> "283.0M", 12_345 -> "12.3k", 950 -> "950".

    NA/NaN -> "n/a". Negative numbers keep their sign ("-12.3k"). ``digits``: decimals after a unit.
    """
    if _missing(n):
        return "n/a"
    x = float(n)
    sign = "-" if x < 0 else ""
    a = abs(x)
    for k, (div, suffix) in enumerate(_UNITS):
        if a >= div or div == 1.0:
            d = digits if suffix else 0
            # 999_960 would read "1000.0k": move up a unit when rounding reaches 1000
            if k > 0 and round(a / div, d) >= 1000:
                div, suffix = _UNITS[k - 1]
            return f"{sign}{a / div:.{d}f}{suffix}"
    return f"{sign}{a:.0f}"  # pragma: no cover - the loop always returns


def distinct(a: Any, b: Any) -> tuple[str, str]:
    """Two values formatted with the fewest decimals (1 to 4) that tell them apart, else in full:
    (7_451_000, 7_449_000) -> ("7.451M", "7.449M"); equal values stay short."""
    if _missing(a) or _missing(b) or float(a) == float(b):
        return human(a), human(b)
    for d in range(1, 5):
        x, y = human(a, d), human(b, d)
        if x != y:
            return x, y
    return f"{float(a):,.0f}", f"{float(b):,.0f}"


def pct(x: Any) -> str:
    """Format a fraction as a signed percentage: 0.1237 -> "+12.4%", -0.03 -> "-3.0%".

    A change that rounds to zero is "0.0%"; NA/NaN/inf -> "n/a".
    """
    if _missing(x):
        return "n/a"
    r = round(float(x) * 100, 1)
    return "0.0%" if r == 0 else f"{r:+.1f}%"
