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

import numpy as np
import pandas as pd
import structlog

from tracker import hub as hubmod
from tracker import records, trends
from tracker.config import Family, Settings
from tracker.warehouse import DERIVED, Warehouse, new_run_id

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


class _Job:
    """What every job starts with: its clock, run id, day and warehouse; `record` builds its runs row."""

    def __init__(self, settings: Settings, name: str, now: dt.datetime | None, run_id: str | None = None):
        self.settings, self.name = settings, name
        self.started = now or utcnow()
        self.t0 = time.monotonic()
        self.run_id = run_id or new_run_id(name, self.started)
        self.day = self.started.astimezone(dt.UTC).date()
        self.wh = Warehouse(settings.warehouse)
        self.wh.ensure()

    def families(self, names: list[str] | None) -> list[Family]:
        return [self.settings.family(n) for n in names] if names else list(self.settings.families)

    def record(self, status: str, *, families_ok=None, families_failed=None, models=None, requests=0, retries=0,
               errors: list[str] | None = None) -> dict[str, Any]:
        return {"run_id": self.run_id, "job": self.name, "started_at": self.started,
                "finished_at": self.started + dt.timedelta(seconds=time.monotonic() - self.t0), "status": status,
                "families_ok": families_ok, "families_failed": families_failed, "models": models,
                "requests": requests, "retries": retries, "error": "; ".join(errors or []) or None}


class _SnapshotRun:
    """A snapshot run being assembled: each family is added whole (or recorded as failed), and
    nothing is stored until `publish`, which writes the run's files and then its `runs` record."""

    def __init__(self, settings: Settings, job: str, started: dt.datetime, run_id: str | None = None):
        self.job = _Job(settings, job, started, run_id)
        self.settings, self.started, self.t0 = settings, started, self.job.t0
        self.run_id, self.day, self.wh = self.job.run_id, self.job.day, self.job.wh
        self.taken_at = pd.Timestamp(started).tz_convert("UTC").as_unit("us")
        self.snaps: list[pd.DataFrame] = []
        self.fam_rows: list[dict[str, Any]] = []
        self.quarantine: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.failed = 0
        self.requests = self.retries = 0

    def fail(self, fam: Family, message: str) -> None:
        self.failed += 1
        self.errors.append(message if message.startswith(f"{fam.name}:") else f"{fam.name}: {message}")
        log.error("family failed", family=fam.name, error=message)

    def add(self, fam: Family, checked: records.Checked) -> bool:
        """Add a family's checked records; more than 1% malformed fails the family (nothing stored)."""
        self.quarantine.extend({"run_id": self.run_id, "family": fam.name, "model_id": mid, "reason": why,
                                "raw": raw} for mid, why, raw in checked.bad)
        if checked.bad_share > BAD_RECORD_LIMIT:
            self.fail(fam, f"{fam.name}: {len(checked.bad)} of {checked.total} records are malformed "
                           f"({checked.bad_share:.1%}, more than {BAD_RECORD_LIMIT:.0%}); nothing of this family was "
                           f"stored. See `tracker sql \"select * from quarantine where run_id = '{self.run_id}'\"`.")
            return False
        rows = checked.rows
        rows.insert(0, "family", fam.name)
        rows.insert(0, "day", self.day)
        rows.insert(0, "taken_at", self.taken_at)
        rows.insert(0, "run_id", self.run_id)
        self.snaps.append(rows)
        self.fam_rows.append({"family": fam.name, "label": fam.label, "region": fam.region})
        return True

    def publish(self, refresh_trends: bool = True) -> dict[str, Any]:
        wh, day = self.wh, self.day
        ok = len(self.fam_rows)
        status = "ok" if self.failed == 0 else ("partial" if ok else "failed")
        snapshots = pd.concat(self.snaps, ignore_index=True) if self.snaps else None
        intervals: dict[str, tuple[Any, Any]] = {}
        quality = None
        if snapshots is not None:
            keyed, id_of = wh.store_models(snapshots[["model_id", *Warehouse.ATTRS]], self.run_id, self.started, day)
            snapshots = snapshots.merge(keyed[["model_id", "model_key"]], on="model_id", how="left")
            intervals, quality = _intervals(wh, snapshots, day, self.started, id_of)
            snapshots = snapshots.sort_values(["family", "model_key"], ignore_index=True)
        fam_df = _family_rows(wh, snapshots, self.fam_rows, self.run_id, self.started, day, intervals)
        run = self.job.record(status, families_ok=ok, families_failed=self.failed,
                              models=0 if snapshots is None else len(snapshots), requests=self.requests,
                              retries=self.retries, errors=self.errors)
        if quality is not None:
            quality["run_id"] = self.run_id
        wh.publish(run, day, {"snapshots": snapshots, "family_snapshots": fam_df, "quality": quality,
                              "quarantine": pd.DataFrame(self.quarantine) if self.quarantine else None})
        if refresh_trends:
            _derive_after(self.settings, wh)
        return run


