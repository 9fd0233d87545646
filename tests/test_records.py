"""Record validation: values the Hub did not give stay NULL; wrong types go to quarantine."""

import json

import pandas as pd

from tracker.records import check


def test_good_records_are_typed_and_missing_values_are_null():
    c = check([
        {"id": "Qwen/a", "downloads": 10, "downloadsAllTime": 100, "likes": 3, "trendingScore": 7,
         "createdAt": "2025-01-02T03:04:05.000Z", "pipeline_tag": "text-generation", "gated": False},
        {"id": "Qwen/b", "gated": "manual"},
    ])
    assert c.bad == [] and c.total == 2
    a, b = c.rows.iloc[0], c.rows.iloc[1]
    assert (a.model_id, a.author, a.downloads_30d, a.downloads_all_time, a.likes) == ("Qwen/a", "Qwen", 10, 100, 3)
    assert a.created_at == pd.Timestamp("2025-01-02T03:04:05", tz="UTC")
    assert a.gated == "false" and b.gated == "manual"
    assert pd.isna(b.downloads_30d) and pd.isna(b.likes) and pd.isna(b.created_at) and pd.isna(b.pipeline_tag)
    assert str(c.rows.downloads_30d.dtype) == "Int64"


def test_bad_records_are_quarantined_with_reason_and_raw():
    recs = [
        {"id": "a/ok", "likes": 1},
        {"id": "a/str", "likes": "12"},
        {"id": "a/neg", "downloads": -5},
        {"downloads": 3},
        {"id": "noslash"},
        {"id": "a/float", "downloadsAllTime": 1.5},
        {"id": "a/bool", "likes": True},
        {"id": "a/time", "createdAt": "yesterday"},
        "not a dict",
    ]
    c = check(recs)
    assert list(c.rows.model_id) == ["a/ok"]
    reasons = {mid: why for mid, why, _raw in c.bad}
    assert reasons["a/str"] == "likes is str '12', expected a non-negative integer"
    assert reasons["a/neg"] == "downloads is negative (-5)"
    assert reasons[None] in ("no id", "record is str, not an object")
    assert "owner/name" in reasons["noslash"]
    assert "downloadsAllTime is float" in reasons["a/float"]
    assert "likes is bool" in reasons["a/bool"]
    assert "not an ISO-8601 timestamp" in reasons["a/time"]
    assert len(c.bad) == 8 and c.total == 9
    raw = {mid: r for mid, _w, r in c.bad}
    assert json.loads(raw["a/str"]) == {"id": "a/str", "likes": "12"}
    assert c.bad_share == 8 / 9


def test_duplicate_ids_keep_the_last_record():
    c = check([{"id": "a/x", "likes": 1}, {"id": "a/y", "likes": 5}, {"id": "a/x", "likes": 2}])
    assert sorted(zip(c.rows.model_id, c.rows.likes)) == [("a/x", 2), ("a/y", 5)]
