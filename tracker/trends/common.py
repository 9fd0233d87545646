"""Helpers every trend module shares: day normalisation, nullable numbers, ISO weeks, empty frames."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

DAY = np.timedelta64(1, "D")
_US_PER_DAY = 86_400_000_000


def days(s: Any) -> pd.Series:
    """Normalise dates/timestamps/strings to tz-naive datetime64[us] at midnight."""
    s = pd.Series(s) if not isinstance(s, pd.Series) else s
    if s.dtype == "datetime64[us]":  # already normalised (most callers pass a column of this kind): as is
        v = s.to_numpy().view("int64")
        if ((v % _US_PER_DAY == 0) | np.isnat(s.to_numpy())).all():
            return s
    out = pd.to_datetime(s, format="ISO8601" if pd.api.types.is_string_dtype(s) else None)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)  # keep the wall-clock date the caller wrote
    return out.dt.normalize().astype("datetime64[us]")


def day(x: Any) -> pd.Timestamp:
    ts = pd.Timestamp(x)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize()


def utc(s: pd.Series) -> pd.Series:
    """Timestamps to tz-aware UTC; naive values are taken to be UTC already."""
    fmt = "ISO8601" if pd.api.types.is_string_dtype(s) else None
    return pd.to_datetime(s, utc=True, format=fmt).astype("datetime64[us, UTC]")


def floats(s: Any) -> np.ndarray:
    """Any numeric (incl. nullable Int64 with NA) to float64 with NaN for missing."""
    s = pd.Series(s) if not isinstance(s, pd.Series) else s
    if not pd.api.types.is_numeric_dtype(s.dtype):  # text, objects: parsed (what is not a number is NaN)
        s = pd.to_numeric(s, errors="coerce")
    return s.to_numpy(dtype="float64", na_value=np.nan)


def nullable(s: pd.Series) -> pd.Series:
    """Numeric column to a nullable dtype (Int64 if integral or boolean dtype, else Float64)."""
    if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("Int64")
    return pd.to_numeric(s, errors="coerce").astype("Float64")


def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den as Float64; NA where either is NA or den is 0."""
    n, d = floats(num), floats(den)
    ok = ~np.isnan(n) & ~np.isnan(d) & (d != 0)
    out = np.full(len(n), np.nan)
    np.divide(n, d, out=out, where=ok)
    return pd.Series(pd.arrays.FloatingArray(out, np.isnan(out)), index=num.index)  # NaN -> NA


def metric_list(metric: str | Iterable[str]) -> list[str]:
    return [metric] if isinstance(metric, str) else list(metric)


def week_label(d: Any) -> str:
    """ISO week label of a date: ``week_label("2026-08-17") == "2026-W34"``."""
    y, w, _ = day(d).isocalendar()
    return f"{y}-W{w:02d}"


def week_start(week: str) -> pd.Timestamp:
    """Monday of an ISO week label: ``week_start("2026-W34") == Timestamp("2026-08-17")``."""
    year, w = week.split("-W")
    return pd.Timestamp(pd.Timestamp.fromisocalendar(int(year), int(w), 1)).normalize()


def monday(d: pd.Series) -> pd.Series:
    """The Monday of each day's ISO week (datetime64[us])."""
    return (d - pd.to_timedelta(d.dt.day_of_week, unit="D")).astype("datetime64[us]")


def iso(ts: Any) -> str:
    return "?" if pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%d")


def stamp(ts: Any) -> str:
    return "unknown" if pd.isna(ts) else pd.Timestamp(ts).strftime("%Y-%m-%dT%H:%MZ")


_DTYPES = {
    "day": "datetime64[us]",
    "previous_day": "datetime64[us]",
    "as_of": "datetime64[us]",
    "week_start": "datetime64[us]",
}


_EMPTY: dict[tuple, pd.DataFrame] = {}  # built once per layout (an empty frame of many columns is slow)


def empty(cols: list[str], dtypes: dict[str, str] | None = None) -> pd.DataFrame:
    """An empty frame with these columns; dtypes from `dtypes`, else dates for day-like names, else str."""
    dtypes = {**_DTYPES, **(dtypes or {})}
    key = tuple((c, dtypes.get(c, "str")) for c in cols)
    if key not in _EMPTY:
        _EMPTY[key] = pd.DataFrame({c: pd.Series(dtype=t) for c, t in key})
    return _EMPTY[key].copy()
