"""Model-tree jobs: `tree` (derivative counts per official model) and `backfill` (counts over time
from creation dates). Both are paced by the Hub's rate limit and resumable."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import structlog

from tracker import hub as hubmod
from tracker import records
from tracker.config import Family, Settings
from tracker.jobs.common import Job, announce_quota_waits, log, progress
from tracker.jobs.trend import derive_after
from tracker.metrics import RELATIONS, SNAPSHOT_METRICS
from tracker.warehouse import Warehouse


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Tree or ecosystem rows as a frame, their counts nullable integers (a count the Hub left out stays NULL)."""
    df = pd.DataFrame(rows)
    for col in (*RELATIONS, "derivatives", *SNAPSHOT_METRICS):
        if col in df:
            df[col] = df[col].astype("Int64")
    return df


def _tree_row(info: hubmod.TreeInfo, run_id: str, taken_at: dt.datetime, day: dt.date) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "taken_at": taken_at,
        "day": day,
        "model_id": info.model_id,
        "status": info.status,
        "current_id": info.current_id,
        "finetunes": info.finetunes,
        "adapters": info.adapters,
        "quantizations": info.quantizations,
        "merges": info.merges,
        "derivatives": info.derivatives,
        "base_relation": info.base_relation,
        "base_models": list(info.base_models),
    }


def _ecosystem(hub: hubmod.Hub, fam: Family, parts: pd.DataFrame, run_id: str, day: dt.date) -> pd.DataFrame | None:
    """The community children of the family's `ecosystem_top` models with the most derivatives."""
    top = (
        parts[parts.derivatives.astype("Int64").fillna(0) > 0]
        .sort_values(["derivatives", "model_id"], ascending=[False, True])
        .head(fam.ecosystem_top)
    )
    rows = []
    for parent in top.model_id:
        for rec in hub.list_children(parent):
            checked = records.check([rec])
            if checked.bad:
                continue  # a malformed child record is left out of the ecosystem sums
            r = checked.rows.iloc[0]
            rows.append(
                {
                    "run_id": run_id,
                    "day": day,
                    "family": fam.name,
                    "base_model_id": parent,
                    "relation": rec.get("relation"),
                    "model_id": r.model_id,
                    "author": r.author,
                    "downloads_30d": r.downloads_30d,
                    "downloads_all_time": r.downloads_all_time,
                    "likes": r.likes,
                }
            )
    return _frame(rows) if rows else None


class _ChunkedFetch:
    """Runs one Hub call per item on a bounded pool, each in a copy of the caller's context (so the
    request counting, pacing and time budget apply), and stores the resulting rows in chunk files as
    they come: whatever stops the run (kill, budget, Ctrl-C), what was fetched is kept and the next
    run on the same day skips it."""

    CHUNK = 200  # rows per stored chunk: what an interruption can lose at most
    FLUSH_S = 20.0
    GIVE_UP_AFTER = 10  # failures in a row with no success in between: the Hub is down, stop asking

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
        in_a_row = 0
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
                    in_a_row += 1
                    if self.failed <= 5:
                        self.errors.append(f"{item}: {hubmod.describe_error(exc)}")
                    elif self.failed == 6:
                        self.errors.append("(more models failed: see the log)")
                    log.warning("model failed", model_id=item, error=hubmod.describe_error(exc))
                    if in_a_row >= self.GIVE_UP_AFTER:
                        self.errors.append(
                            f"stopped after {in_a_row} models failed in a row "
                            f"({hubmod.describe_error(exc)}); what was fetched is kept, and the "
                            "next run resumes from there"
                        )
                        break
                    continue
                in_a_row = 0
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


def _no_snapshot(families: list[str]) -> list[str]:
    return [f"no snapshot yet for {', '.join(families)}: run `tracker collect` first"] if families else []


def _publish(
    job: Job,
    stats: hubmod.RequestStats,
    complete: list[str],
    incomplete: list[str],
    fetched: bool,
    models: int,
    errors: list[str],
    refresh_trends: bool = True,
) -> dict[str, Any]:
    """Record and publish a paced run over families (the run's record, its only file, last): `ok` when
    every family is complete, `partial` when some are or something was fetched, else `failed`."""
    status = "ok" if not incomplete else ("partial" if complete or fetched else "failed")
    run = job.record(
        status,
        families_ok=len(complete),
        families_failed=len(incomplete),
        models=models,
        requests=stats.requests,
        retries=stats.retries,
        errors=errors,
    )
    job.wh.publish(run, job.day, {})
    if refresh_trends:
        derive_after(job.settings, job.wh)
    run["rate_limited"] = stats.rate_limited
    return run


