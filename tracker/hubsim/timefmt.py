"""Time in the emulator: whole UTC epoch seconds, and the Hub's timestamp format."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

DAY = 86400
NEVER = np.iinfo(np.int64).max  # "not deleted": a time no clock reaches


def to_epoch(value) -> int:
    """A date / ISO string / datetime / epoch number -> whole UTC epoch seconds."""
    if value is None:
        raise ValueError("time value is None")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, float):
        return int(value // 1)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, str):
        s = value.strip().replace("Z", "+00:00")
        value = datetime.fromisoformat(s)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp() // 1)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp())
    raise TypeError(f"cannot interpret {value!r} as a time")


def to_dt(epoch: int) -> datetime:
    return datetime.fromtimestamp(int(epoch), tz=UTC)


def hub_time(epoch) -> str:
    """Epoch seconds -> the Hub's timestamp format, e.g. ``2022-03-02T23:29:04.000Z``."""
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def hub_times(epochs: np.ndarray) -> list[str]:
    s = np.datetime_as_string(np.asarray(epochs, dtype="int64").astype("datetime64[s]"), unit="ms")
    return [x + "Z" for x in s.tolist()]


def format_oid(hi, lo) -> str:
    """A Hub object id (24 hex digits) from its 4-byte creation time and its 8 other bytes."""
    return f"{int(hi):08x}{int(lo):016x}"


def parse_oid(oid: str) -> tuple[int, int]:
    """The inverse of ``format_oid``."""
    return int(oid[:8], 16), int(oid[8:24], 16)