def collect(settings: Settings, *, families: list[str] | None = None, now: dt.datetime | None = None,
            hub: hubmod.Hub | None = None, show_progress: bool | None = None,
            refresh_trends: bool = True) -> dict[str, Any]:
    """Take one snapshot of every family (or the named ones) and publish it as one run.

    refresh_trends=False skips recomputing the derived trend tables (a bulk load of many days can
    call `derive` once at the end instead)."""
    run = _SnapshotRun(settings, "collect", now or utcnow())
    hub = hub or hubmod.Hub(settings.hub)
    chosen = [settings.family(n) for n in families] if families else list(settings.families)
    with structlog.contextvars.bound_contextvars(run_id=run.run_id, job="collect"):
        log.info("collect started", families=[f.name for f in chosen], endpoint=hub.endpoint, day=str(run.day))
        for fam in chosen:
            with structlog.contextvars.bound_contextvars(family=fam.name):
                t_fam = time.monotonic()
                try:
                    checked, listed, (req, ret, _429) = _collect_family(hub, fam, settings.hub.budget_s,
                                                                         show_progress)
                except FamilyFailed as exc:
                    run.requests += exc.stats.requests
                    run.retries += exc.stats.retries
                    run.fail(fam, str(exc))
                    continue
                run.requests += req
                run.retries += ret
                if run.add(fam, checked):
                    log.info("family listed", models=len(checked.rows), listed=listed, quarantined=len(checked.bad),
                             requests=req, retries=ret, seconds=round(time.monotonic() - t_fam, 2))
        record = run.publish(refresh_trends)
        log.info("collect finished", status=record["status"], families_ok=record["families_ok"],
                 families_failed=record["families_failed"], models=record["models"], requests=record["requests"],
                 retries=record["retries"], seconds=round(time.monotonic() - run.t0, 2))
    return record


def _intervals(wh: Warehouse, snapshots: pd.DataFrame, day: dt.date, taken_at: dt.datetime,
               id_of: dict[int, str]) -> tuple[dict[str, tuple[Any, Any]], pd.DataFrame | None]:
    """Per family: the exact downloads since its previous snapshot day (from all-time counts) and the
    model-level data-quality findings of that interval (trends.downloads_day / quality_flags)."""
    prev = wh.previous_family_runs(day)
    created = snapshots.drop_duplicates("model_key").set_index("model_key")["created_at"]
    frames = []
    for fam, cur in snapshots.groupby("family", sort=True):
        if fam not in prev:
            continue
        run0, day0, at0 = prev[fam]
        old = wh.snapshot_rows(run0, day0, fam)
        frames += [
            pd.DataFrame({"day": pd.Timestamp(day0), "family": fam, "model_id": old.model_key.astype("int64").to_numpy(),
                          "created_at": created.reindex(old.model_key.to_numpy()).reset_index(drop=True),
                          "taken_at": at0,
                          "downloads_all_time": old.downloads_all_time.astype("Int64").to_numpy()}),
            pd.DataFrame({"day": pd.Timestamp(day), "family": fam, "model_id": cur.model_key.astype("int64").to_numpy(),
                          "created_at": cur.created_at.reset_index(drop=True), "taken_at": pd.Timestamp(taken_at),
                          "downloads_all_time": cur.downloads_all_time.astype("Int64").to_numpy()}),
        ]
    if not frames:
        return {}, None
    pairs = pd.concat(frames, ignore_index=True)  # every family's previous and current snapshot
    dd, q = trends.interval_stats(pairs)
    last = dd[dd.day == pd.Timestamp(day)]
    out = {r.family: (None if pd.isna(r.interval_downloads) else round(r.interval_downloads), int(r.interval_days))
           for r in last.itertuples()}
    q = q[(q.day == pd.Timestamp(day)) & q.model_id.notna()]
    if q.empty:
        return out, None
    return out, q.assign(model_id=q.model_id.map(lambda k: id_of.get(int(k), str(k))), day=day)


