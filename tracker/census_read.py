"""Reading the census for other jobs: what `backfill` and the report's "Whole Hub" section need.

The census days themselves are built by census_build; these readers go through the census views
(`_census_days`, `_census_ids`, ...) or one day's files, so they never see an unfinished census.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tracker import lineage
from tracker.warehouse import Warehouse
from tracker.warehouse.layout import sql_str


def _day_file(wh: Warehouse, dataset: str, day: dt.date, run_id: str) -> str:
    """The census day's file of a dataset, quoted for a SQL string literal."""
    return sql_str(str(wh.root / dataset / day.isoformat() / f"{run_id}.parquet"))


def latest_tree(wh: Warehouse, families) -> tuple[dict[str, list[str]], Any, dict[str, Any], dt.date] | None:
    """What `backfill` needs, from the latest census held (no request): each family's own models,
    their children (parent_id, model_id, relation, created_at; one row with model_id NULL per parent),
    every model's creation time, and the census day. None when no census is held."""
    held = wh.read("SELECT day, run_id FROM _census_days ORDER BY day DESC LIMIT 1")
    if held.empty:
        return None
    day, run_id = held.day[0].date(), held.run_id[0]
    authors = sorted({a for f in families for a in f.authors})
    listed = wh.read(
        f"""
        SELECT m.model_key, i.model_id, i.created_at
        FROM read_parquet('{_day_file(wh, "census_models", day, run_id)}') m
        JOIN _census_ids i USING (model_key)
        WHERE split_part(i.model_id, '/', 1) IN (SELECT unnest($a))""",
        {"a": authors},
    )
    own = lineage.own_masks(listed.model_id.tolist(), None, families)
    members = {f.name: sorted(listed.model_id[own[f.name]]) for f in families}
    keys = sorted({int(k) for f in families for k in listed.model_key[own[f.name]]})
    edges = wh.read(
        f"""
        SELECT p.model_id AS parent_id, c.model_id, e.relation, c.created_at
        FROM read_parquet('{_day_file(wh, "census_edges", day, run_id)}') e
        JOIN _census_ids c ON c.model_key = e.model_key JOIN _census_ids p ON p.model_key = e.parent_key
        WHERE e.parent_key IN (SELECT unnest($k)) AND e.model_key <> e.parent_key""",
        {"k": keys},
    )
    import pandas as pd

    marks = pd.DataFrame(
        {
            "parent_id": sorted({m for ids in members.values() for m in ids}),
            "model_id": None,
            "relation": None,
            "created_at": pd.NaT,
        }
    )
    created = wh.read(
        "SELECT model_id, created_at FROM _census_ids WHERE model_key IN (SELECT unnest($k))", {"k": keys}
    )
    return (
        members,
        pd.concat([marks, edges], ignore_index=True),
        dict(zip(created.model_id, created.created_at, strict=True)),
        day,
    )


def report_data(wh: Warehouse, until: dt.date) -> dict[str, Any] | None:
    """The report's "Whole Hub" figures (report.whole_hub.WholeHub's fields) from the latest census
    of a day up to `until`, or None when none is held."""
    held = wh.read("SELECT day, run_id FROM _census_days WHERE day <= $u ORDER BY day DESC LIMIT 1", {"u": until})
    if held.empty:
        return None
    day, run_id = held.day[0].date(), held.run_id[0]

    stats = wh.read(f"SELECT * FROM read_parquet('{_day_file(wh, 'census_stats', day, run_id)}')").iloc[0].to_dict()
    return {
        "day": day,
        "stats": stats,
        "share": wh.read(
            f"SELECT month, family, new_derivatives, share, share_of_hub "
            f"FROM read_parquet('{_day_file(wh, 'census_share', day, run_id)}') ORDER BY month, family"
        ),
        "ecosystem": wh.read("SELECT * FROM family_ecosystem WHERE day = $d", {"d": day}),
        "hub": wh.read("SELECT * FROM hub_daily WHERE day = $d", {"d": day}),
        "authors": wh.read("SELECT * FROM _census_authors WHERE day = $d", {"d": day}),
    }
