"""Arrow schemas of the census datasets (`tracker census`, `tracker import` of a whole-Hub dump).

Kept apart from warehouse.py so that the census owns its tables; the warehouse seeds an empty file
for each (its views glob the folders) and checks every written frame against them.

A census day is stored keyed: `census_ids` gives every model id (and every parent id that was not
itself listed) a stable integer key once, so that the daily files hold only integers and a few
dictionary-coded strings (about 10 bytes a model a day, bench/census.py).
"""

from __future__ import annotations

import pyarrow as pa

_TS = pa.timestamp("us", tz="UTC")
_RUN = [("run_id", pa.string()), ("day", pa.date32())]

CENSUS_SCHEMAS: dict[str, pa.Schema] = {
    # append-only dictionary: a key per model id, with its creation time once known
    "census_ids": pa.schema(
        [("model_key", pa.int64()), ("model_id", pa.string()), ("created_at", _TS), ("run_id", pa.string())]
    ),
    # one row per listed model per census day
    "census_models": pa.schema(
        [
            *_RUN,
            ("model_key", pa.int64()),
            ("downloads_30d", pa.int64()),
            ("downloads_all_time", pa.int64()),
            ("likes", pa.int64()),
            ("pipeline_tag", pa.string()),
            ("library_name", pa.string()),
            ("gated", pa.string()),
            ("parameters", pa.int64()),
        ]
    ),
    # the model tree of the day: child -> parent, with the relation of the edge into the child
    "census_edges": pa.schema(
        [*_RUN, ("model_key", pa.int64()), ("parent_key", pa.int64()), ("relation", pa.string())]
    ),
    # every descendant of every family (not the family's own models), with its depth below them
    "census_attribution": pa.schema(
        [*_RUN, ("family", pa.string()), ("model_key", pa.int64()), ("depth", pa.int16()), ("families", pa.int16())]
    ),
    # summaries, small: what the views and the report read
    "census_family": pa.schema(
        [
            *_RUN,
            ("family", pa.string()),
            ("label", pa.string()),
            ("region", pa.string()),
            ("descendants", pa.int64()),
            ("direct", pa.int64()),
            ("finetunes", pa.int64()),
            ("adapters", pa.int64()),
            ("quantizations", pa.int64()),
            ("merges", pa.int64()),
            ("max_depth", pa.int32()),
            ("descendants_downloads_30d", pa.int64()),
            ("descendants_likes", pa.int64()),
            ("new_descendants", pa.int64()),
            ("shared_descendants", pa.int64()),
        ]
    ),
    "census_share": pa.schema(
        [
            *_RUN,
            ("month", pa.date32()),
            ("family", pa.string()),
            ("new_derivatives", pa.int64()),
            ("share", pa.float64()),
            ("share_of_hub", pa.float64()),
        ]
    ),
    "census_hub": pa.schema(
        [
            *_RUN,
            ("region", pa.string()),
            ("models", pa.int64()),
            ("downloads_30d", pa.int64()),
            ("likes", pa.int64()),
            ("hhi_authors", pa.float64()),
        ]
    ),
    "census_authors": pa.schema(
        [
            *_RUN,
            ("month", pa.date32()),
            ("family", pa.string()),
            ("author", pa.string()),
            ("derivatives", pa.int64()),
            ("rank", pa.int32()),
        ]
    ),
    # the census's awkward cases, counted
    "census_stats": pa.schema(
        [
            *_RUN,
            ("models", pa.int64()),
            ("edges", pa.int64()),
            ("roots", pa.int64()),
            ("dangling_parents", pa.int64()),
            ("cycles", pa.int64()),
            ("models_in_cycles", pa.int64()),
            ("self_references", pa.int64()),
            ("unrooted", pa.int64()),
            ("multi_family", pa.int64()),
            ("source", pa.string()),
        ]
    ),
}

# What a listing page becomes in the census's staging chunks (never read by a view).
STAGING = pa.schema(
    [
        ("chunk", pa.int32()),
        ("model_id", pa.string()),
        ("created_at", _TS),
        ("downloads_30d", pa.int64()),
        ("downloads_all_time", pa.int64()),
        ("likes", pa.int64()),
        ("pipeline_tag", pa.string()),
        ("library_name", pa.string()),
        ("gated", pa.string()),
        ("parameters", pa.int64()),
        ("relation", pa.string()),
        ("parents", pa.list_(pa.string())),
    ]
)