def _family_rows(wh: Warehouse, snapshots: pd.DataFrame | None, fams: list[dict[str, Any]], run_id: str,
                 taken_at: dt.datetime, day: dt.date, intervals: dict[str, tuple[Any, Any]]) -> pd.DataFrame | None:
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
    base["taken_at"] = pd.Timestamp(taken_at).tz_convert("UTC").as_unit("us")
    base["day"] = day
    return base




def _tree_row(info: hubmod.TreeInfo, run_id: str, taken_at: dt.datetime, day: dt.date) -> dict[str, Any]:
    return {"run_id": run_id, "taken_at": taken_at, "day": day, "model_id": info.model_id, "status": info.status,
            "current_id": info.current_id, "finetunes": info.finetunes, "adapters": info.adapters,
            "quantizations": info.quantizations, "merges": info.merges, "derivatives": info.derivatives,
            "base_relation": info.base_relation, "base_models": list(info.base_models)}


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    for col in ("finetunes", "adapters", "quantizations", "merges", "derivatives", "downloads_30d",
                "downloads_all_time", "likes"):
        if col in df:
            df[col] = df[col].astype("Int64")
    return df


def _ecosystem(hub: hubmod.Hub, fam: Family, parts: pd.DataFrame, run_id: str, day: dt.date) -> pd.DataFrame:
    """The community children of the family's `ecosystem_top` models with the most derivatives."""
    top = (parts[parts.derivatives.astype("Int64").fillna(0) > 0]
           .sort_values(["derivatives", "model_id"], ascending=[False, True]).head(fam.ecosystem_top))
    rows = []
    for parent in top.model_id:
        for rec in hub.list_children(parent):
            checked = records.check([rec])
            if checked.bad:
                continue  # a malformed child record is left out of the ecosystem sums
            r = checked.rows.iloc[0]
            rows.append({"run_id": run_id, "day": day, "family": fam.name, "base_model_id": parent,
                         "relation": rec.get("relation"), "model_id": r.model_id, "author": r.author,
                         "downloads_30d": r.downloads_30d, "downloads_all_time": r.downloads_all_time,
                         "likes": r.likes})
    return _frame(rows) if rows else None


class _ChunkedFetch:
    """Runs one Hub call per item on a bounded pool, each in a copy of the caller's context (so the
    request counting, pacing and time budget apply), and stores the resulting rows in chunk files as
    they come: whatever stops the run (kill, budget, Ctrl-C), what was fetched is kept and the next
    run on the same day skips it."""

    CHUNK = 200  # rows per stored chunk: what an interruption can lose at most
    FLUSH_S = 20.0

    def __init__(self, wh: Warehouse, dataset: str, day: dt.date, run_id: str, concurrency: int):
        self.wh, self.dataset, self.day, self.run_id, self.concurrency = wh, dataset, day, run_id, concurrency
        self.errors: list[str] = []
        self.failed = 0
        self._buffer: list[dict[str, Any]] = []
        self._chunk = 0
        self._flushed_at = time.monotonic()

    def _flush(self) -> None:
        if self._buffer:
            self.wh.write(self.dataset, self.day, f"{self.run_id}-{self._chunk:05d}", _frame(self._buffer))
            self._chunk += 1
            self._buffer = []
        self._flushed_at = time.monotonic()

    def run(self, fn, items: list[str], to_rows, bar=None) -> list[dict[str, Any]]:
        import concurrent.futures as cf
        import contextvars

        rows: list[dict[str, Any]] = []
        pool = cf.ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=self.dataset)
        futures = {pool.submit(contextvars.copy_context().run, fn, item): item for item in items}
        try:
            for fut in cf.as_completed(futures):
                item = futures[fut]
                try:
                    result = fut.result()
                except hubmod.BudgetExceeded as exc:
                    self.errors.append(str(exc))
                    break
                except Exception as exc:  # noqa: BLE001 - one model's failure stops nothing else
                    self.failed += 1
                    if self.failed <= 5:
                        self.errors.append(f"{item}: {hubmod.describe_error(exc)}")
                    elif self.failed == 6:
                        self.errors.append("(more models failed: see the log)")
                    log.warning("model failed", model_id=item, error=hubmod.describe_error(exc))
                    continue
                new = to_rows(item, result)
                self._buffer.extend(new)
                rows.extend(new)
                if bar is not None:
                    bar.update(1)
                if len(self._buffer) >= self.CHUNK or time.monotonic() - self._flushed_at > self.FLUSH_S:
                    self._flush()
        finally:  # keep what was fetched, whatever stopped the run
            for f in futures:
                f.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            self._flush()
        return rows


