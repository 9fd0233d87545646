"""Trend jobs: recompute the derived trend tables (`derive`) and write the weekly report (`report`)."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pandas as pd

from tracker import census_read, trends
from tracker.config import Settings
from tracker.jobs.common import _Job, log, utcnow
from tracker.warehouse import Warehouse


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


def _projections(fd: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Projected crossovers of every crossover metric, as of a day."""
    return pd.concat([trends.projections(fd, m, as_of=as_of, window_days=PROJECTION_WINDOW_DAYS)
                      for m in CROSSOVER_METRICS], ignore_index=True)


def _model_crossovers(wh: Warehouse, as_of: pd.Timestamp) -> pd.DataFrame:
    """Crossovers among the TOP_MODELS leading models of each model metric (ranked at `as_of`)."""
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
    out["projections"] = _projections(fd, as_of)
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
    projections = _projections(hist, end) if len(hist) else pd.DataFrame()
    at_end = wh.snapshot_on(end.date())
    before = wh.snapshot_on((start - pd.Timedelta(days=1)).date())
    movers, new_models = trends.week_models(at_end, before, start, end)
    # among the leading models as of the latest data (the derived table users query too)
    model_cx = wh.read("SELECT * FROM model_crossovers WHERE day <= ? ORDER BY day", [end.date()]).rename(
        columns={"model_value": "model_id_value", "model_previous_value": "model_id_previous_value"})
    quality = wh.read("SELECT * FROM quality WHERE day BETWEEN ? AND ? ORDER BY day, family, issue",
                       [(start - pd.Timedelta(days=7)).date(), end.date()])
    rule = (f"A projection is claimed only when the follower is behind and its lead over the last "
            f"{PROJECTION_WINDOW_DAYS} days closes on a straight-line fit with at least "
            f"{trends.PROJECTION_MIN_POINTS} daily points, a slope t-statistic of at least {trends.PROJECTION_MIN_T:g} "
            f"and R² of at least {trends.PROJECTION_MIN_R2:g}, and the crossing falls within 180 days.")
    data = report_mod.ReportData(
        week=week, week_start=start.date(), week_end=end.date(), generated_at=now, families=families,
        family_daily=hist, family_weekly=fw, region_weekly=_region_weekly(fw) if len(fw) else pd.DataFrame(),
        crossovers=crossovers, model_crossovers=model_cx, projections=projections,
        projection_rule=rule, top_movers=movers, new_models=new_models, quality=quality, notes=notes,
        # the census closest after the week (a weekly report is written in the days after it), never one
        # taken after the report itself
        whole_hub=_whole_hub(wh, min(now.date(), (end + pd.Timedelta(days=7)).date())))
    paths = report_mod.render(data, Path(out or "reports"), formats)
    log.info("report written", week=week, paths=[str(p) for p in paths])
    return paths


def _whole_hub(wh: Warehouse, until: dt.date):
    from tracker.report.whole_hub import WholeHub

    held = census_read.report_data(wh, until)
    return WholeHub(**held) if held is not None else None


def scheduled_report(settings: Settings, now: dt.datetime | None) -> dict[str, Any]:
    """The scheduled report: last week's, into reports/ beside the warehouse; recorded in `runs`."""
    return recorded_report(settings, now=now)


def recorded_report(settings: Settings, *, now: dt.datetime | None = None, **kwargs: Any) -> dict[str, Any]:
    """`report` as a run (scheduled or by hand), recorded in `runs`; its record carries the paths written.
    Default folder: reports/ beside the warehouse."""
    job = _Job(settings, "report", now)
    status, errors, paths = "ok", [], []
    kwargs.setdefault("out", settings.warehouse.parent / "reports")
    try:
        paths = report(settings, now=job.started, **kwargs)
    except Exception as exc:  # noqa: BLE001 - recorded, then re-raised for the daemon's log
        status, errors = "failed", [f"{type(exc).__name__}: {exc}"]
        raise
    finally:
        run = job.record(status, errors=errors)
        job.wh.publish(run, job.day, {})
    return {**run, "paths": paths}
