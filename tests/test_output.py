"""`tracker sql` output formats, worked out by hand on a small result with NULLs, dates and timestamps,
and through DuckDB itself (the types it returns)."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import pandas as pd
import pytest

from tracker import output

COLS = ["day", "family", "n", "share", "at"]
ROWS = [
    (dt.date(2026, 8, 3), "qwen", 12, 0.5, dt.datetime(2026, 8, 3, 6, 0, tzinfo=dt.UTC)),
    (dt.date(2026, 8, 4), None, None, float("nan"), None),
    (
        dt.date(2026, 8, 5),
        'a,b "c"',
        7,
        decimal.Decimal("2.50"),
        dt.datetime(2026, 8, 5, 6, 0, 0, 250000, tzinfo=dt.UTC),
    ),
]


def test_csv_null_is_empty_dates_iso():
    assert output.render(COLS, ROWS, "csv") == (
        "day,family,n,share,at\n"
        "2026-08-03,qwen,12,0.5,2026-08-03T06:00:00Z\n"
        "2026-08-04,,,,\n"
        '2026-08-05,"a,b ""c""",7,2.5,2026-08-05T06:00:00.250000Z\n'
    )


def test_tsv_and_no_headers():
    assert output.render(COLS, ROWS[:2], "tsv", headers=False) == (
        "2026-08-03\tqwen\t12\t0.5\t2026-08-03T06:00:00Z\n2026-08-04\t\t\t\t\n"
    )


def test_json_and_jsonl_null_is_null():
    want = [
        {"day": "2026-08-03", "family": "qwen", "n": 12, "share": 0.5, "at": "2026-08-03T06:00:00Z"},
        {"day": "2026-08-04", "family": None, "n": None, "share": None, "at": None},
    ]
    assert json.loads(output.render(COLS, ROWS[:2], "json")) == want
    lines = output.render(COLS, ROWS[:2], "jsonl").splitlines()
    assert [json.loads(x) for x in lines] == want


def test_table_is_boxed_and_numbers_right_aligned():
    text = output.render(["family", "n"], [("qwen", 12), ("llama", None), ("x", 7)], "table")
    assert text.splitlines() == [
        "┌──────────┬─────┐",
        "│ family   │   n │",
        "├──────────┼─────┤",
        "│ qwen     │  12 │",
        "│ llama    │     │",
        "│ x        │   7 │",
        "└──────────┴─────┘",
    ]
    assert output.render(["n"], [], "table").endswith("(no rows)\n")


def test_markdown_escapes_pipes():
    assert output.render(["a", "b"], [("x|y", 1)], "md").splitlines() == [
        "| a    |   b |",
        "|------|-----|",
        "| x\\|y |   1 |",
    ]  # x\|y is 4 characters wide


def test_pandas_values_are_plain():
    cols, rows = output.rows_of_frame(
        pd.DataFrame({"d": pd.to_datetime(["2026-08-03", None]), "n": pd.array([1, None], dtype="Int64")})
    )
    assert json.loads(output.render(cols, rows, "json")) == [
        {"d": "2026-08-03T00:00:00", "n": 1},
        {"d": None, "n": None},
    ]


def test_duckdb_types(tmp_path):
    import duckdb

    con = duckdb.connect()
    cur = con.execute(
        "select DATE '2026-08-03' as d, TIMESTAMPTZ '2026-08-17 06:00:00+00' as t, "
        "NULL::BIGINT as n, [1, 2] as l, {'a': 1} as s, INTERVAL 90 MINUTE as i, 1.25::DECIMAL(5,2) as m"
    )
    cols = [c[0] for c in cur.description]
    got = json.loads(output.render(cols, cur.fetchall(), "json"))
    assert got == [
        {
            "d": "2026-08-03",
            "t": "2026-08-17T06:00:00Z",
            "n": None,
            "l": [1, 2],
            "s": {"a": 1},
            "i": "PT1H30M",
            "m": 1.25,
        }
    ]


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        output.render(["a"], [], "xml")