def tree(settings: Settings, *, families: list[str] | None = None, now: dt.datetime | None = None,
         hub: hubmod.Hub | None = None, show_progress: bool | None = None) -> dict[str, Any]:
    """Fetch childrenModelCount (and baseModels) of every official model of the families, resumably.

    The official models are those of each family's latest successful snapshot. Answers are stored in
    chunks as they come (an interrupted run keeps them); a later run on the same day fetches only the
    models still missing. A family's day becomes visible in `tree` once all its models are in.
    """
    job = _Job(settings, "tree", now)
    run_id, day, wh = job.run_id, job.day, job.wh
    taken_at = pd.Timestamp(job.started).tz_convert("UTC").as_unit("us")
    hub = hub or hubmod.Hub(settings.hub)
    chosen = job.families(families)
    members = wh.latest_members([f.name for f in chosen])
    done = wh.tree_complete(day)
    have = wh.tree_fetched(day)
    fetched_ids = set(have.model_id)
    todo = sorted({m for f in chosen if f.name not in done for m in members[f.name]} - fetched_ids)
    errors: list[str] = []

    with structlog.contextvars.bound_contextvars(run_id=run_id, job="tree"):
        no_snapshot = [f.name for f in chosen if not members[f.name] and f.name not in done]
        log.info("tree started", families=[f.name for f in chosen], to_fetch=len(todo), already=len(fetched_ids),
                 complete=sorted(done & {f.name for f in chosen}))
        with hub.track(settings.hub.tree_budget_s) as stats, _progress(len(todo), "tree", show_progress) as bar:
            fetch = _ChunkedFetch(wh, "tree_parts", day, run_id, settings.hub.concurrency)
            new_rows = fetch.run(hub.model_tree, todo, lambda mid, info: [_tree_row(info, run_id, taken_at, day)],
                                 bar)
            errors += fetch.errors

            parts = pd.concat([have, _frame(new_rows)], ignore_index=True) if new_rows else have
            complete, incomplete = [], []
            for fam in chosen:
                if fam.name in done:
                    complete.append(fam.name)
                    continue
                ids = members[fam.name]
                if not ids or not set(ids) <= set(parts.model_id):
                    incomplete.append(fam.name)
                    continue
                try:
                    fam_parts = parts[parts.model_id.isin(ids)]
                    eco = _ecosystem(hub, fam, fam_parts, run_id, day) if fam.ecosystem else None
                except Exception as exc:  # noqa: BLE001
                    errors.append(f"{fam.name} ecosystem: {hubmod.describe_error(exc)}")
                    incomplete.append(fam.name)
                    continue
                wh.write("ecosystem", day, f"{run_id}-{fam.name}", eco)
                # the member list goes last: it makes the family's day visible, ecosystem included
                wh.write("tree_members", day, f"{run_id}-{fam.name}",
                         pd.DataFrame({"run_id": run_id, "day": day, "family": fam.name, "model_id": ids}))
                complete.append(fam.name)
        if no_snapshot:
            errors.append(f"no snapshot yet for {', '.join(no_snapshot)}: run `tracker collect` first")
        status = "ok" if not incomplete else ("partial" if complete or new_rows else "failed")
        if fetch.failed > 5:
            errors.append(f"{fetch.failed} models failed in all")
        run = job.record(status, families_ok=len(complete), families_failed=len(incomplete), models=len(new_rows),
                         requests=stats.requests, retries=stats.retries, errors=errors)
        wh.publish(run, day, {})
        _derive_after(settings, wh)
        log.info("tree finished", status=status, models_fetched=len(new_rows), requests=stats.requests,
                 rate_limited=stats.rate_limited, quota_wait_s=round(stats.quota_wait_s, 1),
                 families_complete=complete, families_incomplete=incomplete,
                 seconds=round(time.monotonic() - job.t0, 1))
    run["rate_limited"] = stats.rate_limited
    run["quota_wait_s"] = stats.quota_wait_s
    return run


