"""What every job shares: the tracker's clock, the run context and record, progress bars."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from contextlib import nullcontext
from typing import Any

import pandas as pd
import structlog

from tracker.config import Family, Settings
from tracker.warehouse import Warehouse, new_run_id, run_job

log = structlog.get_logger("tracker.jobs")


def utcnow() -> dt.datetime:
    """The tracker's clock: UTC now, or TRACKER_NOW (ISO time) to replay or simulate a date."""
    fixed = os.environ.get("TRACKER_NOW")
    if fixed:
        t = dt.datetime.fromisoformat(fixed.replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC)


def progress(total_hint: int | None, desc: str, enabled: bool | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return nullcontext(None)
    from tqdm import tqdm

    return tqdm(total=total_hint, desc=desc, unit=" models", leave=False, file=sys.stderr)


TOKEN_QUOTA = 1000  # the Hub's API requests per 5-minute window for a free user's token (500 anonymous)


def duration(seconds: float) -> str:
    """For people: 0.4 s, 12 s, 4 min 12 s, 1 h 5 min."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min" + (f" {s % 60} s" if s % 60 else "")
    return f"{s // 3600} h" + (f" {s % 3600 // 60} min" if s % 3600 // 60 else "")


def _window(seconds: float | None) -> str:
    if seconds is None:
        return "window"
    if seconds >= 60 and seconds % 60 == 0:
        m = int(seconds // 60)
        return "minute" if m == 1 else f"{m} minutes"
    return f"{seconds:g} s"


def quota_wait_message(wait_s: float, quota: int | None, window_s: float | None, with_token: bool) -> str:
    """ "waiting 4 min 12 s for the Hub's rate limit: 500 requests per 5 minutes anonymous; set HF_TOKEN for 1,000"."""
    limit = f"{quota:,} requests per {_window(window_s)}" if quota else "the request quota"
    who = "with your token" if with_token else "anonymous"
    hint = "" if with_token or (quota or 0) >= TOKEN_QUOTA else f"; set HF_TOKEN for {TOKEN_QUOTA:,}"
    return f"waiting {duration(wait_s)} for the Hub's rate limit: {limit} {who}{hint}"


def announce_quota_waits(stats, bar=None) -> None:
    """Say once per wait, in the log and on the progress bar, that a run waits for the rate limit."""

    def hook(wait_s: float, quota: int | None, window_s: float | None, with_token: bool) -> None:
        message = quota_wait_message(wait_s, quota, window_s, with_token)
        log.info(message, wait_s=round(wait_s, 1), quota=quota, window_s=window_s)
        if bar is not None:
            bar.set_postfix_str(message, refresh=True)

    stats.on_quota_wait = hook


class Job:
    """What every job starts with: its clock, run id, day and warehouse; `record` builds its runs row."""

    def __init__(self, settings: Settings, name: str, now: dt.datetime | None, run_id: str | None = None):
        self.settings, self.name = settings, name
        self.started = now or utcnow()
        self.t0 = time.monotonic()
        self.run_id = run_id or new_run_id(name, self.started)
        self.taken_at = pd.Timestamp(self.started).tz_convert("UTC").as_unit("us")  # as stored
        self.day = self.started.astimezone(dt.UTC).date()
        self.wh = Warehouse(settings.warehouse)
        self._preflight()

    def _preflight(self) -> None:
        """Before anything: remove dead runs' temporary files, refuse to start on a nearly full disk
        (recorded as a failed run, so that `tracker status` and the daemon see it), create the layout."""
        from tracker import machine

        removed = machine.remove_leftovers(self.wh.root)
        if removed:
            log.info("removed temporary files of dead runs", files=len(removed), warehouse=str(self.wh.root))
        try:
            machine.check_space(self.wh.root, self.settings.warehouse_min_free_mb)
        except machine.LowDiskSpace as exc:
            try:
                self.wh.ensure()
                self.wh.publish(self.record("failed", errors=[str(exc)]), self.day, {})
            except Exception as exc2:  # noqa: BLE001 - not even the note fits: the message still goes out
                log.error("could not record the refused run", error=str(exc2))
            raise
        self.wh.ensure()

    def families(self, names: list[str] | None) -> list[Family]:
        return [self.settings.family(n) for n in names] if names else list(self.settings.families)

    def record(
        self,
        status: str,
        *,
        families_ok=None,
        families_failed=None,
        models=None,
        requests=0,
        retries=0,
        errors: list[str] | None = None,
    ) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "job": self.name,
            "started_at": self.started,
            "finished_at": self.started + dt.timedelta(seconds=time.monotonic() - self.t0),
            "status": status,
            "families_ok": families_ok,
            "families_failed": families_failed,
            "models": models,
            "requests": requests,
            "retries": retries,
            "error": "; ".join(errors or []) or None,
        }


#: The job whose runs record adds no data the trend tables are computed from (it reads them).
READS_ONLY_JOB = "report"


def refresh_if_stale(settings: Settings) -> bool:
    """Recompute the derived trend tables when a run that may add data was recorded after they were last
    written (a run killed between its record and its trend refresh, or one told not to refresh): readers
    never see trends older than the data. A report's run does not count: it adds no data. Returns whether
    it recomputed them."""
    wh = Warehouse(settings.warehouse)
    derived = list((wh.root / "derived").glob("*.parquet"))
    runs = [
        p
        for p in (wh.root / "runs").glob("*/*.parquet")
        if p.parent.name != "_empty" and run_job(p.stem) != READS_ONLY_JOB  # runs/<day>/<run_id>.parquet
    ]
    if not derived or not runs:
        return False
    try:
        newest_run = max(p.stat().st_mtime for p in runs)
        oldest_table = min(p.stat().st_mtime for p in derived)
    except FileNotFoundError:  # a concurrent job replaced a file
        return False
    if newest_run <= oldest_table:
        return False
    from tracker.jobs.trend import derive

    log.info("the trend tables were older than the last run; recomputing them", warehouse=str(wh.root))
    derive(settings, wh)
    return True