def tree(
    settings: Settings,
    *,
    families: list[str] | None = None,
    now: dt.datetime | None = None,
    hub: hubmod.Hub | None = None,
    show_progress: bool | None = None,
    refresh_trends: bool = True,
) -> dict[str, Any]:
    """Fetch childrenModelCount (and baseModels) of every official model of the families, resumably.

    The official models are those of each family's latest successful snapshot. Answers are stored in
    chunks as they come (an interrupted run keeps them); a later run on the same day fetches only the
    models still missing. A family's day becomes visible in `tree` once all its models are in.
    """
    job = Job(settings, "tree", now)
    run_id, day, wh, taken_at = job.run_id, job.day, job.wh, job.taken_at
    hub = hub or hubmod.Hub(settings.hub)
    chosen = job.families(families)
    members = wh.latest_members([f.name for f in chosen])
    done = wh.tree_complete(day)
    have = wh.tree_fetched(day)
    fetched_ids = set(have.model_id)
    todo = sorted({m for f in chosen if f.name not in done for m in members[f.name] or ()} - fetched_ids)
    errors: list[str] = []

    with structlog.contextvars.bound_contextvars(run_id=run_id, job="tree"):
        no_snapshot = [f.name for f in chosen if members[f.name] is None and f.name not in done]
        log.info(
            "tree started",
            families=[f.name for f in chosen],
            to_fetch=len(todo),
            already=len(fetched_ids),
            complete=sorted(done & {f.name for f in chosen}),
        )
        with hub.track(settings.hub.tree_budget_s) as stats, progress(len(todo), "tree", show_progress) as bar:
            announce_quota_waits(stats, bar)
            fetch = _ChunkedFetch(wh, "tree_parts", day, run_id, settings.hub.concurrency)
            new_rows = fetch.run(hub.model_tree, todo, lambda mid, info: [_tree_row(info, run_id, taken_at, day)], bar)
            errors += fetch.errors

            parts = pd.concat([have, _frame(new_rows)], ignore_index=True) if new_rows else have
            complete, incomplete = [], []
            for fam in chosen:
                if fam.name in done:
                    complete.append(fam.name)
                    continue
                ids = members[fam.name]
                if ids is None or not set(ids) <= set(parts.model_id):
                    incomplete.append(fam.name)
                    continue
                if not ids:  # the family lists no model: nothing to count, nothing owed
                    complete.append(fam.name)
                    continue
                try:
                    fam_parts = parts[parts.model_id.isin(ids)]
                    eco = _ecosystem(hub, fam, fam_parts, run_id, day) if fam.ecosystem else None
                except Exception as exc:  # noqa: BLE001 - one family's failure marks it incomplete, not the run
                    errors.append(f"{fam.name} ecosystem: {hubmod.describe_error(exc)}")
                    incomplete.append(fam.name)
                    continue
                wh.write("ecosystem", day, f"{run_id}-{fam.name}", eco)
                # the member list goes last: it makes the family's day visible, ecosystem included
                wh.write(
                    "tree_members",
                    day,
                    f"{run_id}-{fam.name}",
                    pd.DataFrame({"run_id": run_id, "day": day, "family": fam.name, "model_id": ids}),
                )
                complete.append(fam.name)
        errors += _no_snapshot(no_snapshot)
        if fetch.failed > 5:
            errors.append(f"{fetch.failed} models failed in all")
        # a replay of many days derives once at the end instead
        run = _publish(job, stats, complete, incomplete, bool(new_rows), len(new_rows), errors, refresh_trends)
        log.info(
            "tree finished",
            status=run["status"],
            models_fetched=len(new_rows),
            requests=stats.requests,
            rate_limited=stats.rate_limited,
            quota_wait_s=round(stats.quota_wait_s, 1),
            families_complete=complete,
            families_incomplete=incomplete,
            seconds=round(time.monotonic() - job.t0, 1),
        )
    run["quota_wait_s"] = stats.quota_wait_s
    return run


BACKFILL_SINCE = dt.date(2023, 1, 1)


def _created_times(values: list[Any]) -> list[pd.Timestamp | None]:
    """Each child's createdAt as a UTC time (None or NaT where it is missing or unreadable): the Hub's
    ISO 8601 strings parsed in one call, any other string on its own as before (one call per record cost
    a quarter of a backfill's CPU)."""
    if not values:
        return []
    texts = [v if isinstance(v, str) and v else None for v in values]
    parsed = list(pd.to_datetime(pd.Series(texts, dtype=object), utc=True, errors="coerce", format="ISO8601"))
    out: list[pd.Timestamp | None] = []
    for v, p in zip(values, parsed, strict=True):
        if not v:
            out.append(None)
        elif pd.isna(p):  # not ISO 8601: parsed on its own, as every value was before
            out.append(pd.to_datetime(v, utc=True, errors="coerce"))
        else:
            out.append(p)
    return out


