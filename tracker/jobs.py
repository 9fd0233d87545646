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


def collect(settings: Settings, *, families: list[str] | None = None, now: dt.datetime | None = None,
            hub: hubmod.Hub | None = None, show_progress: bool | None = None,
            refresh_trends: bool = True) -> dict[str, Any]:
    """Take one snapshot of every family (or the named ones) and publish it as one run.

    refresh_trends=False skips recomputing the derived trend tables (a bulk load of many days can
    call `derive` once at the end instead)."""
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
        intervals: dict[str, tuple[Any, Any]] = {}
        quality = None
        if snapshots is not None:
            keyed, id_of = wh.store_models(snapshots[["model_id", *Warehouse.ATTRS]], run_id, started, day)
            snapshots = snapshots.merge(keyed[["model_id", "model_key"]], on="model_id", how="left")
            intervals, quality = _intervals(wh, snapshots, day, started, id_of)
            snapshots = snapshots.sort_values(["family", "model_key"], ignore_index=True)
        fam_df = _family_rows(wh, snapshots, fam_rows, run_id, started, day, intervals)
        run = {
            "run_id": run_id, "job": "collect", "started_at": started, "finished_at": started + dt.timedelta(
                seconds=time.monotonic() - t0), "status": status, "families_ok": ok, "families_failed": failed,
            "models": 0 if snapshots is None else len(snapshots), "requests": requests, "retries": retries,
            "error": "; ".join(errors) or None,
        }
        if quality is not None:
            quality["run_id"] = run_id
        wh.publish(run, day, {"snapshots": snapshots, "family_snapshots": fam_df, "quality": quality,
                              "quarantine": pd.DataFrame(quarantine) if quarantine else None})
        if refresh_trends:
            _derive_after(settings, wh)
        log.info("collect finished", status=status, families_ok=ok, families_failed=failed, models=run["models"],
                 requests=requests, retries=retries, seconds=round(time.monotonic() - t0, 2))
    return run


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
    dd = trends.downloads_day(pairs)
    last = dd[dd.day == pd.Timestamp(day)]
    out = {r.family: (None if pd.isna(r.interval_downloads) else round(r.interval_downloads), int(r.interval_days))
           for r in last.itertuples()}
    q = trends.quality_flags(pairs)
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


TREE_CHUNK = 200  # model_info answers per stored chunk: what an interruption can lose at most
TREE_FLUSH_S = 20.0


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


