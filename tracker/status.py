"""What `tracker status` shows: recent runs, the data held, the warehouse size (and the daemon, if any)."""

from __future__ import annotations

from typing import Any

from tracker.config import Settings
from tracker.redact import redact_all
from tracker.warehouse import Warehouse


def _human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def gather(settings: Settings, n_runs: int = 10) -> dict[str, Any]:
    wh = Warehouse(settings.warehouse)
    with wh.cursor("runs family_daily") as con:  # the tracker's own read: hub.duckdb stays closed
        runs = con.execute(
            "SELECT run_id, job, started_at, finished_at, status, families_ok, families_failed, models, requests, "
            "retries, error, date_diff('millisecond', started_at, finished_at) / 1000.0 AS seconds "
            "FROM runs ORDER BY started_at DESC, run_id DESC LIMIT ?",
            [n_runs],
        ).df()
        held = con.execute(
            "SELECT min(day) AS first_day, max(day) AS last_day, count(DISTINCT day) AS days FROM family_daily"
        ).df()
    rows = [{k: (None if _isna(v) else v) for k, v in r.items()} for r in runs.to_dict("records")]
    h = held.iloc[0].to_dict()
    return redact_all(
        {  # errors stored before redaction existed, too
            "warehouse": str(wh.root),
            "database": str(wh.db_path),
            "size_bytes": wh.size_bytes(),
            "first_day": None if _isna(h["first_day"]) else str(h["first_day"])[:10],
            "last_day": None if _isna(h["last_day"]) else str(h["last_day"])[:10],
            "days": int(h["days"]),
            "runs": rows,
            "schedule": _schedule(settings),
        }
    )


def _schedule(settings: Settings) -> dict[str, Any]:
    from tracker import daemon  # the daemon's view: its PID, each job's last and next run

    return daemon.describe(settings)


def _isna(v: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def render(info: dict[str, Any]) -> str:
    lines = [
        f"warehouse  {info['warehouse']}  ({_human_bytes(info['size_bytes'])})",
        f"query it   duckdb -readonly {info['database']}",
        f"data       {info['days']} day{'' if info['days'] == 1 else 's'}"
        + (f", {info['first_day']} .. {info['last_day']}" if info["days"] else ""),
        "",
    ]
    if not info["runs"]:
        lines.append("no runs yet: run `tracker collect`")
    else:
        lines.append(f"{'started (UTC)':<20} {'job':<8} {'status':<8} {'secs':>7} {'models':>8} {'requests':>8}  error")
        for r in info["runs"]:
            started = str(r["started_at"])[:19]
            secs = f"{r['seconds']:.1f}" if r.get("seconds") is not None else "-"
            err = (r.get("error") or "")[:80]
            lines.append(
                f"{started:<20} {r['job']:<8} {r['status']:<8} {secs:>7} {r['models'] or 0:>8} "
                f"{r['requests'] or 0:>8}  {err}"
            )
    if info.get("schedule"):
        from tracker import daemon

        lines.extend(daemon.status_lines(info["schedule"]))
    for extra in info.get("extra_lines", []):
        lines.append(extra)
    return "\n".join(lines)
