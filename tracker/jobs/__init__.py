"""One function per job. Each wires hub -> records -> warehouse (or trends -> report) and returns its
run record. The daemon schedules them by the names in JOBS.

  snapshot.py   collect, import_files      (listings into snapshots)
  snapshot_run.py                          (a snapshot run assembled, then published whole)
  model_tree.py tree                       (derivative counts per official model)
  backfill.py   backfill                   (derivative counts over time, from creation dates)
  paced.py      what those two share       (chunked, resumable fetch; the record of their runs)
  census.py     census, import_dump        (the whole Hub in one listing, or a dump of it; its model tree)
  trend.py      derive, report             (trend tables and the weekly report)
  export.py     export_after               (config.yaml's `export:` after a collect or tree run)
  common.py     the clock, the run context, progress bars
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tracker.config import Settings
from tracker.jobs.backfill import backfill
from tracker.jobs.census import census, import_dump
from tracker.jobs.common import utcnow
from tracker.jobs.export import export_after
from tracker.jobs.model_tree import tree
from tracker.jobs.snapshot import collect, import_files
from tracker.jobs.trend import derive, family_series, last_complete_week, recorded_report, report, scheduled_report

__all__ = [
    "JOBS",
    "backfill",
    "census",
    "collect",
    "derive",
    "export_after",
    "family_series",
    "import_dump",
    "import_files",
    "last_complete_week",
    "recorded_report",
    "report",
    "tree",
    "utcnow",
]

# The jobs the daemon can schedule, by the names used in config.yaml's `schedule:`.
# Each takes the settings and the (scheduled) time and returns its run record (a dict with at least
# run_id, job, status).
# collect and tree are followed by config.yaml's `export:` when it is set.
JOBS: dict[str, Any] = {
    "collect": lambda settings, now=None: _exported(settings, now, collect(settings, now=now, show_progress=False)),
    "tree": lambda settings, now=None: _exported(settings, now, tree(settings, now=now, show_progress=False)),
    "census": lambda settings, now=None: census(settings, now=now, show_progress=False),
    "report": lambda settings, now=None: scheduled_report(settings, now),
}


def _exported(settings: Settings, now: dt.datetime | None, record: dict[str, Any]) -> dict[str, Any]:
    export_after(settings, record, now)
    return record
