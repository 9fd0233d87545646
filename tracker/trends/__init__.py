"""Trend math for Hub Tracker: pure pandas, DataFrame in -> DataFrame out.

No I/O, no DuckDB, no HTTP, no global state. Every function lists its input and output columns in
its docstring. One module per concern:

- `intervals`: which models two snapshots share; exact downloads per day; trailing weeks
- `weekly`: week-end values, week-over-week change (all and like-for-like), shares, top movers
- `crossovers`: who moved ahead of whom, and which crossovers are headlines
- `projections`: projected crossovers as a range of days, and their backtest
- `quality`: data-quality notes (stale values, missing days, membership changes, falling counts)
- `adoption`: ATOM-style relative adoption of new models

Conventions: ``day`` columns are tz-naive ``datetime64[us]`` at midnight (dates, strings and
tz-aware timestamps are accepted and normalised). A value the Hub did not give is NA, never 0; sums
use ``min_count=1``. The metrics are listed once, in `tracker.metrics`.
"""

from tracker.metrics import METRICS
from tracker.trends.adoption import adoption, size_class
from tracker.trends.common import week_label, week_start
from tracker.trends.crossovers import (
    REVERSAL_SNAPSHOTS,
    after_stale,
    annotate,
    crossovers,
    holds_same_models,
    model_crossovers,
)
from tracker.trends.intervals import downloads_day, trailing_week
from tracker.trends.projections import (
    PROJECTION_MIN_POINTS,
    PROJECTION_MIN_R2,
    PROJECTION_MIN_T,
    backtest,
    membership_jumps,
    projections,
)
from tracker.trends.quality import family_quality, interval_stats, quality_flags
from tracker.trends.weekly import like_for_like, shares, week_models, weekly

__all__ = [
    "METRICS",
    "PROJECTION_MIN_POINTS",
    "PROJECTION_MIN_R2",
    "PROJECTION_MIN_T",
    "REVERSAL_SNAPSHOTS",
    "adoption",
    "after_stale",
    "annotate",
    "backtest",
    "crossovers",
    "downloads_day",
    "family_quality",
    "holds_same_models",
    "interval_stats",
    "like_for_like",
    "membership_jumps",
    "model_crossovers",
    "projections",
    "quality_flags",
    "shares",
    "size_class",
    "trailing_week",
    "week_label",
    "week_models",
    "week_start",
    "weekly",
]
