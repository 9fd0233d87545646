"""Every column the tracker stores, with its Arrow type, defined once.

A column name means one thing wherever it stands (`downloads_30d` is the same int64 in a snapshot, a
family series and the census), so the schemas (tracker/warehouse/schemas.py, tracker/census_tables.py)
name their columns and take the types from here.
"""

from __future__ import annotations

import pyarrow as pa

from tracker.metrics import RELATIONS, SNAPSHOT_METRICS

_TS = pa.timestamp("us", tz="UTC")
_DAY = pa.date32()
_STR = pa.string()
_I16, _I32, _I64 = pa.int16(), pa.int32(), pa.int64()
_F64 = pa.float64()
_BOOL = pa.bool_()

COLUMNS: dict[str, pa.DataType] = {
    # when, which run
    **dict.fromkeys(["run_id", "job", "status", "error", "source"], _STR),
    **dict.fromkeys(["started_at", "finished_at", "taken_at", "valid_from", "created_at", "last_modified"], _TS),
    **dict.fromkeys(["day", "computed_on", "detected_on", "month", "week_start", "as_of"], _DAY),
    **dict.fromkeys(["families_ok", "families_failed", "interval_days"], _I32),
    **dict.fromkeys(["requests", "retries"], _I64),
    # which model, which family
    **dict.fromkeys(["model_id", "author", "family", "label", "region", "week", "metric"], _STR),
    **dict.fromkeys(["pipeline_tag", "library_name", "gated", "current_id", "base_model_id"], _STR),
    **dict.fromkeys(["parent_id", "old_id", "new_id", "relation", "base_relation", "overtaken"], _STR),
    **dict.fromkeys(["issue", "detail", "reason", "raw", "size_class"], _STR),
    **dict.fromkeys(["model_key", "parent_key", "parameters"], _I64),
    "base_models": pa.list_(_STR),
    "parents": pa.list_(_STR),
    # what was counted
    **dict.fromkeys(["models", *SNAPSHOT_METRICS, "derivatives", *RELATIONS], _I64),
    **dict.fromkeys(["downloads_interval", "ecosystem_downloads_30d", "downloads_week"], _I64),
    **dict.fromkeys(["models_new", "models_entered", "models_left", "downloads_week_days"], _I64),
    **dict.fromkeys(["trending_score", "downloads_day", "relative_adoption"], _F64),
    **dict.fromkeys(["age_days", "release_year", "peers", "window_days", "n_points"], _I32),
    **dict.fromkeys(["projected_from", "projected_to", "projected_day", "first_day", "last_day"], _DAY),
    **dict.fromkeys(["previous_day", "reversed_day"], _DAY),
    **dict.fromkeys(["reversed", "holds_same_models", "after_stale", "headline"], _BOOL),
    # the census
    "chunk": _I32,
    **dict.fromkeys(["depth", "families"], _I16),
    **dict.fromkeys(["max_depth", "rank"], _I32),
    **dict.fromkeys(["descendants", "direct", "descendants_downloads_30d", "descendants_likes"], _I64),
    **dict.fromkeys(["new_descendants", "shared_descendants", "new_derivatives"], _I64),
    **dict.fromkeys(["edges", "roots", "dangling_parents", "cycles", "models_in_cycles"], _I64),
    **dict.fromkeys(["self_references", "unrooted", "multi_family"], _I64),
    **dict.fromkeys(["share", "share_of_hub", "hhi_authors"], _F64),
    # compaction state
    **dict.fromkeys(["file", "action"], _STR),
    "since": _TS,
}

#: What a listing of the Hub gives per model besides its id: the snapshot metrics and the attributes
#: a census day keeps (the census's staging chunks and its daily model files share them).
LISTED: tuple[str, ...] = (*SNAPSHOT_METRICS, "pipeline_tag", "library_name", "gated", "parameters")


def schema(*columns: str | tuple[str, ...]) -> pa.Schema:
    """The schema of these columns in this order, typed by COLUMNS; a string may hold several
    space-separated names and a tuple stands for its names (`schema("run_id day", SNAPSHOT_METRICS)`)."""
    names = [n for group in columns for n in (group.split() if isinstance(group, str) else group)]
    return pa.schema([(n, COLUMNS[n]) for n in names])


def without(base: pa.Schema, *names: str) -> pa.Schema:
    """`base` less these columns (a served or derived table that drops the run id of its raw rows)."""
    return pa.schema([f for f in base if f.name not in names])
