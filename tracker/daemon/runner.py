"""One scheduled job run by the daemon: called, timed and logged, and what happened kept as a history entry;
then the warehouse's small files merged. A job that raises is logged with its traceback and the daemon goes
on."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import structlog

from tracker import jobs
from tracker.config import Settings
from tracker.warehouse import Warehouse

log = structlog.get_logger("tracker.daemon")


def run_job(
    settings: Settings, name: str, now: dt.datetime, trigger: str, period: dt.datetime | None
) -> dict[str, Any]:
    """Run the job `name` as of `now`; its history entry: job, trigger, scheduled_for, started, status
    ('raised' when it raised, then with the error), run_id, models, seconds."""
    t0 = time.monotonic()
    entry: dict[str, Any] = {"job": name, "trigger": trigger, "scheduled_for": period, "started": now}
    log.info("job started")
    try:
        record = jobs.JOBS[name](settings, now=now)
    except Exception as exc:
        entry.update(status="raised", error=f"{type(exc).__name__}: {exc}")
        log.exception("job raised; the daemon goes on", seconds=round(time.monotonic() - t0, 2))
    else:
        record = record or {}
        entry.update(status=record.get("status"), run_id=record.get("run_id"), models=record.get("models"))
        log.info(
            "job finished",
            run_id=record.get("run_id"),
            status=record.get("status"),
            models=record.get("models"),
            seconds=round(time.monotonic() - t0, 2),
        )
    entry["seconds"] = round(time.monotonic() - t0, 3)
    return entry


def compact(settings: Settings, now: dt.datetime) -> None:
    """Merge the warehouse's small files after each job (cheap when there is nothing to merge)."""
    try:
        res = Warehouse(settings.warehouse).compact(today=now.astimezone(dt.UTC).date())
    except Exception:
        log.exception("compaction failed; nothing was lost, the next job retries")
        return
    if res.written or res.deleted:
        log.info("compacted", files_merged=sum(res.merged.values()), written=res.written, deleted=res.deleted)