CROSSOVER_METRICS = ("downloads_30d", "downloads_week", "downloads_all_time", "likes", "derivatives", "models")
MODEL_METRICS = ("downloads_30d", "downloads_all_time", "likes")
PROJECTION_WINDOW_DAYS = 28
TOP_MODELS = 25


def _derive_after(settings: Settings, wh: Warehouse) -> None:
    """Refresh the derived trend tables after a run; their failure never fails the run (its data is
    stored), and the next run recomputes them from scratch."""
    try:
        derive(settings, wh)
    except Exception:  # noqa: BLE001
        log.exception("recomputing the trend tables failed; the run's data is stored")


def family_series(wh: Warehouse) -> pd.DataFrame:
    """family_daily with downloads_week (the trailing 7 days), the input of every trend."""
    fd = wh.family_series()
    if fd.empty:
        return fd.assign(downloads_week=pd.Series(dtype="float64"))
    return trends.trailing_week(fd)


def _model_crossovers(wh: Warehouse, as_of: pd.Timestamp) -> pd.DataFrame:
    """Crossovers among the TOP_MODELS leading models of each model metric, up to `as_of`."""
    latest = wh.snapshot_on(pd.Timestamp(as_of).date())
    picks: set[str] = set()
    for m in MODEL_METRICS:
        vals = latest.dropna(subset=[m]).drop_duplicates("model_id")
        vals = vals.assign(**{m: vals[m].astype("float64")})
        picks |= set(vals.nlargest(TOP_MODELS, m, keep="first").model_id)
    series = wh.model_series(sorted(picks)) if picks else pd.DataFrame()
    if len(series):
        series = series[series.day <= pd.Timestamp(as_of)]
    frames = [trends.model_crossovers(series, m, top=TOP_MODELS) for m in MODEL_METRICS] if len(series) else []
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["day", "metric", "model_id", "overtaken", "model_id_value", "overtaken_value",
                                     "previous_day", "model_id_previous_value", "overtaken_previous_value"])
    return pd.concat(frames, ignore_index=True)


def derive(settings: Settings, wh: Warehouse | None = None) -> dict[str, int]:
    """Recompute the derived trend tables (family_weekly, crossovers, model_crossovers, projections,
    family-level quality) from the family series and replace them. Cheap: the input is one row per
    family per day, plus the daily values of the leading models."""
    wh = wh or Warehouse(settings.warehouse)
    fd = family_series(wh)
    out: dict[str, pd.DataFrame] = {}
    if fd.empty:
        return {}
    out["family_weekly"] = trends.weekly(fd.drop(columns=["downloads_week"]))
    out["crossovers"] = trends.crossovers(fd, list(CROSSOVER_METRICS))
    as_of = fd["day"].max()
    out["projections"] = pd.concat(
        [trends.projections(fd, m, as_of=as_of, window_days=PROJECTION_WINDOW_DAYS) for m in CROSSOVER_METRICS],
        ignore_index=True)
    out["family_quality"] = trends.family_quality(fd)
    out["model_crossovers"] = _model_crossovers(wh, as_of).rename(
        columns={"model_id_value": "model_value", "model_id_previous_value": "model_previous_value"})
    for name, df in out.items():
        wh.write_derived(name, df)
    return {name: len(df) for name, df in out.items()}


def last_complete_week(now: dt.datetime) -> str:
    """The ISO week before the one `now` falls in, e.g. '2026-W34'."""
    return trends.week_label((now.astimezone(dt.UTC) - dt.timedelta(days=7)).date())


