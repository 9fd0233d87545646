"""The tracker's metrics and derivative relations, defined once (trends, report and warehouse import them)."""

from __future__ import annotations

#: Values stored per model in every snapshot.
SNAPSHOT_METRICS: tuple[str, ...] = ("downloads_30d", "downloads_all_time", "likes")
#: Family metrics of a day, in the order the weekly table shows them.
METRICS: tuple[str, ...] = ("models", "downloads_30d", "downloads_all_time", "likes", "derivatives")
#: Family metrics of a week: the above plus the exact downloads of the week (from all-time counts).
WEEKLY_METRICS: tuple[str, ...] = (*METRICS, "downloads_week")
#: Metrics whose crossovers the trend job looks for, in the order the report lists them.
CROSSOVER_METRICS: tuple[str, ...] = (
    "downloads_30d",
    "downloads_week",
    "downloads_all_time",
    "likes",
    "derivatives",
    "models",
)
#: Metrics of single models whose crossovers the trend job looks for.
MODEL_METRICS: tuple[str, ...] = ("downloads_30d", "downloads_all_time", "likes")
#: Relations of a derivative to its base model, as the tree counts them.
RELATIONS: tuple[str, ...] = ("finetunes", "adapters", "quantizations", "merges")
#: Reasons a model joins or leaves a family's tracked set between two snapshots.
MEMBERSHIP: tuple[str, ...] = ("new_model", "entered", "left")
#: Data-quality issues, in the order the report lists them.
QUALITY_ISSUES: tuple[str, ...] = (
    "stale",
    "stale_downloads",
    "stale_likes",
    "missing_day",
    "all_time_fell",
    "all_time_jump",
    "entered",
    "left",
    "new_model",
)
#: Which stale flag covers a metric (a metric absent here is never stale on its own).
STALE_ISSUE: dict[str, str] = {
    "downloads_30d": "stale_downloads",
    "downloads_all_time": "stale_downloads",
    "downloads_week": "stale_downloads",
    "likes": "stale_likes",
}
