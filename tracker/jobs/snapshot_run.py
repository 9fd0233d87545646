"""A snapshot run being assembled and published (the `collect` and `import` jobs, jobs/snapshot.py):
each family is added whole or recorded as failed; `publish` computes the run's keys, intervals and
data-quality notes and writes its files, then its `runs` record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from tracker import records, trends
from tracker.config import Family, Settings
from tracker.jobs.common import Job, log
from tracker.jobs.trend import derive_after
from tracker.metrics import SNAPSHOT_METRICS
from tracker.redact import redact
from tracker.warehouse import Warehouse

BAD_RECORD_LIMIT = 0.01  # a family with more than 1% malformed records fails


class SnapshotRun:
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
    whose all-time count jumped by more than `jump_factor` is flagged `all_time_jump` and left out.
    All families at once: each previous run's rows are read once, and every step is one frame operation."""
    prev = wh.previous_family_runs(day)
    fams = sorted(set(snapshots.family) & prev.keys())  # the listed families with a previous snapshot
    if not fams:
        return {}, None
    by_run: dict[tuple[str, dt.date], list[str]] = {}  # the families of each previous run
    for fam in fams:
        run0, day0, _ = prev[fam]
        by_run.setdefault((run0, day0), []).append(fam)
    # each family's rows in their stored (old) and listed (cur) order, families sorted
    old = pd.concat([wh.snapshot_rows(*run, names) for run, names in by_run.items()], ignore_index=True)
    old = old.sort_values("family", kind="stable", ignore_index=True)
    cur = snapshots[snapshots.family.isin(fams)].sort_values("family", kind="stable", ignore_index=True)
    key = ["family", "model_key"]
    before = old.drop_duplicates(key).set_index(key)["downloads_all_time"]
    now_at = cur.drop_duplicates(key).set_index(key)["downloads_all_time"]
    jumped = records.all_time_jumps(before, now_at, jump_factor)
    jumped = jumped[jumped]
    jumps = None
    if len(jumped):
        jumps = pd.DataFrame(
            {
                "day": pd.Timestamp(day),
                "family": jumped.index.get_level_values("family").to_numpy(),
                "model_id": jumped.index.get_level_values("model_key").astype("int64"),
                "issue": "all_time_jump",
                "detail": [
                    f"downloads_all_time {int(before[k])} -> {int(now_at[k])} since {prev[k[0]][1]}, more than "
                    f"{jump_factor:g} times; left out of downloads_day"
                    for k in jumped.index
                ],
            }
        )
        hit = pd.MultiIndex.from_frame(cur[key]).isin(jumped.index)
        cur = cur.assign(downloads_all_time=cur.downloads_all_time.astype("Int64").where(~hit, pd.NA))
    created = snapshots.drop_duplicates("model_key").set_index("model_key")["created_at"]  # as listed now
    created = created.reindex(old.model_key.to_numpy()).reset_index(drop=True)
    old_pairs = _pairs(
        old,
        old.family.map({f: pd.Timestamp(prev[f][1]) for f in fams}),
        created,
        old.family.map({f: prev[f][2] for f in fams}),
    )
    cur_pairs = _pairs(cur, pd.Timestamp(day), cur.created_at, pd.Timestamp(taken_at))
    # every family's previous snapshot, then its current one
    pairs = pd.concat([old_pairs, cur_pairs]).sort_values("family", kind="stable", ignore_index=True)
    dd, q = trends.interval_stats(pairs)
    last = dd[dd.day == pd.Timestamp(day)]
    out = {
        fam: (None if pd.isna(n) else round(n), int(days))
        for fam, n, days in zip(last["family"], last["interval_downloads"], last["interval_days"], strict=True)
    }
    # the new day's notes: model-level ones, and stale values (family-level; missing days are derived)
    q = q[(q.day == pd.Timestamp(day)) & (q.model_id.notna() | q.issue.str.startswith("stale"))]
    if jumps is not None:
        q = pd.concat([q.astype({"model_id": "object"}), jumps.astype({"model_id": "object"})], ignore_index=True)
    if q.empty:
        return out, None
    ids = [None if pd.isna(k) else id_of.get(int(k), str(k)) for k in q.model_id]
    return out, q.assign(model_id=pd.Series(ids, index=q.index, dtype="str"), day=day)


def _pairs(rows: pd.DataFrame, day: Any, created_at: Any, taken_at: Any) -> pd.DataFrame:
    """Snapshot rows in the shape `trends.interval_stats` reads (`day` and `taken_at`: one value or one per row)."""
    return pd.DataFrame(
        {
            "day": day,
            "family": rows.family,
            "model_id": rows.model_key.astype("int64").to_numpy(),
            "created_at": created_at,
            "taken_at": taken_at,
            **{m: rows[m].astype("Int64").to_numpy() for m in SNAPSHOT_METRICS},
        }
    )


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
