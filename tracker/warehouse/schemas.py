"""What the warehouse stores: one Arrow schema per raw dataset (written per run) and per derived
table (recomputed whole after every job). Defined once here, by column name (each column's type is
tracker/columns.py's); the SQL views read these columns."""

from __future__ import annotations

import pyarrow as pa

from tracker.census_tables import CENSUS_SCHEMAS
from tracker.columns import COLUMNS, schema, without
from tracker.metrics import METRICS, RELATIONS, SNAPSHOT_METRICS, WEEKLY_METRICS

# what a snapshot of a family's models holds per model, and which of a model's attributes change
_TAKEN = "run_id taken_at day family"
_VALUES = (*SNAPSHOT_METRICS, "trending_score")
_ATTRIBUTES = "created_at last_modified pipeline_tag library_name gated"

SCHEMAS: dict[str, pa.Schema] = {
    "runs": schema(
        "run_id job started_at finished_at status families_ok families_failed models requests retries error"
    ),
    # the daily rows hold only what changes daily; a model's attributes live in `models` (below), so
    # that a snapshot row costs a few bytes (the `snapshots` view joins them back)
    "snapshots": schema(_TAKEN, "model_key", _VALUES),
    # one row per model whenever its attributes are new or changed (valid from that snapshot on)
    "models": schema("model_key model_id author", _ATTRIBUTES, "valid_from run_id parameters"),
    "family_snapshots": schema(_TAKEN, "label region models", SNAPSHOT_METRICS, "downloads_interval interval_days"),
    # model-level data-quality findings of a collect (family-level ones are derived from family_daily)
    "quality": schema("run_id day family model_id issue detail"),
    # tree: one file per flushed chunk of model_info answers (kept across interrupted runs of a day)
    "tree_parts": schema(
        "run_id taken_at day model_id status current_id", RELATIONS, "derivatives base_relation base_models"
    ),
    # written once a family's tree of a day is complete: its official models; makes the day visible
    "tree_members": schema("run_id day family model_id"),
    "ecosystem": schema("run_id day family base_model_id relation model_id author", SNAPSHOT_METRICS),
    # `tracker backfill`: the children each official model has now, with their creation times (one
    # row with model_id NULL marks a parent as listed, children or not) ...
    "backfill_parts": schema("run_id day parent_id model_id relation created_at"),
    # ... and the daily series reconstructed from them, per family
    "backfill": schema("run_id computed_on day family label region models derivatives", RELATIONS),
    "quarantine": schema("run_id family model_id reason raw"),
    # renames a collect followed (the Hub redirects the old id): the series continues under one key
    "aliases": schema("run_id detected_on old_id new_id"),
}
# the datasets compaction merges (the census's large per-day files are read by day and left as they are)
COMPACTED = tuple(SCHEMAS)
SCHEMAS.update(CENSUS_SCHEMAS)  # the whole-Hub census's datasets (tracker/census_tables.py)


def _weekly_schema() -> pa.Schema:
    """A family's week: each weekly metric with its changes and share, then the week's membership counts."""
    fields = list(schema("week week_start family label region"))
    for m in WEEKLY_METRICS:
        fields += [
            (m, COLUMNS[m]),
            (f"{m}_wow", pa.int64()),
            (f"{m}_wow_pct", pa.float64()),
            (f"{m}_wow_same", pa.int64()),
            (f"{m}_wow_pct_same", pa.float64()),
            (f"{m}_share", pa.float64()),
        ]
    fields += list(schema("models_new models_entered models_left downloads_week_days"))
    return pa.schema(fields)


def _crossover_schema(entity: str, prefix: str) -> pa.Schema:
    """One overtaking of one family (or model) by another on one metric."""
    value = pa.float64()
    return pa.schema(
        [
            *schema("day metric", entity, "overtaken"),
            (f"{prefix}_value", value),
            ("overtaken_value", value),
            *schema("previous_day"),
            (f"{prefix}_previous_value", value),
            ("overtaken_previous_value", value),
            *schema("reversed reversed_day holds_same_models after_stale headline"),
        ]
    )


# Derived tables: recomputed from the small family series after every job and replaced whole
# (one file each), so that the trend views answer at once however long the history.
DERIVED: dict[str, pa.Schema] = {
    "family_weekly": _weekly_schema(),
    "crossovers": _crossover_schema("family", "family"),
    "model_crossovers": _crossover_schema("model_id", "model"),
    "projections": schema(
        "as_of metric family overtaken projected_from projected_to projected_day window_days",
        "first_day last_day n_points",
    ),
    "family_quality": without(SCHEMAS["quality"], "run_id"),
    "adoption": schema(
        "model_id family size_class age_days downloads_all_time relative_adoption release_year parameters day peers"
    ),
}


# Compaction state (README, "Compaction"): which merged files are visible ('add') and which files
# they replaced ('hide'), by path relative to the warehouse; `since` is when the entry was made.
STATE = schema("file action since")

# The small tables the documented views read, rewritten whole after every job (serving/<name>.parquet):
# family_daily, tree and ecosystem from the internal views `_<name>` over the raw rows, models_latest
# from the files of each family's latest successful snapshot (its snapshot rows joined to `models`).
SERVING: dict[str, pa.Schema] = {
    "family_daily": schema(
        "day family label region", METRICS, RELATIONS, "ecosystem_downloads_30d downloads_day source interval_days"
    ),
    "tree": schema("run_id taken_at day family model_id", RELATIONS, "derivatives status"),
    "ecosystem": without(SCHEMAS["ecosystem"], "run_id"),
    "models_latest": schema(_TAKEN, "model_id author", _VALUES, _ATTRIBUTES, "parameters"),
}
