"""Printing rows: one function per output format, the same whatever the terminal.

Formats, as sqlite-utils and pypistats name them: ``table`` (a boxed table, the default), ``csv``,
``tsv``, ``json`` (an array of objects), ``jsonl`` (one object per line) and ``md`` (a GitHub
Markdown table). Values are made plain first (``plain``): NULL (None, NaN, NaT, pd.NA) is an empty
cell in csv/tsv/table/md and ``null`` in JSON; dates and timestamps are ISO 8601 (``2026-08-03``,
``2026-08-17T06:00:00Z``); nested values (DuckDB lists and structs) are JSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

FORMATS = ("table", "csv", "tsv", "json", "jsonl", "md")
DEFAULT = "table"


def iso(value: dt.date | dt.datetime | dt.time) -> str:
    """ISO 8601; UTC instants end in Z: 2026-08-17T06:00:00Z, 2026-08-17T06:00:00.250000Z, 2026-08-03."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None and value.utcoffset() == dt.timedelta(0):
            return value.replace(tzinfo=None).isoformat() + "Z"
        return value.isoformat()
    return value.isoformat()


def plain(value: Any) -> Any:
    """A JSON-ready Python value: None, bool, int, float, str, list or dict."""
    if value is None or (isinstance(value, (bool, str, int)) and not _is_np(value)):
        return value
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            return iso(value.to_pydatetime())
        if isinstance(value, pd.Timedelta):
            value = value.to_pytimedelta()
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if _is_np(value):
        value = value.item()
        if isinstance(value, (bool, int, str)):
            return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return iso(value)
    if isinstance(value, dt.timedelta):
        return _duration(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays inside list columns
        return plain(value.tolist())
    return str(value)


def _is_np(value: Any) -> bool:
    return type(value).__module__ == "numpy"


def _duration(td: dt.timedelta) -> str:
    """ISO 8601 duration: P1DT2H3M4S, PT0S."""
    secs = td.total_seconds()
    sign, secs = ("-", -secs) if secs < 0 else ("", secs)
    days, rest = divmod(secs, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    time_part = "".join(f"{int(v)}{u}" for v, u in ((h, "H"), (m, "M")) if v) + (f"{s:g}S" if s else "")
    out = f"{sign}P" + (f"{int(days)}D" if days else "") + (f"T{time_part}" if time_part else "")
    return out if out not in ("P", "-P") else "PT0S"


def _cell(value: Any) -> str:
    """A plain value as text in a cell: NULL is empty, nested values are JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def rows_of_frame(df) -> tuple[list[str], list[list[Any]]]:
    """A DataFrame's columns and rows (for commands that hold a frame rather than a cursor)."""
    return [str(c) for c in df.columns], df.astype(object).to_numpy().tolist()


def render(columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str = DEFAULT, *, headers: bool = True) -> str:
    """The text of `rows` in `fmt` (one of FORMATS), ending with a newline (empty for no output)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    cols = [str(c) for c in columns]
    data = [[plain(v) for v in r] for r in rows]
    if fmt in ("json", "jsonl"):
        objs = [dict(zip(cols, r, strict=True)) for r in data]
        if fmt == "jsonl":
            return "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in objs)
        return json.dumps(objs, ensure_ascii=False) + "\n"
    if fmt in ("csv", "tsv"):
        buf = io.StringIO()
        w = csv.writer(buf, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        if headers:
            w.writerow(cols)
        w.writerows([_cell(v) for v in r] for r in data)
        return buf.getvalue()
    from tabulate import tabulate

    text = [[_cell(v) for v in r] for r in data]
    align = (
        [
            "right"
            if any(v is not None for v in col)
            and all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in col)
            else "left"
            for col in zip(*data, strict=True)
        ]
        if data
        else None
    )
    if fmt == "md":
        text = [[c.replace("|", "\\|").replace("\n", " ") for c in r] for r in text]
        out = tabulate(
            text,
            headers=[c.replace("|", "\\|") for c in cols] if headers else (),
            tablefmt="github",
            disable_numparse=True,
            colalign=align,
        )
        return out + "\n"
    if not data:
        return "(no rows)\n" if not headers else tabulate([], headers=cols, tablefmt="simple_outline") + "\n(no rows)\n"
    out = tabulate(
        text, headers=cols if headers else (), tablefmt="simple_outline", disable_numparse=True, colalign=align
    )
    return out + "\n"


def render_obj(obj: Any) -> str:
    """A whole JSON document (commands whose --json output is one object, like `tracker status`)."""
    return json.dumps(plain(obj), indent=2, ensure_ascii=False) + "\n"
