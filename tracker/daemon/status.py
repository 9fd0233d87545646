"""The daemon's part of `tracker status`: whether a daemon runs (PID) and, per scheduled job, its last
run, whether it is owed and its next time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tracker import jobs
from tracker.config import Settings
from tracker.cron import next_fire
from tracker.daemon.clock import utcnow
from tracker.daemon.lock import holder, lock_path
from tracker.daemon.owed import iso, last_runs, owed


def describe(settings: Settings, now: dt.datetime | None = None) -> dict[str, Any]:
    """For `tracker status`: whether a daemon runs (PID) and, per scheduled job, its last and next run."""
    now = now or utcnow()
    pid = holder(settings.warehouse)
    try:
        runs = last_runs(settings)
        error = None
    except Exception as exc:  # noqa: BLE001 - status shows what it can
        runs, error = {}, str(exc)
    out_jobs = []
    for name, expr in settings.schedule.items():
        info = runs.get(name, {})
        last = info.get("last")
        is_owed, period = owed(expr, info.get("last_ok"), now)
        out_jobs.append(
            {
                "job": name,
                "schedule": expr,
                "available": name in jobs.JOBS,
                "last_run": None
                if last is None
                else {
                    "run_id": last["run_id"],
                    "started_at": iso(last["started_at"]),
                    "finished_at": iso(last["finished_at"]),
                    "status": last["status"],
                    "seconds": None if last["seconds"] is None else float(last["seconds"]),
                    "models": None if last["models"] is None else int(last["models"]),
                },
                "last_ok": iso(info.get("last_ok")),
                "owed": bool(is_owed),
                "scheduled_for": iso(period),
                "next_run": iso(next_fire(expr, now)),
                "jitter_s": settings.schedule_jitter_s,
            }
        )
    return {
        "daemon": {
            "running": pid is not None,
            "pid": pid or None,
            "lock": str(lock_path(settings.warehouse)),
        },
        "jobs": out_jobs,
        "error": error,
    }


def status_lines(info: dict[str, Any]) -> list[str]:
    """The daemon and schedule part of `tracker status` (text)."""
    d = info["daemon"]
    lines = [
        "",
        "daemon     "
        + (
            f"running (PID {d['pid']})"
            if d["pid"]
            else "running (PID unknown)"
            if d["running"]
            else "not running (start it with `tracker daemon`; see docs/daemon.md)"
        ),
    ]
    if not info["jobs"]:
        return [*lines, "schedule   none (add a `schedule:` block to config.yaml to use the daemon)"]
    lines.append(
        f"{'job':<8} {'schedule':<14} {'last run (UTC)':<20} {'status':<8} {'secs':>7} {'models':>8}  next run (UTC)"
    )
    for j in info["jobs"]:
        last = j["last_run"] or {}
        secs = f"{last['seconds']:.1f}" if last.get("seconds") is not None else "-"
        nxt = (j["next_run"] or "-").replace("T", " ")[:16]
        if j["jitter_s"]:
            nxt += f" (+ up to {j['jitter_s']} s)"
        if not j["available"]:
            nxt = "not available in this version"
        elif j["owed"]:
            nxt += "; owed now" if d["running"] else "; owed (runs when the daemon starts)"
        started = (last.get("started_at") or "never").replace("T", " ")[:19]
        models = "-" if last.get("models") is None else last["models"]
        lines.append(
            f"{j['job']:<8} {j['schedule']:<14} {started:<20} {last.get('status') or '-':<8} {secs:>7} "
            f"{models:>8}  {nxt}"
        )
    if info.get("error"):
        lines.append(f"(could not read runs: {info['error']})")
    return lines
