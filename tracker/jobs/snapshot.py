"""Snapshot jobs: `collect` (listings from the Hub) and `import` (archived listings).

A run never leaves partial data that looks complete: everything it fetched is held in memory and
published at the end (Warehouse.publish writes the data files first and the run record last), and a
family that fails contributes nothing at all.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pandas as pd
import structlog

from tracker import hub as hubmod
from tracker import records, trends
from tracker.config import Family, Settings
from tracker.jobs.common import Job, announce_quota_waits, log, progress, utcnow
from tracker.jobs.trend import derive_after
from tracker.metrics import SNAPSHOT_METRICS
from tracker.redact import redact
from tracker.warehouse import Warehouse

BAD_RECORD_LIMIT = 0.01  # a family with more than 1% malformed records fails


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


class _SnapshotRun:
    """A snapshot run being assembled: each family is added whole (or recorded as failed), and
    nothing is stored until `publish`, which writes the run's files and then its `runs` record."""

    def __init__(self, settings: Settings, job: str, started: dt.datetime, run_id: str | None = None):
        self.job = Job(settings, job, started, run_id)
        self.settings, self.started, self.t0 = settings, started, self.job.t0
        self.run_id, self.day, self.wh = self.job.run_id, self.job.day, self.job.wh
        self.taken_at = self.job.taken_at
        self.snaps: list[pd.DataFrame] = []
        self.fam_rows: list[dict[str, Any]] = []
        self.quarantine: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.failed = 0
        self.requests = self.retries = 0
        self.renames: dict[str, str] = {}

    def fail(self, fam: Family, message: str) -> None:
        self.failed += 1
        message = redact(message)
        self.errors.append(message if message.startswith(f"{fam.name}:") else f"{fam.name}: {message}")
        log.error("family failed", family=fam.name, error=message)

    def record_failure(self, exc: BaseException) -> tuple[dict[str, Any], bool]:
        """Something outside any family failed (the disk, the warehouse): leave a failed `runs` row with
        the message, if anything can still be written. Returns the row and whether it was written."""
        from tracker import machine

        message = redact(machine.explain(exc, self.wh.root) or f"{type(exc).__name__}: {exc}")
        run = self.job.record(
            "failed",
            families_ok=0,
            families_failed=self.failed + len(self.fam_rows),
            models=0,
            requests=self.requests,
            retries=self.retries,
            errors=[*self.errors, message],
        )
        try:
            self.wh.publish(run, self.day, {})
        except Exception as exc2:  # noqa: BLE001 - e.g. the disk is still full: the message still goes out
            log.error("could not record the failed run", error=redact(str(exc2)))
            return run, False
        return run, True

    def add(self, fam: Family, checked: records.Checked) -> bool:
        """Add a family's checked records; more than 1% malformed fails the family (nothing stored)."""
        self.quarantine.extend(
            {"run_id": self.run_id, "family": fam.name, "model_id": mid, "reason": why, "raw": raw}
            for mid, why, raw in checked.bad
        )
        if checked.bad_share > BAD_RECORD_LIMIT:
            self.fail(
                fam,
                f"{fam.name}: {len(checked.bad)} of {checked.total} records are malformed "
                f"({checked.bad_share:.1%}, more than {BAD_RECORD_LIMIT:.0%}); nothing of this family was "
                f"stored. See `tracker sql \"select * from quarantine where run_id = '{self.run_id}'\"`.",
            )
            return False
        rows = checked.rows
        rows.insert(0, "family", fam.name)
        rows.insert(0, "day", self.day)
        rows.insert(0, "taken_at", self.taken_at)
        rows.insert(0, "run_id", self.run_id)
        self.snaps.append(rows)
        self.fam_rows.append({"family": fam.name, "label": fam.label, "region": fam.region})
        return True

    def publish(self, refresh_trends: bool = True, refresh_serving: bool = True) -> dict[str, Any]:
        wh, day = self.wh, self.day
        ok = len(self.fam_rows)
        status = "ok" if self.failed == 0 else ("partial" if ok else "failed")
        snapshots = pd.concat(self.snaps, ignore_index=True) if self.snaps else None
        intervals: dict[str, tuple[Any, Any]] = {}
        quality = None
        aliases = None
        if snapshots is not None:
            keyed, id_of = wh.store_models(
                snapshots[["model_id", *Warehouse.ATTRS]], self.run_id, self.started, day, renamed=self.renames
            )
            snapshots = snapshots.merge(keyed[["model_id", "model_key"]], on="model_id", how="left")
            intervals, quality = _intervals(
                wh, snapshots, day, self.started, id_of, self.settings.quality.all_time_jump_factor
            )
            snapshots = snapshots.sort_values(["family", "model_key"], ignore_index=True)
        if self.renames:
            aliases = pd.DataFrame(
                {
                    "run_id": self.run_id,
                    "detected_on": day,
                    "old_id": list(self.renames),
                    "new_id": list(self.renames.values()),
                }
            )
        fam_df = _family_rows(wh, snapshots, self.fam_rows, self.run_id, self.taken_at, day, intervals)
        run = self.job.record(
            status,
            families_ok=ok,
            families_failed=self.failed,
            models=0 if snapshots is None else len(snapshots),
            requests=self.requests,
            retries=self.retries,
            errors=self.errors,
        )
        if quality is not None:
            quality["run_id"] = self.run_id
        wh.publish(
            run,
            day,
            {
                "snapshots": snapshots,
                "family_snapshots": fam_df,
                "quality": quality,
                "quarantine": pd.DataFrame(self.quarantine) if self.quarantine else None,
                "aliases": aliases,
            },
            refresh=refresh_serving,
        )
        if refresh_trends:
            derive_after(self.settings, wh)
        return run


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
    run = _SnapshotRun(settings, "collect", now or utcnow())
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
    run: _SnapshotRun, hub: hubmod.Hub, fam: Family, previous: list[str] | None, show_progress: bool | None
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


