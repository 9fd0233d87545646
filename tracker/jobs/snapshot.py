"""Snapshot jobs: `collect` (listings from the Hub) and `import` (archived listings).

A run never leaves partial data that looks complete: everything it fetched is held in memory and
published at the end (Warehouse.publish writes the data files first and the run record last), and a
family that fails contributes nothing at all.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import structlog

from tracker import hub as hubmod
from tracker import records
from tracker.config import Family, Settings
from tracker.jobs.common import announce_quota_waits, log, progress, utcnow
from tracker.jobs.snapshot_run import SnapshotRun
from tracker.jobs.trend import derive_after
from tracker.warehouse import Warehouse


class FamilyFailed(Exception):
    """A family's listing failed for good; carries the requests it made."""

    def __init__(self, message: str, stats: hubmod.RequestStats):
        super().__init__(message)
        self.stats = stats


RENAME_LOOKUPS = 50  # per family and run: models gone from the listing whose current id is asked for


def _collect_family(
    hub: hubmod.Hub, fam: Family, budget_s: float, show_progress: bool | None, previous: list[str] | None
):
    """List and check one family. Anything that goes wrong (the Hub, a record no check foresaw)
    fails this family only. Returns (checked, listed, request counts, renames old -> new)."""
    with hub.track(budget_s) as stats, progress(None, fam.name, show_progress) as bar:
        announce_quota_waits(stats, bar)
        try:
            recs, listed = hub.list_family(fam, progress=bar.update if bar is not None else None)
            checked = records.check(recs, authors=fam.authors)
            del recs  # only the typed rows are kept
            overflow = records.sums_overflow(checked.rows)
            if overflow:
                raise hubmod.HubError(f"{overflow}; nothing of this family was stored")
        except Exception as exc:
            raise FamilyFailed(hubmod.describe_error(exc), stats) from exc
        renames = _renames(hub, previous, set(checked.rows.model_id))
    return checked, listed, (stats.requests, stats.retries, stats.rate_limited), renames


def _renames(hub: hubmod.Hub, previous: list[str] | None, current: set[str]) -> dict[str, str]:
    """Models of the previous snapshot missing from this listing that the Hub redirects to another id
    (renamed or transferred): old id -> new id. A lookup that fails is skipped (tried again next run)."""
    out: dict[str, str] = {}
    gone = sorted(set(previous or ()) - current)[:RENAME_LOOKUPS]
    for old in gone:
        try:
            new = hub.current_id(old)
        except hubmod.BudgetExceeded:
            break
        except Exception as exc:  # noqa: BLE001 - a rename lookup is best effort: warn and go on
            log.warning(
                "could not follow a model that left the listing", model_id=old, error=hubmod.describe_error(exc)
            )
            continue
        if new and new != old and records.bad_id(new) is None:
            out[old] = new
    return out


def collect(
    settings: Settings,
    *,
    families: list[str] | None = None,
    now: dt.datetime | None = None,
    hub: hubmod.Hub | None = None,
    show_progress: bool | None = None,
    refresh_trends: bool = True,
) -> dict[str, Any]:
    """Take one snapshot of every family (or the named ones) and publish it as one run.

    refresh_trends=False skips recomputing the derived trend tables (a bulk load of many days can
    call `derive` once at the end instead)."""
    run = SnapshotRun(settings, "collect", now or utcnow())
    hub = hub or hubmod.Hub(settings.hub)
    chosen = [settings.family(n) for n in families] if families else list(settings.families)
    with structlog.contextvars.bound_contextvars(run_id=run.run_id, job="collect"):
        log.info("collect started", families=[f.name for f in chosen], endpoint=hub.endpoint, day=str(run.day))
        try:
            previous = run.wh.latest_members([f.name for f in chosen])
            for fam in chosen:
                with structlog.contextvars.bound_contextvars(family=fam.name):
                    if not _collect_one(run, hub, fam, previous.get(fam.name), show_progress):
                        for rest in chosen[chosen.index(fam) + 1 :]:
                            run.fail(rest, "not tried: the Hub is unreachable (see above)")
                        break
            record = run.publish(refresh_trends)
        except Exception as exc:
            record, recorded = run.record_failure(exc)
            log.error("collect failed", error=record["error"], recorded=recorded)
            raise CollectFailed(record, recorded) from exc
        log.info(
            "collect finished",
            status=record["status"],
            families_ok=record["families_ok"],
            families_failed=record["families_failed"],
            models=record["models"],
            requests=record["requests"],
            retries=record["retries"],
            seconds=round(time.monotonic() - run.t0, 2),
        )
    return record