def _region_weekly(fw: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for m in ("downloads_30d", "downloads_week", "downloads_all_time", "likes", "derivatives", "models"):
        if m in fw.columns and fw[m].notna().any():
            sh = trends.shares(fw[["week", "family", "region", m]], m, by="region")
            parts.append(sh.assign(metric=m))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["week", "region", "metric", "value", "share"])


def report(settings: Settings, *, week: str | None = None, out: str | os.PathLike | None = None,
           formats: tuple[str, ...] = ("md", "html"), now: dt.datetime | None = None) -> list:
    """Write the weekly report (Markdown and/or self-contained HTML) and return the paths written."""
    from pathlib import Path

    from tracker import report as report_mod

    now = now or utcnow()
    week = week or last_complete_week(now)
    start = trends.week_start(week)
    end = start + pd.Timedelta(days=6)
    wh = Warehouse(settings.warehouse)
    wh.ensure()
    fd = family_series(wh)
    hist = fd[fd["day"] <= end].copy() if len(fd) else fd
    if "source" not in hist.columns:
        hist["source"] = "snapshot"
    notes = []
    if (hist["source"] == "backfill").any():
        notes.append("Dashed lines are backfilled: counts reconstructed from creation dates. Derivatives deleted "
                     "since are missing from them, so backfilled derivative counts are lower bounds.")
    if (hist["source"] == "import").any():
        notes.append("Some days come from imported archives of Hub listings; their sums cover only the models "
                     "those listings held (for example the top 300 by likes and by downloads).")
    families = pd.DataFrame([{"family": f.name, "label": f.label, "region": f.region, "rule": f.rule()}
                             for f in settings.families])
    fw = trends.weekly(hist.drop(columns=["downloads_week"])) if len(hist) else pd.DataFrame()
    crossovers = trends.crossovers(hist, list(CROSSOVER_METRICS)) if len(hist) else pd.DataFrame()
    projections = pd.concat([trends.projections(hist, m, as_of=end, window_days=PROJECTION_WINDOW_DAYS)
                             for m in CROSSOVER_METRICS], ignore_index=True) if len(hist) else pd.DataFrame()
    at_end = wh.snapshot_on(end.date())
    before = wh.snapshot_on((start - pd.Timedelta(days=1)).date())
    movers = pd.DataFrame(columns=["model_id", "family", "downloads_week", "downloads_30d", "likes"])
    new_models = pd.DataFrame(columns=["model_id", "family", "created_at", "downloads_30d", "likes"])
    if len(at_end):
        created = pd.to_datetime(at_end["created_at"], utc=True)
        in_week = (created >= pd.Timestamp(start, tz="UTC")) & (created < pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1))
        new_models = at_end[in_week][new_models.columns].sort_values("downloads_30d", ascending=False)
        prev = before[["family", "model_id", "downloads_all_time"]].rename(columns={"downloads_all_time": "prev"})
        m = at_end.merge(prev, on=["family", "model_id"], how="left")
        gain = m["downloads_all_time"].astype("Float64") - m["prev"].astype("Float64")
        gain = gain.where(m["prev"].notna(), m["downloads_all_time"].astype("Float64").where(in_week.to_numpy()))
        movers = m.assign(downloads_week=gain.clip(lower=0)).dropna(subset=["downloads_week"])
        movers = movers.sort_values("downloads_week", ascending=False).head(10)[
            ["model_id", "family", "downloads_week", "downloads_30d", "likes"]]
    quality = wh.query("SELECT * FROM quality WHERE day BETWEEN ? AND ? ORDER BY day, family, issue",
                       [(start - pd.Timedelta(days=7)).date(), end.date()])
    rule = (f"A projection is claimed only when the follower is behind and its lead over the last "
            f"{PROJECTION_WINDOW_DAYS} days closes on a straight-line fit with at least "
            f"{trends.PROJECTION_MIN_POINTS} daily points, a slope t-statistic of at least {trends.PROJECTION_MIN_T:g} "
            f"and R² of at least {trends.PROJECTION_MIN_R2:g}, and the crossing falls within 180 days.")
    data = report_mod.ReportData(
        week=week, week_start=start.date(), week_end=end.date(), generated_at=now, families=families,
        family_daily=hist, family_weekly=fw, region_weekly=_region_weekly(fw) if len(fw) else pd.DataFrame(),
        crossovers=crossovers, model_crossovers=_model_crossovers(wh, end), projections=projections,
        projection_rule=rule, top_movers=movers, new_models=new_models, quality=quality, notes=notes)
    paths = report_mod.render(data, Path(out or "reports"), formats)
    log.info("report written", week=week, paths=[str(p) for p in paths])
    return paths


