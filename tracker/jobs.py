"""One function per job. Each wires hub -> records -> warehouse and returns its run record.

A job never leaves partial data that looks complete: everything a run fetched is held in memory
and published at the end (Warehouse.publish writes the data files first and the run record last),
and a family that fails contributes nothing at all.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from contextlib import nullcontext
from typing import Any

import pandas as pd
import structlog

from tracker import hub as hubmod
from tracker import records
from tracker.config import Family, Settings
from tracker.warehouse import Warehouse, new_run_id

log = structlog.get_logger("tracker.jobs")

BAD_RECORD_LIMIT = 0.01  # a family with more than 1% malformed records fails


def utcnow() -> dt.datetime:
    """The tracker's clock: UTC now, or TRACKER_NOW (ISO time) to replay or simulate a date."""
    fixed = os.environ.get("TRACKER_NOW")
    if fixed:
        t = dt.datetime.fromisoformat(fixed.replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=dt.UTC)
    return dt.datetime.now(dt.UTC)


class FamilyFailed(Exception):
    """A family's listing failed for good; carries the requests it made."""

    def __init__(self, message: str, stats: hubmod.RequestStats):
        super().__init__(message)
        self.stats = stats


def _progress(total_hint: int | None, desc: str, enabled: bool | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return nullcontext(None)
    from tqdm import tqdm

    return tqdm(total=total_hint, desc=desc, unit=" models", leave=False, file=sys.stderr)


def _collect_family(hub: hubmod.Hub, fam: Family, budget_s: float, show_progress: bool | None):
    with hub.track(budget_s) as stats, _progress(None, fam.name, show_progress) as bar:
        try:
            recs, listed = hub.list_family(fam, progress=bar.update if bar is not None else None)
        except Exception as exc:  # noqa: BLE001 - every failure of a family is recorded, none is fatal
            raise FamilyFailed(hubmod.describe_error(exc), stats) from exc
    return records.check(recs), listed, (stats.requests, stats.retries, stats.rate_limited)


def collect(settings: Settings, *, families: list[str] | None = None, now: dt.datetime | None = None,
            hub: hubmod.Hub | None = None, show_progress: bool | None = None) -> dict[str, Any]:
    """Take one snapshot of every family (or the named ones) and publish it as one run."""
    started = now or utcnow()
    t0 = time.monotonic()
    run_id = new_run_id("collect", started)
    day = started.astimezone(dt.UTC).date()
    wh = Warehouse(settings.warehouse)
    wh.ensure()
    hub = hub or hubmod.Hub(settings.hub)
    chosen = [settings.family(n) for n in families] if families else list(settings.families)

    snaps: list[pd.DataFrame] = []
    fam_rows: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    errors: list[str] = []
    requests = retries = 0
    with structlog.contextvars.bound_contextvars(run_id=run_id, job="collect"):
        log.info("collect started", families=[f.name for f in chosen], endpoint=hub.endpoint, day=str(day))
        for fam in chosen:
            with structlog.contextvars.bound_contextvars(family=fam.name):
                t_fam = time.monotonic()
                try:
                    checked, listed, (req, ret, _429) = _collect_family(hub, fam, settings.hub.budget_s,
                                                                         show_progress)
                except FamilyFailed as exc:
                    requests += exc.stats.requests
                    retries += exc.stats.retries
                    errors.append(f"{fam.name}: {exc}")
                    log.error("family failed", error=str(exc), exc_type=type(exc.__cause__).__name__)
                    continue
                requests += req
                retries += ret
                quarantine.extend({"run_id": run_id, "family": fam.name, "model_id": mid, "reason": why,
                                   "raw": raw} for mid, why, raw in checked.bad)
                if checked.bad_share > BAD_RECORD_LIMIT:
                    msg = (f"{fam.name}: {len(checked.bad)} of {checked.total} records are malformed "
                           f"({checked.bad_share:.1%}, more than {BAD_RECORD_LIMIT:.0%}); nothing of this family was "
                           f"stored. See `tracker sql \"select * from quarantine where run_id = '{run_id}'\"`.")
                    errors.append(msg)
                    log.error("family failed", error=msg)
                    continue
                rows = checked.rows
                rows.insert(0, "family", fam.name)
                rows.insert(0, "day", day)
                rows.insert(0, "taken_at", pd.Timestamp(started).tz_convert("UTC").as_unit("us"))
                rows.insert(0, "run_id", run_id)
                snaps.append(rows)
                fam_rows.append({"family": fam.name, "label": fam.label, "region": fam.region})
                log.info("family listed", models=len(rows), listed=listed, quarantined=len(checked.bad),
                         requests=req, retries=ret, seconds=round(time.monotonic() - t_fam, 2))

        ok, failed = len(fam_rows), len(chosen) - len(fam_rows)
        status = "ok" if failed == 0 else ("partial" if ok else "failed")
        snapshots = pd.concat(snaps, ignore_index=True) if snaps else None
        fam_df = _family_rows(wh, snapshots, fam_rows, run_id, started, day)
        run = {
            "run_id": run_id, "job": "collect", "started_at": started, "finished_at": started + dt.timedelta(
                seconds=time.monotonic() - t0), "status": status, "families_ok": ok, "families_failed": failed,
            "models": 0 if snapshots is None else len(snapshots), "requests": requests, "retries": retries,
            "error": "; ".join(errors) or None,
        }
        if snapshots is not None:
            snapshots = snapshots.sort_values(["family", "model_id"], ignore_index=True)
        wh.publish(run, day, {"snapshots": snapshots, "family_snapshots": fam_df,
                              "quarantine": pd.DataFrame(quarantine) if quarantine else None})
        log.info("collect finished", status=status, families_ok=ok, families_failed=failed, models=run["models"],
                 requests=requests, retries=retries, seconds=round(time.monotonic() - t0, 2))
    return run


def _family_rows(wh: Warehouse, snapshots: pd.DataFrame | None, fams: list[dict[str, Any]], run_id: str,
                 taken_at: dt.datetime, day: dt.date) -> pd.DataFrame | None:
    """Per-family aggregates of the run, including families that listed no model (models = 0)."""
    if not fams:
        return None
    base = pd.DataFrame(fams)
    if snapshots is not None and len(snapshots):
        base = base.merge(wh.aggregate(snapshots), on="family", how="left")
    for col in ("models", "downloads_30d", "downloads_all_time", "likes"):
        if col not in base:
            base[col] = pd.NA
        base[col] = base[col].astype("Int64")
    base["models"] = base["models"].fillna(0)
    base["run_id"] = run_id
    base["taken_at"] = pd.Timestamp(taken_at).tz_convert("UTC").as_unit("us")
    base["day"] = day
    return base


# The jobs the daemon can schedule, by the names used in config.yaml's `schedule:`.
# Each takes the settings and the (scheduled) time and returns its run record (a dict with at least
# run_id, job, status). Later jobs register themselves below.
JOBS: dict[str, Any] = {
    "collect": lambda settings, now=None: collect(settings, now=now, show_progress=False),
}


def run(name: str, settings: Settings, now: dt.datetime | None = None) -> dict[str, Any]:
    """Run a job by name (what the daemon calls)."""
    if name not in JOBS:
        raise KeyError(f"no job named '{name}' (known: {', '.join(JOBS)})")
    return JOBS[name](settings, now=now)