class CollectFailed(Exception):
    """A collect failed outside any family (disk, warehouse); its failed `runs` row is `record`."""

    def __init__(self, record: dict[str, Any], recorded: bool = True):
        super().__init__(record["error"])
        self.record, self.recorded = record, recorded


def _collect_one(
    run: SnapshotRun, hub: hubmod.Hub, fam: Family, previous: list[str] | None, show_progress: bool | None
) -> bool:
    """Collect one family into the run; False when the Hub is unreachable (stop asking)."""
    t_fam = time.monotonic()
    try:
        checked, listed, (req, ret, _429), renames = _collect_family(
            hub, fam, run.settings.hub.budget_s, show_progress, previous
        )
    except FamilyFailed as exc:
        run.requests += exc.stats.requests
        run.retries += exc.stats.retries
        run.fail(fam, str(exc))
        return not hubmod.is_unreachable(exc.__cause__, exc.stats)
    run.requests += req
    run.retries += ret
    run.renames.update(renames)
    if run.add(fam, checked):
        log.info(
            "family listed",
            models=len(checked.rows),
            listed=listed,
            quarantined=len(checked.bad),
            renamed=len(renames),
            requests=req,
            retries=ret,
            seconds=round(time.monotonic() - t_fam, 2),
        )
    return True


def import_files(
    settings: Settings, paths: list, *, taken_at: dt.datetime | None = None, refresh_trends: bool = True
) -> list[dict[str, Any]]:
    """Load archived listing dumps as snapshots of their own date (see tracker/archive.py).

    Each file becomes one run (job 'import') whose id comes from the snapshot time and the file's
    content, so importing the same file twice changes nothing. Records are assigned to families by
    config.yaml's rules; malformed ones go to quarantine as in a collect. A family absent from a
    file is not recorded for that day (absent is not zero)."""
    from tracker import archive

    wh = Warehouse(settings.warehouse)
    wh.ensure()
    done = wh.imported_runs()
    out = []
    for path in paths:
        arc = archive.read(path)
        when = arc.taken_at or taken_at  # --taken-at is for files that do not say when they were taken
        if when is None:
            raise archive.ArchiveError(
                f'{arc.path}: the file does not say when it was taken (no "fetched_at" or "date"); '
                "pass --taken-at, e.g. --taken-at 2026-08-07T06:00:00Z"
            )
        run_id = f"{when.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-import-{arc.digest[:12]}"
        if run_id in done:
            log.info("already imported", path=str(arc.path), run_id=run_id)
            out.append({"run_id": run_id, "job": "import", "status": "skipped", "path": str(arc.path), "models": 0})
            continue
        run = SnapshotRun(settings, "import", when, run_id=run_id)
        with structlog.contextvars.bound_contextvars(run_id=run_id, job="import"):
            ids = [r.get("id") if isinstance(r, dict) else None for r in arc.records]
            for fam in settings.families:
                mine = [r for r, mid in zip(arc.records, ids, strict=True) if isinstance(mid, str) and fam.owns(mid)]
                if mine:
                    run.add(fam, records.check(mine))
            unowned = records.check([r for r, mid in zip(arc.records, ids, strict=True) if not isinstance(mid, str)])
            run.quarantine.extend(
                {"run_id": run_id, "family": None, "model_id": mid, "reason": why, "raw": raw}
                for mid, why, raw in unowned.bad
            )
            record = run.publish(refresh_trends=False, refresh_serving=False)
            log.info(
                "imported",
                path=str(arc.path),
                taken_at=str(when),
                models=record["models"],
                families=record["families_ok"],
                quarantined=len(run.quarantine),
            )
        done.add(run_id)
        out.append({**record, "path": str(arc.path)})
    if any(r["status"] != "skipped" for r in out):
        wh.refresh_serving()  # once for all the files (each run is stored; a kill leaves them stale, and
        if refresh_trends:  # the next command's Warehouse.ensure refreshes them)
            derive_after(settings, wh)
    return out