def _intervals(
    wh: Warehouse,
    snapshots: pd.DataFrame,
    day: dt.date,
    taken_at: dt.datetime,
    id_of: dict[int, str],
    jump_factor: float,
) -> tuple[dict[str, tuple[Any, Any]], pd.DataFrame | None]:
    """Per family: the exact downloads since its previous snapshot day (from all-time counts) and the
    model-level data-quality findings of that interval (trends.downloads_day / quality_flags). A model
    whose all-time count jumped by more than `jump_factor` is flagged `all_time_jump` and left out."""
    prev = wh.previous_family_runs(day)
    created = snapshots.drop_duplicates("model_key").set_index("model_key")["created_at"]
    frames, jumps = [], []
    for key, cur in snapshots.groupby("family", sort=True):
        fam = str(key)  # the family names (strings)
        if fam not in prev:
            continue
        run0, day0, at0 = prev[fam]
        old = wh.snapshot_rows(run0, day0, fam)
        before = old.drop_duplicates("model_key").set_index("model_key")["downloads_all_time"]
        now_at = cur.drop_duplicates("model_key").set_index("model_key")["downloads_all_time"]
        jumped = records.all_time_jumps(before, now_at, jump_factor)
        jumped = jumped[jumped]
        if len(jumped):
            keys = jumped.index
            jumps.append(
                pd.DataFrame(
                    {
                        "day": pd.Timestamp(day),
                        "family": fam,
                        "model_id": keys.astype("int64"),
                        "issue": "all_time_jump",
                        "detail": [
                            f"downloads_all_time {int(before[k])} -> {int(now_at[k])} since {day0}, more than "
                            f"{jump_factor:g} times; left out of downloads_day"
                            for k in keys
                        ],
                    }
                )
            )
            cur = cur.assign(
                downloads_all_time=cur.downloads_all_time.astype("Int64").where(~cur.model_key.isin(keys), pd.NA)
            )
        frames += [
            pd.DataFrame(
                {
                    "day": pd.Timestamp(day0),
                    "family": fam,
                    "model_id": old.model_key.astype("int64").to_numpy(),
                    "created_at": created.reindex(old.model_key.to_numpy()).reset_index(drop=True),
                    "taken_at": at0,
                    **{m: old[m].astype("Int64").to_numpy() for m in SNAPSHOT_METRICS},
                }
            ),
            pd.DataFrame(
                {
                    "day": pd.Timestamp(day),
                    "family": fam,
                    "model_id": cur.model_key.astype("int64").to_numpy(),
                    "created_at": cur.created_at.reset_index(drop=True),
                    "taken_at": pd.Timestamp(taken_at),
                    **{m: cur[m].astype("Int64").to_numpy() for m in SNAPSHOT_METRICS},
                }
            ),
        ]
    if not frames:
        return {}, None
    pairs = pd.concat(frames, ignore_index=True)  # every family's previous and current snapshot
    dd, q = trends.interval_stats(pairs)
    last = dd[dd.day == pd.Timestamp(day)]
    out = {
        fam: (None if pd.isna(n) else round(n), int(days))
        for fam, n, days in zip(last["family"], last["interval_downloads"], last["interval_days"], strict=True)
    }
    # the new day's notes: model-level ones, and stale values (family-level; missing days are derived)
    q = q[(q.day == pd.Timestamp(day)) & (q.model_id.notna() | q.issue.str.startswith("stale"))]
    if jumps:
        q = pd.concat(
            [q.astype({"model_id": "object"}), *[j.astype({"model_id": "object"}) for j in jumps]], ignore_index=True
        )
    if q.empty:
        return out, None
    ids = [None if pd.isna(k) else id_of.get(int(k), str(k)) for k in q.model_id]
    return out, q.assign(model_id=pd.Series(ids, index=q.index, dtype="str"), day=day)


def _family_rows(
    wh: Warehouse,
    snapshots: pd.DataFrame | None,
    fams: list[dict[str, Any]],
    run_id: str,
    taken_at: pd.Timestamp,
    day: dt.date,
    intervals: dict[str, tuple[Any, Any]],
) -> pd.DataFrame | None:
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
    base["downloads_interval"] = pd.array([intervals.get(f, (None, None))[0] for f in base.family], dtype="Int64")
    base["interval_days"] = pd.array([intervals.get(f, (None, None))[1] for f in base.family], dtype="Int32")
    base["run_id"] = run_id
    base["taken_at"] = taken_at
    base["day"] = day
    return base


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
        run = _SnapshotRun(settings, "import", when, run_id=run_id)
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