def tree(settings: Settings, *, families: list[str] | None = None, now: dt.datetime | None = None,
         hub: hubmod.Hub | None = None, show_progress: bool | None = None) -> dict[str, Any]:
    """Fetch childrenModelCount (and baseModels) of every official model of the families, resumably.

    The official models are those of each family's latest successful snapshot. Answers are stored in
    chunks as they come (an interrupted run keeps them); a later run on the same day fetches only the
    models still missing. A family's day becomes visible in `tree` once all its models are in.
    """
    import concurrent.futures as cf
    import contextvars

    started = now or utcnow()
    t0 = time.monotonic()
    run_id = new_run_id("tree", started)
    day = started.astimezone(dt.UTC).date()
    taken_at = pd.Timestamp(started).tz_convert("UTC").as_unit("us")
    wh = Warehouse(settings.warehouse)
    wh.ensure()
    hub = hub or hubmod.Hub(settings.hub)
    chosen = [settings.family(n) for n in families] if families else list(settings.families)
    members = wh.latest_members([f.name for f in chosen])
    done = wh.tree_complete(day)
    have = wh.tree_fetched(day)
    fetched_ids = set(have.model_id)
    todo = sorted({m for f in chosen if f.name not in done for m in members[f.name]} - fetched_ids)
    errors: list[str] = []
    new_rows: list[dict[str, Any]] = []
    buffer: list[dict[str, Any]] = []
    chunk_no = 0
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal buffer, chunk_no, last_flush
        if buffer:
            wh.write("tree_parts", day, f"{run_id}-{chunk_no:05d}", _frame(buffer))
            chunk_no += 1
            buffer = []
        last_flush = time.monotonic()

    with structlog.contextvars.bound_contextvars(run_id=run_id, job="tree"):
        no_snapshot = [f.name for f in chosen if not members[f.name] and f.name not in done]
        log.info("tree started", families=[f.name for f in chosen], to_fetch=len(todo), already=len(fetched_ids),
                 complete=sorted(done & {f.name for f in chosen}))
        failed_models = 0
        with hub.track(settings.hub.tree_budget_s) as stats, _progress(len(todo), "tree", show_progress) as bar:
            pool = cf.ThreadPoolExecutor(max_workers=settings.hub.concurrency, thread_name_prefix="tree")
            futures = {pool.submit(contextvars.copy_context().run, hub.model_tree, mid): mid for mid in todo}
            try:
                for fut in cf.as_completed(futures):
                    mid = futures[fut]
                    try:
                        info = fut.result()
                    except hubmod.BudgetExceeded as exc:
                        errors.append(str(exc))
                        break
                    except Exception as exc:  # noqa: BLE001 - one model's failure stops nothing else
                        failed_models += 1
                        if failed_models <= 5:
                            errors.append(f"{mid}: {hubmod.describe_error(exc)}")
                        log.warning("model failed", model_id=mid, error=hubmod.describe_error(exc))
                        continue
                    row = _tree_row(info, run_id, taken_at, day)
                    buffer.append(row)
                    new_rows.append(row)
                    if bar is not None:
                        bar.update(1)
                    if len(buffer) >= TREE_CHUNK or time.monotonic() - last_flush > TREE_FLUSH_S:
                        flush()
            finally:  # keep what was fetched, whatever stopped the run
                for f in futures:
                    f.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
                flush()

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
        if failed_models > 5:
            errors.append(f"... {failed_models} models failed in all")
        status = "ok" if not incomplete else ("partial" if complete or new_rows else "failed")
        run = {"run_id": run_id, "job": "tree", "started_at": started,
               "finished_at": started + dt.timedelta(seconds=time.monotonic() - t0), "status": status,
               "families_ok": len(complete), "families_failed": len(incomplete), "models": len(new_rows),
               "requests": stats.requests, "retries": stats.retries, "error": "; ".join(errors) or None}
        wh.publish(run, day, {})
        _derive_after(settings, wh)
        log.info("tree finished", status=status, models_fetched=len(new_rows), requests=stats.requests,
                 rate_limited=stats.rate_limited, quota_wait_s=round(stats.quota_wait_s, 1),
                 families_complete=complete, families_incomplete=incomplete,
                 seconds=round(time.monotonic() - t0, 1))
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
    hist["source"] = "snapshot"
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
        projection_rule=rule, top_movers=movers, new_models=new_models, quality=quality, notes=[])
    paths = report_mod.render(data, Path(out or "reports"), formats)
    log.info("report written", week=week, paths=[str(p) for p in paths])
    return paths


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
    started = now or utcnow()
    t0 = time.monotonic()
    run_id = new_run_id("report", started)
    status, error = "ok", None
    try:
        report(settings, out=settings.warehouse.parent / "reports", now=started)
    except Exception as exc:  # noqa: BLE001 - recorded, then re-raised for the daemon's log
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        run = {"run_id": run_id, "job": "report", "started_at": started,
               "finished_at": started + dt.timedelta(seconds=time.monotonic() - t0), "status": status,
               "families_ok": None, "families_failed": None, "models": None, "requests": 0, "retries": 0,
               "error": error}
        Warehouse(settings.warehouse).publish(run, started.astimezone(dt.UTC).date(), {})
    return run


def run(name: str, settings: Settings, now: dt.datetime | None = None) -> dict[str, Any]:
    """Run a job by name (what the daemon calls)."""
    if name not in JOBS:
        raise KeyError(f"no job named '{name}' (known: {', '.join(JOBS)})")
    return JOBS[name](settings, now=now)
