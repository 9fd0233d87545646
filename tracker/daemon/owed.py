"""What is owed: a job whose last `ok` run started before its latest scheduled time (a `partial` run counts
as owed) is owed one run, whatever the number of missed periods. Read from the warehouse's `runs` view (each
look opens hub.duckdb read-only and closes it), not from a job store."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tracker.config import Settings
from tracker.cron import latest_fire
from tracker.warehouse import Warehouse


def last_runs(settings: Settings) -> dict[str, dict[str, Any]]:
    """Per job: its last run (any status) and the start of its last ok run, from the `runs` view."""
    wh = Warehouse(settings.warehouse)
    with wh.cursor("runs") as con:  # the tracker's own read: hub.duckdb stays closed
        last = con.execute("""
            SELECT run_id, job, started_at, finished_at, status, models, error,
                   date_diff('millisecond', started_at, finished_at) / 1000.0 AS seconds
            FROM runs QUALIFY row_number() OVER (PARTITION BY job ORDER BY started_at DESC, run_id DESC) = 1
        """).fetchall()
        cols = ["run_id", "job", "started_at", "finished_at", "status", "models", "error", "seconds"]
        ok = dict(con.execute("SELECT job, max(started_at) FROM runs WHERE status = 'ok' GROUP BY job").fetchall())
    out: dict[str, dict[str, Any]] = {}
    for row in last:
        rec = dict(zip(cols, row, strict=True))
        for k in ("started_at", "finished_at"):
            rec[k] = _utc(rec[k])
        out[rec["job"]] = {"last": rec, "last_ok": None}
    for job, t in ok.items():
        out.setdefault(job, {"last": None, "last_ok": None})["last_ok"] = _utc(t)
    return out


def _utc(t: Any) -> dt.datetime | None:
    if t is None:
        return None
    if not isinstance(t, dt.datetime):  # pandas Timestamp and friends
        t = t.to_pydatetime()
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def owed(expr: str, last_ok: dt.datetime | None, now: dt.datetime) -> tuple[bool, dt.datetime | None]:
    """Whether a job is owed a run at `now`, and the scheduled time (period) it would serve."""
    period = latest_fire(expr, now)
    if period is None:
        return False, None
    return (last_ok is None or last_ok < period), period


def iso(t: dt.datetime | None) -> str | None:
    """A time as the daemon logs and shows it: ISO 8601 in UTC to the second, with a Z."""
    return None if t is None else t.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