def import_files(settings: Settings, paths: list, *, taken_at: dt.datetime | None = None,
                 refresh_trends: bool = True) -> list[dict[str, Any]]:
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
        when = taken_at or arc.taken_at
        if when is None:
            raise archive.ArchiveError(
                f"{arc.path}: the file does not say when it was taken (no \"fetched_at\" or \"date\"); "
                "pass --taken-at, e.g. --taken-at 2026-08-07T06:00:00Z")
        run_id = f"{when.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-import-{arc.digest[:12]}"
        if run_id in done:
            log.info("already imported", path=str(arc.path), run_id=run_id)
            out.append({"run_id": run_id, "job": "import", "status": "skipped", "path": str(arc.path), "models": 0})
            continue
        run = _SnapshotRun(settings, "import", when, run_id=run_id)
        with structlog.contextvars.bound_contextvars(run_id=run_id, job="import"):
            ids = [r.get("id") if isinstance(r, dict) else None for r in arc.records]
            for fam in settings.families:
                mine = [r for r, mid in zip(arc.records, ids) if isinstance(mid, str) and fam.owns(mid)]
                if mine:
                    run.add(fam, records.check(mine))
            unowned = records.check([r for r, mid in zip(arc.records, ids) if not isinstance(mid, str)])
            run.quarantine.extend({"run_id": run_id, "family": None, "model_id": mid, "reason": why, "raw": raw}
                                  for mid, why, raw in unowned.bad)
            record = run.publish(refresh_trends=False)
            log.info("imported", path=str(arc.path), taken_at=str(when), models=record["models"],
                     families=record["families_ok"], quarantined=len(run.quarantine))
        done.add(run_id)
        out.append({**record, "path": str(arc.path)})
    if refresh_trends and any(r["status"] != "skipped" for r in out):
        _derive_after(settings, wh)
    return out


BACKFILL_SINCE = dt.date(2023, 1, 1)