def backfill(
    settings: Settings,
    *,
    families: list[str] | None = None,
    since: dt.date = BACKFILL_SINCE,
    now: dt.datetime | None = None,
    hub: hubmod.Hub | None = None,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Reconstruct each family's daily number of official models and of derivatives per relation from
    creation dates: list every official model's children through the model-tree filter (one listing
    per model, ⌈children/1000⌉ requests), then count what existed on each day since `since`.

    Paced and resumable like `tree`. Derivatives deleted since are, by nature, missing: backfilled
    counts are lower bounds, marked source = 'backfill', and never replace an observed snapshot.
    When a census is held, the latest one gives the official models (the families' rules on its ids)
    and their children, and no request is made."""
    job = Job(settings, "backfill", now)
    run_id, day, wh = job.run_id, job.day, job.wh
    hub = hub or hubmod.Hub(settings.hub)
    chosen = job.families(families)
    from tracker import census_read

    held = census_read.latest_tree(wh, chosen)  # a census holds every child already: no request at all
    members: Mapping[str, list[str] | None]
    if held is not None:
        members, have, census_created, census_day = held
        todo = []
    else:
        members = wh.latest_members([f.name for f in chosen])
        have = wh.backfill_listed(day)
        todo = sorted({m for f in chosen for m in members[f.name] or ()} - set(have.parent_id))

    def rows(parent: str, children: list[dict]) -> list[dict[str, Any]]:
        out = [
            {"run_id": run_id, "day": day, "parent_id": parent, "model_id": None, "relation": None, "created_at": None}
        ]
        for c, created in zip(children, _created_times([c.get("createdAt") for c in children]), strict=True):
            if isinstance(c.get("id"), str) and created is not None and not pd.isna(created):
                out.append(
                    {
                        "run_id": run_id,
                        "day": day,
                        "parent_id": parent,
                        "model_id": c["id"],
                        "relation": c.get("relation"),
                        "created_at": created,
                    }
                )
        return out

    with structlog.contextvars.bound_contextvars(run_id=run_id, job="backfill"):
        log.info(
            "backfill started",
            families=[f.name for f in chosen],
            to_list=len(todo),
            already=int(have.parent_id.nunique()),
            since=str(since),
            source=f"census of {census_day}" if held is not None else "model-tree listings",
        )
        with hub.track(settings.hub.tree_budget_s) as stats, progress(len(todo), "backfill", show_progress) as bar:
            announce_quota_waits(stats, bar)
            fetch = _ChunkedFetch(wh, "backfill_parts", day, run_id, settings.hub.concurrency)
            new = fetch.run(lambda p: hub.list_children(p, expand=("createdAt",)), todo, rows, bar)
        listed = pd.concat([have, pd.DataFrame(new)], ignore_index=True) if new else have
        if held is not None:
            created_of = census_created
        else:
            versions = wh.model_versions()
            created_of = dict(zip(versions.model_id, versions.created_at, strict=True))
        series, complete, incomplete = [], [], []
        days = pd.date_range(since, day, freq="D")
        for fam in chosen:
            ids = members[fam.name]
            if ids is None or not set(ids) <= set(listed.parent_id):
                incomplete.append(fam.name)
                continue
            kids = listed[listed.parent_id.isin(ids) & listed.model_id.notna()]
            ends = days + pd.Timedelta(days=1)  # counted at the end of each day
            off = pd.to_datetime(pd.Series([created_of.get(m) for m in ids]), utc=True).dropna()
            frame = {
                "day": days.date,
                "models": np.searchsorted(np.sort(off.dt.tz_localize(None).to_numpy()), ends.to_numpy(), side="left"),
            }
            for rel, col in hubmod.RELATIONS.items():
                t = np.sort(
                    pd.to_datetime(kids[kids.relation == rel].created_at, utc=True).dt.tz_localize(None).to_numpy()
                )
                frame[col] = np.searchsorted(t, ends.to_numpy(), side="left")
            f = pd.DataFrame(frame)
            f["derivatives"] = f[list(hubmod.RELATIONS.values())].sum(axis=1)
            series.append(f.assign(run_id=run_id, computed_on=day, family=fam.name, label=fam.label, region=fam.region))
            complete.append(fam.name)
        if series:
            wh.write("backfill", day, run_id, pd.concat(series, ignore_index=True))
        errors = fetch.errors + _no_snapshot([f.name for f in chosen if members[f.name] is None])
        run = _publish(job, stats, complete, incomplete, bool(new), len(todo), errors)
        log.info(
            "backfill finished",
            status=run["status"],
            parents_listed=len(todo) - fetch.failed,
            requests=stats.requests,
            rate_limited=stats.rate_limited,
            families_complete=complete,
            families_incomplete=incomplete,
            note="derivatives deleted since are missing from backfilled counts",
        )
    return run
