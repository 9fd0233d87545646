"""What the warehouse stores: one Arrow schema per raw dataset (written per run) and per derived
table (recomputed whole after every job). Defined once here; the SQL views read these columns."""

from __future__ import annotations

import pyarrow as pa

from tracker.census_tables import CENSUS_SCHEMAS
from tracker.metrics import WEEKLY_METRICS

_TS = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    "runs": pa.schema(
        [
            ("run_id", pa.string()),
            ("job", pa.string()),
            ("started_at", _TS),
            ("finished_at", _TS),
            ("status", pa.string()),
            ("families_ok", pa.int32()),
            ("families_failed", pa.int32()),
            ("models", pa.int64()),
            ("requests", pa.int64()),
            ("retries", pa.int64()),
            ("error", pa.string()),
        ]
    ),
    # the daily rows hold only what changes daily; a model's attributes live in `models` (below), so
    # that a snapshot row costs a few bytes (the `snapshots` view joins them back)
    "snapshots": pa.schema(
        [
            ("run_id", pa.string()),
            ("taken_at", _TS),
            ("day", pa.date32()),
            ("family", pa.string()),
            ("model_key", pa.int64()),
            ("downloads_30d", pa.int64()),
            ("downloads_all_time", pa.int64()),
            ("likes", pa.int64()),
            ("trending_score", pa.float64()),
        ]
    ),
    # one row per model whenever its attributes are new or changed (valid from that snapshot on)
    "models": pa.schema(
        [
            ("model_key", pa.int64()),
            ("model_id", pa.string()),
            ("author", pa.string()),
            ("created_at", _TS),
            ("last_modified", _TS),
            ("pipeline_tag", pa.string()),
            ("library_name", pa.string()),
            ("gated", pa.string()),
            ("valid_from", _TS),
            ("run_id", pa.string()),
            ("parameters", pa.int64()),
        ]
    ),
    "family_snapshots": pa.schema(
        [
            ("run_id", pa.string()),
            ("taken_at", _TS),
            ("day", pa.date32()),
            ("family", pa.string()),
            ("label", pa.string()),
            ("region", pa.string()),
            ("models", pa.int64()),
            ("downloads_30d", pa.int64()),
            ("downloads_all_time", pa.int64()),
            ("likes", pa.int64()),
            ("downloads_interval", pa.int64()),
            ("interval_days", pa.int32()),
        ]
    ),
    # model-level data-quality findings of a collect (family-level ones are derived from family_daily)
    "quality": pa.schema(
        [
            ("run_id", pa.string()),
            ("day", pa.date32()),
            ("family", pa.string()),
            ("model_id", pa.string()),
            ("issue", pa.string()),
            ("detail", pa.string()),
        ]
    ),
    # tree: one file per flushed chunk of model_info answers (kept across interrupted runs of a day)
    "tree_parts": pa.schema(
        [
            ("run_id", pa.string()),
            ("taken_at", _TS),
            ("day", pa.date32()),
            ("model_id", pa.string()),
            ("status", pa.string()),
            ("current_id", pa.string()),
            ("finetunes", pa.int64()),
            ("adapters", pa.int64()),
            ("quantizations", pa.int64()),
            ("merges", pa.int64()),
            ("derivatives", pa.int64()),
            ("base_relation", pa.string()),
            ("base_models", pa.list_(pa.string())),
        ]
    ),
    # written once a family's tree of a day is complete: its official models; makes the day visible
    "tree_members": pa.schema(
        [
            ("run_id", pa.string()),
            ("day", pa.date32()),
            ("family", pa.string()),
            ("model_id", pa.string()),
        ]
    ),
    "ecosystem": pa.schema(
        [
            ("run_id", pa.string()),
            ("day", pa.date32()),
            ("family", pa.string()),
            ("base_model_id", pa.string()),
            ("relation", pa.string()),
            ("model_id", pa.string()),
            ("author", pa.string()),
            ("downloads_30d", pa.int64()),
            ("downloads_all_time", pa.int64()),
            ("likes", pa.int64()),
        ]
    ),
    # `tracker backfill`: the children each official model has now, with their creation times (one
    # row with model_id NULL marks a parent as listed, children or not) ...
    "backfill_parts": pa.schema(
        [
            ("run_id", pa.string()),
            ("day", pa.date32()),
            ("parent_id", pa.string()),
            ("model_id", pa.string()),
            ("relation", pa.string()),
            ("created_at", _TS),
        ]
    ),
    # ... and the daily series reconstructed from them, per family
    "backfill": pa.schema(
        [
            ("run_id", pa.string()),
            ("computed_on", pa.date32()),
            ("day", pa.date32()),
            ("family", pa.string()),
            ("label", pa.string()),
            ("region", pa.string()),
            ("models", pa.int64()),
            ("derivatives", pa.int64()),
            ("finetunes", pa.int64()),
            ("adapters", pa.int64()),
            ("quantizations", pa.int64()),
            ("merges", pa.int64()),
        ]
    ),
    "quarantine": pa.schema(
        [
            ("run_id", pa.string()),
            ("family", pa.string()),
            ("model_id", pa.string()),
            ("reason", pa.string()),
            ("raw", pa.string()),
        ]
    ),
    # renames a collect followed (the Hub redirects the old id): the series continues under one key
    "aliases": pa.schema(
        [
            ("run_id", pa.string()),
            ("detected_on", pa.date32()),
            ("old_id", pa.string()),
            ("new_id", pa.string()),
        ]
    ),
}
# the datasets compaction merges (the census's large per-day files are read by day and left as they are)
COMPACTED = tuple(SCHEMAS)
SCHEMAS.update(CENSUS_SCHEMAS)  # the whole-Hub census's datasets (tracker/census_tables.py)


