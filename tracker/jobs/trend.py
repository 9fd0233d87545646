"""Trend jobs: recompute the derived trend tables (`derive`) and write the weekly report (`report`).

Both run the same analysis (`analyse`) as of a day on the data up to that day: `derive` as of the
latest day held, a report for week W as of the Sunday ending W. So a report regenerated later, after
more data has arrived, says the same thing.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from typing import Any

import numpy as np
import pandas as pd

from tracker import census_read, trends
from tracker.config import Settings
from tracker.jobs.common import Job, log, utcnow
from tracker.metrics import CROSSOVER_METRICS, MODEL_METRICS
from tracker.trends.adoption import MILESTONE_SLACK, MILESTONES
from tracker.trends.common import floats
from tracker.warehouse import Warehouse

PROJECTION_WINDOW_DAYS = 28
PROJECTION_HORIZON_DAYS = 180
TOP_MODELS = 25

_ADOPTION_ROWS = """
SELECT s.day, s.family, s.model_id, s.created_at, s.downloads_30d, s.downloads_all_time, s.parameters
FROM snapshots s
JOIN {picks} f ON f.run_id = s.run_id AND f.family = s.family AND CAST(f.day AS DATE) = s.day
WHERE s.day <= $as_of AND ({spans})"""


def derive_after(settings: Settings, wh: Warehouse) -> None:
    """Refresh the derived trend tables after a run; their failure never fails the run (its data is
    stored), and the next run recomputes them from scratch."""
    try:
        derive(settings, wh)
    except Exception:  # noqa: BLE001 - trends never fail the run; logged, recomputed next run
        log.exception("recomputing the trend tables failed; the run's data is stored")


def family_series(wh: Warehouse) -> pd.DataFrame:
    """family_daily with downloads_week (the trailing 7 days), the input of every trend."""
    fd = wh.family_series()
    if fd.empty:
        return fd.assign(downloads_week=pd.Series(dtype="float64"))
    return trends.trailing_week(fd)


def model_rows(wh: Warehouse, picks: pd.DataFrame, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """The model rows (values, created_at, taken_at, parameters, derivatives) of each picked (family,
    day): the family's snapshot of that day that family_daily shows (reads only those files).
    `runs`: `family_days(wh)` if already read."""
    cols = [
        "day",
        "family",
        "model_id",
        "created_at",
        "taken_at",
        "downloads_30d",
        "downloads_all_time",
        "likes",
        "parameters",
        "derivatives",
    ]
    picks = picks[["family", "day"]].drop_duplicates().assign(day=lambda d: pd.to_datetime(d["day"]))
    if picks.empty:
        return pd.DataFrame(columns=cols)
    runs = family_days(wh) if runs is None else runs
    rows = wh.rows_of(runs.merge(picks, on=["family", "day"]))
    if rows.empty:
        return pd.DataFrame(columns=cols)
    rows = rows.assign(day=pd.to_datetime(rows["day"]))
    days = sorted({d.date() for d in picks["day"]})
    tree = wh.read(
        "SELECT day, family, model_id, derivatives FROM tree WHERE day IN (SELECT unnest($d)::DATE)", {"d": days}
    )
    tree = tree.assign(day=pd.to_datetime(tree["day"]))
    return rows.merge(tree, on=["day", "family", "model_id"], how="left")[cols]


def family_days(wh: Warehouse) -> pd.DataFrame:
    """The run shown for each family and day (family, run_id, day)."""
    return wh.read("SELECT family, run_id, day FROM _family_day").assign(day=lambda d: pd.to_datetime(d["day"]))


def adoption_rows(wh: Warehouse, as_of: pd.Timestamp, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Model rows at the ages the adoption milestones look at, up to `as_of`, of the snapshots family_daily
    shows. `runs`: `family_days(wh)` if already read (else the view is joined)."""
    age = "date_diff('day', CAST(timezone('UTC', s.created_at) AS DATE), s.day)"
    spans = " OR ".join(f"{age} BETWEEN {n} AND {n + MILESTONE_SLACK}" for n in MILESTONES)
    params = {"as_of": pd.Timestamp(as_of).date()}
    if runs is None:
        return wh.read(_ADOPTION_ROWS.format(spans=spans, picks="_family_day"), params)
    name = f"_shown_{secrets.token_hex(4)}"
    sql = _ADOPTION_ROWS.format(spans=spans, picks=name)
    with wh.cursor(sql) as con:  # the views this query names
        con.register(name, runs[["family", "run_id", "day"]])
        try:
            return con.execute(sql, params).df()
        finally:
            con.unregister(name)


