"""Record validation: values the Hub did not give stay NULL; wrong types go to quarantine."""

import json

import pandas as pd

from tracker.records import check


def test_good_records_are_typed_and_missing_values_are_null():
    c = check(
        [
            {
                "id": "Qwen/a",
                "downloads": 10,
                "downloadsAllTime": 100,
                "likes": 3,
                "trendingScore": 7,
                "createdAt": "2025-01-02T03:04:05.000Z",
                "pipeline_tag": "text-generation",
                "gated": False,
            },
            {"id": "Qwen/b", "gated": "manual"},
        ]
    )
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
    assert sorted(zip(c.rows.model_id, c.rows.likes, strict=True)) == [("a/x", 2), ("a/y", 5)]


def test_counts_outside_a_sane_range_are_quarantined():
    recs = [
        {"id": "a/big", "downloads": 2**63},
        {"id": "a/huge", "downloadsAllTime": 10**30},
        {"id": "a/max", "likes": 2**63 - 1},
        {"id": "a/edge", "downloads": 2**53},
        {"id": "a/float", "downloads": 3.0},
        {"id": "a/inf", "trendingScore": float("inf")},
        {"id": "a/nan", "trendingScore": float("nan")},
    ]
    c = check(recs)
    assert list(c.rows.model_id) == ["a/edge"] and int(c.rows.downloads_30d[0]) == 2**53
    reasons = {mid: why for mid, why, _raw in c.bad}
    assert reasons["a/big"] == f"downloads is {2**63}, above 2^53: not a plausible count"
    assert "above 2^53" in reasons["a/huge"] and "above 2^53" in reasons["a/max"]
    assert "downloads is float" in reasons["a/float"]
    assert "finite" in reasons["a/inf"] and "finite" in reasons["a/nan"]


def test_ids_the_hub_would_refuse_or_of_another_author_are_quarantined():
    good = ["Qwen/Qwen3-8B", "Qwen/q_1.5-b", "qwen/lower-case-author"]
    bad = [
        "Qwen/..",
        "../x",
        "Qwen/a--b",
        "Qwen/x.git",
        "Qwen/-x",
        "Qwen/x.",
        "Qwen/" + "x" * 97,
        "Qwen/a b",
        "Qwen/a/b",
        "other/model",
        "Qwen/é",
    ]
    c = check([{"id": i} for i in good + bad], authors=["Qwen"])
    assert sorted(c.rows.model_id) == sorted(good)
    reasons = {mid: why for mid, why, _raw in c.bad}
    assert set(reasons) == set(bad)
    assert reasons["other/model"] == "id 'other/model' is not by Qwen, the author it was listed for"
    assert "characters the Hub does not allow" in reasons["Qwen/.."]
    assert "owner/name" in reasons["Qwen/a/b"]
    assert check([{"id": "Qwen/" + "x" * 96}], authors=["Qwen"]).bad == []


def test_family_sums_that_would_overflow_are_reported():
    from tracker.records import sums_overflow

    ok = check([{"id": f"a/m{i}", "downloads": 2**53} for i in range(1023)])
    assert ok.bad == [] and sums_overflow(ok.rows) is None  # 1023 * 2^53 < 2^63 - 1 < 1024 * 2^53 = 2^63
    over = check([{"id": f"a/m{i}", "downloads": 2**53} for i in range(1024)])
    assert sums_overflow(over.rows) == (
        f"the sum of downloads_30d over the family ({2**63}) does not fit a 64-bit integer"
    )


def test_all_time_jumps_by_hand():
    from tracker.records import all_time_jumps

    prev = pd.Series({"a": 1_000, "b": 50, "c": 10_000, "d": None, "e": 1_000})
    cur = pd.Series({"a": 1_000_000_000, "b": 99_000, "c": 900_000, "d": 10**9, "e": 100_001, "f": 10**9})
    got = all_time_jumps(prev, cur, factor=100)
    # a: 1e9 > 100 * 1000; b: 99,000 <= 100 * max(50, 1000); c: 900,000 <= 1,000,000; d, f: no previous value;
    # e: 100,001 > 100,000
    assert got.to_dict() == {"a": True, "b": False, "c": False, "d": False, "e": True, "f": False}