def backfill(settings: Settings, *, families: list[str] | None = None, since: dt.date = BACKFILL_SINCE,
             now: dt.datetime | None = None, hub: hubmod.Hub | None = None,
             show_progress: bool | None = None) -> dict[str, Any]:
    """Reconstruct each family's daily number of official models and of derivatives per relation from
    creation dates: list every official model's children through the model-tree filter (one listing
    per model, ⌈children/1000⌉ requests), then count what existed on each day since `since`.

    Paced and resumable like `tree`. Derivatives deleted since are, by nature, missing: backfilled
    counts are lower bounds, marked source = 'backfill', and never replace an observed snapshot."""
    job = _Job(settings, "backfill", now)
    run_id, day, wh = job.run_id, job.day, job.wh
    hub = hub or hubmod.Hub(settings.hub)
    chosen = job.families(families)
    members = wh.latest_members([f.name for f in chosen])
    have = wh.backfill_listed(day)
    todo = sorted({m for f in chosen for m in members[f.name]} - set(have.parent_id))

    def rows(parent: str, children: list[dict]) -> list[dict[str, Any]]:
        out = [{"run_id": run_id, "day": day, "parent_id": parent, "model_id": None, "relation": None,
                "created_at": None}]
        for c in children:
            created = pd.to_datetime(c.get("createdAt"), utc=True, errors="coerce") if c.get("createdAt") else None
            if isinstance(c.get("id"), str) and created is not None and not pd.isna(created):
                out.append({"run_id": run_id, "day": day, "parent_id": parent, "model_id": c["id"],
                            "relation": c.get("relation"), "created_at": created})
        return out

    with structlog.contextvars.bound_contextvars(run_id=run_id, job="backfill"):
        log.info("backfill started", families=[f.name for f in chosen], to_list=len(todo),
                 already=int(have.parent_id.nunique()), since=str(since))
        with hub.track(settings.hub.tree_budget_s) as stats, _progress(len(todo), "backfill", show_progress) as bar:
            fetch = _ChunkedFetch(wh, "backfill_parts", day, run_id, settings.hub.concurrency)
            new = fetch.run(lambda p: hub.list_children(p, expand=("createdAt",)), todo, rows, bar)
        listed = pd.concat([have, pd.DataFrame(new)], ignore_index=True) if new else have
        versions = wh.model_versions()
        created_of = dict(zip(versions.model_id, versions.created_at))
        series, complete, incomplete = [], [], []
        days = pd.date_range(since, day, freq="D")
        for fam in chosen:
            ids = members[fam.name]
            if not ids or not set(ids) <= set(listed.parent_id):
                incomplete.append(fam.name)
                continue
            kids = listed[listed.parent_id.isin(ids) & listed.model_id.notna()]
            ends = days + pd.Timedelta(days=1)  # counted at the end of each day
            off = pd.to_datetime(pd.Series([created_of.get(m) for m in ids]), utc=True).dropna()
            frame = {"day": days.date, "models": np.searchsorted(np.sort(off.dt.tz_localize(None).to_numpy()),
                                                                 ends.to_numpy(), side="left")}
            for rel, col in hubmod.RELATIONS.items():
                t = np.sort(pd.to_datetime(kids[kids.relation == rel].created_at, utc=True)
                            .dt.tz_localize(None).to_numpy())
                frame[col] = np.searchsorted(t, ends.to_numpy(), side="left")
            f = pd.DataFrame(frame)
            f["derivatives"] = f[list(hubmod.RELATIONS.values())].sum(axis=1)
            series.append(f.assign(run_id=run_id, computed_on=day, family=fam.name, label=fam.label,
                                   region=fam.region))
            complete.append(fam.name)
        if series:
            wh.write("backfill", day, run_id, pd.concat(series, ignore_index=True))
        no_snapshot = [f.name for f in chosen if not members[f.name]]
        errors = fetch.errors + ([f"no snapshot yet for {', '.join(no_snapshot)}: run `tracker collect` first"]
                                 if no_snapshot else [])
        status = "ok" if not incomplete else ("partial" if complete or new else "failed")
        run = job.record(status, families_ok=len(complete), families_failed=len(incomplete), models=len(todo),
                         requests=stats.requests, retries=stats.retries, errors=errors)
        wh.publish(run, day, {})
        _derive_after(settings, wh)
        log.info("backfill finished", status=status, parents_listed=len(todo) - fetch.failed, requests=stats.requests,
                 rate_limited=stats.rate_limited, families_complete=complete, families_incomplete=incomplete,
                 note="derivatives deleted since are missing from backfilled counts")
    run["rate_limited"] = stats.rate_limited
    return run


# The jobs the daemon can schedule, by the names used in config.yaml's `schedule:`.
# Each takes the settings and the (scheduled) time and returns its run record (a dict with at least
# run_id, job, status). Later jobs register themselves below.
JOBS: dict[str, Any] = {
    "collect": lambda settings, now=None: collect(settings, now=now, show_progress=False),
    "tree": lambda settings, now=None: tree(settings, now=now, show_progress=False),
    "report": lambda settings, now=None: _report_job(settings, now),
}


def _report_job(settings: Settings, now: dt.datetime | None) -> dict[str, Any]:
    """The scheduled report: last week's, into reports/ beside the warehouse; recorded in `runs`."""
    job = _Job(settings, "report", now)
    status, errors = "ok", []
    try:
        report(settings, out=settings.warehouse.parent / "reports", now=job.started)
    except Exception as exc:  # noqa: BLE001 - recorded, then re-raised for the daemon's log
        status, errors = "failed", [f"{type(exc).__name__}: {exc}"]
        raise
    finally:
        run = job.record(status, errors=errors)
        job.wh.publish(run, job.day, {})
    return run


def run(name: str, settings: Settings, now: dt.datetime | None = None) -> dict[str, Any]:
    """Run a job by name (what the daemon calls)."""
    if name not in JOBS:
        raise KeyError(f"no job named '{name}' (known: {', '.join(JOBS)})")
    return JOBS[name](settings, now=now)