def _weekly_schema() -> pa.Schema:
    fields = [
        ("week", pa.string()),
        ("week_start", pa.date32()),
        ("family", pa.string()),
        ("label", pa.string()),
        ("region", pa.string()),
    ]
    for m in WEEKLY_METRICS:
        fields += [
            (m, pa.int64()),
            (f"{m}_wow", pa.int64()),
            (f"{m}_wow_pct", pa.float64()),
            (f"{m}_wow_same", pa.int64()),
            (f"{m}_wow_pct_same", pa.float64()),
            (f"{m}_share", pa.float64()),
        ]
    fields += [
        ("models_new", pa.int64()),
        ("models_entered", pa.int64()),
        ("models_left", pa.int64()),
        ("downloads_week_days", pa.int64()),
    ]
    return pa.schema(fields)


def _crossover_schema(entity: str, prefix: str) -> pa.Schema:
    return pa.schema(
        [
            ("day", pa.date32()),
            ("metric", pa.string()),
            (entity, pa.string()),
            ("overtaken", pa.string()),
            (f"{prefix}_value", pa.float64()),
            ("overtaken_value", pa.float64()),
            ("previous_day", pa.date32()),
            (f"{prefix}_previous_value", pa.float64()),
            ("overtaken_previous_value", pa.float64()),
            ("reversed", pa.bool_()),
            ("reversed_day", pa.date32()),
            ("holds_same_models", pa.bool_()),
            ("after_stale", pa.bool_()),
            ("headline", pa.bool_()),
        ]
    )


# Derived tables: recomputed from the small family series after every job and replaced whole
# (one file each), so that the trend views answer at once however long the history.
DERIVED: dict[str, pa.Schema] = {
    "family_weekly": _weekly_schema(),
    "crossovers": _crossover_schema("family", "family"),
    "model_crossovers": _crossover_schema("model_id", "model"),
    "projections": pa.schema(
        [
            ("as_of", pa.date32()),
            ("metric", pa.string()),
            ("family", pa.string()),
            ("overtaken", pa.string()),
            ("projected_from", pa.date32()),
            ("projected_to", pa.date32()),
            ("projected_day", pa.date32()),
            ("window_days", pa.int32()),
            ("first_day", pa.date32()),
            ("last_day", pa.date32()),
            ("n_points", pa.int32()),
        ]
    ),
    "family_quality": pa.schema(
        [
            ("day", pa.date32()),
            ("family", pa.string()),
            ("model_id", pa.string()),
            ("issue", pa.string()),
            ("detail", pa.string()),
        ]
    ),
    "adoption": pa.schema(
        [
            ("model_id", pa.string()),
            ("family", pa.string()),
            ("size_class", pa.string()),
            ("age_days", pa.int32()),
            ("downloads_all_time", pa.int64()),
            ("relative_adoption", pa.float64()),
            ("release_year", pa.int32()),
            ("parameters", pa.int64()),
            ("day", pa.date32()),
            ("peers", pa.int32()),
        ]
    ),
}


# Compaction state (README, "Compaction"): which merged files are visible ('add') and which files
# they replaced ('hide'), by path relative to the warehouse; `since` is when the entry was made.
STATE = pa.schema([("file", pa.string()), ("action", pa.string()), ("since", _TS)])

# The small tables the documented views read, rewritten whole after every job (serving/<name>.parquet):
# family_daily, tree and ecosystem from the internal views `_<name>` over the raw rows, models_latest
# from the files of each family's latest successful snapshot.
_I64 = pa.int64()
SERVING: dict[str, pa.Schema] = {
    "family_daily": pa.schema(
        [
            ("day", pa.date32()),
            ("family", pa.string()),
            ("label", pa.string()),
            ("region", pa.string()),
            *[
                (c, _I64)
                for c in (
                    "models",
                    "downloads_30d",
                    "downloads_all_time",
                    "likes",
                    "derivatives",
                    "finetunes",
                    "adapters",
                    "quantizations",
                    "merges",
                    "ecosystem_downloads_30d",
                )
            ],
            ("downloads_day", pa.float64()),
            ("source", pa.string()),
            ("interval_days", pa.int32()),
        ]
    ),
    "tree": pa.schema(
        [
            ("run_id", pa.string()),
            ("taken_at", _TS),
            ("day", pa.date32()),
            ("family", pa.string()),
            ("model_id", pa.string()),
            *[(c, _I64) for c in ("finetunes", "adapters", "quantizations", "merges", "derivatives")],
            ("status", pa.string()),
        ]
    ),
    "ecosystem": pa.schema(
        [
            ("day", pa.date32()),
            ("family", pa.string()),
            ("base_model_id", pa.string()),
            ("relation", pa.string()),
            ("model_id", pa.string()),
            ("author", pa.string()),
            ("downloads_30d", _I64),
            ("downloads_all_time", _I64),
            ("likes", _I64),
        ]
    ),
    "models_latest": pa.schema(
        [
            ("run_id", pa.string()),
            ("taken_at", _TS),
            ("day", pa.date32()),
            ("family", pa.string()),
            ("model_id", pa.string()),
            ("author", pa.string()),
            ("downloads_30d", _I64),
            ("downloads_all_time", _I64),
            ("likes", _I64),
            ("trending_score", pa.float64()),
            ("created_at", _TS),
            ("last_modified", _TS),
            ("pipeline_tag", pa.string()),
            ("library_name", pa.string()),
            ("gated", pa.string()),
            ("parameters", _I64),
        ]
    ),
}