def _week_ends(fd: pd.DataFrame) -> pd.DataFrame:
    d = pd.to_datetime(fd["day"])
    week = d - pd.to_timedelta(d.dt.day_of_week, unit="D")
    return fd.assign(_w=week).sort_values("day").groupby(["family", "_w"]).tail(1)[["family", "day"]]


def _consecutive_weeks(week_ends: pd.DataFrame) -> bool:
    """Has any family week ends in two consecutive ISO weeks?"""
    d = pd.to_datetime(week_ends["day"])
    week = (d - pd.to_timedelta(d.dt.day_of_week, unit="D")).to_numpy()
    fam = week_ends["family"].to_numpy()
    order = np.lexsort((week, fam))
    week, fam = week[order], fam[order]
    return bool(((fam[1:] == fam[:-1]) & (week[1:] - week[:-1] == np.timedelta64(7, "D"))).any())


def _snapshot_on(wh: Warehouse, as_of: pd.Timestamp, rows: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """`wh.snapshot_on(as_of)` (each family's last snapshot up to that day, in family, model_id order),
    taken from `rows` (the model rows of picked family-days, `runs` the shown run of each) when every
    family's last snapshot is a picked one: the same rows of the same runs, without reading them again."""
    last = wh.last_family_runs(until=pd.Timestamp(as_of).date())
    if len(rows) and len(last):
        held = rows[["family", "day"]].drop_duplicates()
        picked = set(zip(held["family"], held["day"], strict=True))
        shown = set(zip(runs["family"], runs["run_id"], runs["day"], strict=True))
        want = {f: pd.Timestamp(d) for f, d in zip(last["family"], last["day"], strict=True)}  # one run a family
        if len(want) == len(last) and all(
            (f, pd.Timestamp(d)) in picked and (f, r, pd.Timestamp(d)) in shown
            for f, r, d in zip(last["family"], last["run_id"], last["day"], strict=True)
        ):
            keep = (rows["day"] == rows["family"].map(want)).to_numpy(dtype=bool)
            return rows[keep].reset_index(drop=True)
    return wh.rows_of(last)


def _model_crossovers(
    wh: Warehouse, as_of: pd.Timestamp, quality: pd.DataFrame, latest: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Crossovers among the TOP_MODELS leading models of each model metric, ranked as of `as_of`, from
    the data up to `as_of`; and those models' daily series. `latest`: `wh.snapshot_on(as_of)` if read."""
    latest = wh.snapshot_on(pd.Timestamp(as_of).date()) if latest is None else latest
    picks: set[str] = set()
    ids = latest["model_id"].to_numpy()
    for m in MODEL_METRICS:
        vals = floats(latest[m])
        valued = ~np.isnan(vals)
        held = ids[valued]
        first = ~pd.Series(held).duplicated().to_numpy()  # a model's first row with a value
        top = np.argsort(-vals[valued][first], kind="stable")[:TOP_MODELS]  # ties: the first rows
        picks |= set(held[first][top])
    series = wh.model_series(sorted(picks)) if picks else pd.DataFrame()
    if len(series):
        series = series[pd.to_datetime(series["day"]) <= as_of]
    one_day = not len(series) or pd.to_datetime(series["day"]).nunique() < 2  # no crossing without an earlier day
    frames = [] if one_day else [trends.model_crossovers(series, m, top=TOP_MODELS, as_of=as_of) for m in MODEL_METRICS]
    frames = [f for f in frames if len(f)]
    cx = pd.concat(frames, ignore_index=True) if frames else trends.crossovers(pd.DataFrame(), [], "model_id")
    family_of = dict(zip(latest.model_id.astype(str), latest.family.astype(str), strict=False))
    return trends.annotate(cx, quality=quality, entity="model_id", family_of=family_of), series


def analyse(
    wh: Warehouse,
    fd: pd.DataFrame,
    as_of: pd.Timestamp,
    quality: pd.DataFrame,
    *,
    model_series: bool = True,
    latest: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Every derived trend table as of a day, from the family series and quality notes up to that day
    (and the leading models' daily series, unless model_series=False). `latest`: `wh.snapshot_on(as_of)`
    if already read."""
    fd = fd[fd["day"] <= as_of]
    week_ends = _week_ends(fd)
    quality = quality[pd.to_datetime(quality["day"]) <= as_of] if len(quality) else quality
    cx = trends.crossovers(fd, list(CROSSOVER_METRICS))
    picks = pd.concat(
        [
            week_ends,
            cx[["family", "day"]],
            cx[["overtaken", "previous_day"]].set_axis(["family", "day"], axis=1),
            cx[["family", "previous_day"]].set_axis(["family", "day"], axis=1),
            cx[["overtaken", "day"]].set_axis(["family", "day"], axis=1),
        ],
        ignore_index=True,
    )
    runs = family_days(wh)
    # the model rows serve like-for-like, which compares consecutive ISO weeks (without two it is empty,
    # and `weekly` ignores it), and the crossovers' holds_same_models: without either, none is read
    consecutive = _consecutive_weeks(week_ends)
    rows = model_rows(wh, picks, runs) if consecutive or len(cx) else pd.DataFrame()
    ends = (
        rows.merge(week_ends.assign(day=lambda d: pd.to_datetime(d["day"])), on=["family", "day"])
        if len(rows)
        else rows
    )
    same = trends.like_for_like(ends) if len(ends) and consecutive else None
    projections = [
        trends.projections(
            fd,
            m,
            as_of=as_of,
            window_days=PROJECTION_WINDOW_DAYS,
            horizon_days=PROJECTION_HORIZON_DAYS,
            quality=quality,
        )
        for m in CROSSOVER_METRICS
    ]
    if model_series or runs.loc[runs["day"] <= as_of, "day"].nunique() > 1:
        latest = _snapshot_on(wh, as_of, rows, runs) if latest is None else latest
        model_cx, series = _model_crossovers(wh, as_of, quality, latest)
    else:  # a model's snapshots are on days the families have: one day, no crossing (and no read)
        model_cx = trends.annotate(
            trends.crossovers(pd.DataFrame(), [], "model_id"), quality=quality, entity="model_id"
        )
        series = pd.DataFrame()
    return {
        "family_weekly": trends.weekly(fd.drop(columns=["downloads_week"], errors="ignore"), same),
        "crossovers": trends.annotate(cx, rows, quality),
        "projections": pd.concat(projections, ignore_index=True),
        "model_crossovers": model_cx,
        "model_series": series,
        "adoption": trends.adoption(adoption_rows(wh, as_of, runs), as_of=as_of),
    }


def derive(settings: Settings, wh: Warehouse | None = None) -> dict[str, int]:
    """Recompute the derived trend tables (family_weekly, crossovers, model_crossovers, projections,
    family-level quality, adoption) as of the latest day held, and replace them."""
    wh = wh or Warehouse(settings.warehouse)
    fd = family_series(wh)
    if fd.empty:
        return {}
    family_q = trends.family_quality(fd)
    wh.write_derived("family_quality", family_q)
    out = analyse(wh, fd, fd["day"].max(), wh.read("SELECT * FROM quality"), model_series=False)
    del out["model_series"]
    out["model_crossovers"] = out["model_crossovers"].rename(
        columns={"model_id_value": "model_value", "model_id_previous_value": "model_previous_value"}
    )
    for name, df in out.items():
        wh.write_derived(name, df)
    # family_quality was written before analyse (which reads it through the quality view): not again
    return {**{name: len(df) for name, df in out.items()}, "family_quality": len(family_q)}


def last_complete_week(now: dt.datetime) -> str:
    """The ISO week before the one `now` falls in, e.g. '2026-W34'."""
    return trends.week_label((now.astimezone(dt.UTC) - dt.timedelta(days=7)).date())


def _region_weekly(fw: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for m in CROSSOVER_METRICS:
        if m in fw.columns and fw[m].notna().any():
            sh = trends.shares(fw[["week", "family", "region", m]], m, by="region")
            parts.append(sh.assign(metric=m))
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["week", "region", "metric", "value", "share"])
    )


def _imports(wh: Warehouse, end: pd.Timestamp) -> pd.DataFrame:
    """The family-days up to `end` whose figures come from an imported listing: day, family, run_id, models."""
    return wh.read(
        "SELECT day, family, run_id, models FROM _family_day WHERE job = 'import' AND day <= ? ORDER BY day, family",
        [end.date()],
    )


def report(
    settings: Settings,
    *,
    week: str | None = None,
    out: str | os.PathLike | None = None,
    formats: tuple[str, ...] = ("md", "html"),
    now: dt.datetime | None = None,
) -> list:
    """Write the weekly report (Markdown and/or self-contained HTML) and return the paths written.

    Everything in it is computed as of the Sunday ending the week from the data up to that day."""
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
        notes.append(
            "Dashed lines are backfilled: counts reconstructed from creation dates. Derivatives deleted "
            "since are missing from them, so backfilled derivative counts are lower bounds."
        )
    families = pd.DataFrame(
        [{"family": f.name, "label": f.label, "region": f.region, "rule": f.rule()} for f in settings.families]
    )
    quality = wh.read("SELECT * FROM quality WHERE day <= ? ORDER BY day, family, issue", [end.date()])
    at_end = wh.snapshot_on(end.date())
    if len(hist):
        got = analyse(wh, hist, end, quality, latest=at_end)
    else:
        got = {
            k: pd.DataFrame()
            for k in ("family_weekly", "crossovers", "projections", "model_crossovers", "model_series", "adoption")
        }
    before = wh.snapshot_on((start - pd.Timedelta(days=1)).date())
    movers, new_models = trends.week_models(at_end, before, start, end)
    rule = (
        f"A projection is claimed only when the follower is behind and its lead over the last "
        f"{PROJECTION_WINDOW_DAYS} days closes on a straight-line fit with at least "
        f"{trends.PROJECTION_MIN_POINTS} daily points, a slope t-statistic of at least {trends.PROJECTION_MIN_T:g} "
        f"and R² of at least {trends.PROJECTION_MIN_R2:g}, neither series stepped when a model entered or left "
        f"the listing in those days, and the whole range of days (the fit's prediction band) closes within "
        f"{PROJECTION_HORIZON_DAYS} days. Model counts are never projected."
    )
    fw = got["family_weekly"]
    data = report_mod.ReportData(
        week=week,
        week_start=start.date(),
        week_end=end.date(),
        generated_at=now,
        families=families,
        family_daily=hist,
        family_weekly=fw,
        region_weekly=_region_weekly(fw) if len(fw) else pd.DataFrame(),
        crossovers=got["crossovers"],
        model_crossovers=got["model_crossovers"],
        projections=got["projections"],
        projection_rule=rule,
        top_movers=movers,
        new_models=new_models,
        quality=quality[pd.to_datetime(quality["day"]) >= start - pd.Timedelta(days=7)] if len(quality) else quality,
        notes=notes,
        adoption=got["adoption"],
        model_daily=got["model_series"],
        imports=_imports(wh, end),
        all_time_known=bool(at_end["downloads_all_time"].notna().any()) if len(at_end) else False,
        # the census closest after the week (a weekly report is written in the days after it), never one
        # taken after the report itself
        whole_hub=_whole_hub(wh, min(now.date(), (end + pd.Timedelta(days=7)).date())),
    )
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
    job = Job(settings, "report", now)
    status, errors, paths = "ok", [], []
    kwargs.setdefault("out", settings.warehouse.parent / "reports")
    try:
        paths = report(settings, now=job.started, **kwargs)
    except Exception as exc:
        status, errors = "failed", [f"{type(exc).__name__}: {exc}"]
        raise
    finally:
        run = job.record(status, errors=errors)
        job.wh.publish(run, job.day, {})
    return {**run, "paths": paths}
