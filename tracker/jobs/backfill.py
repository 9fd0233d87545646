"""The `backfill` job: each family's derivative counts over time, reconstructed from the creation dates
of its official models' children (lower bounds: deleted children are missing); paced and resumable
(tracker.jobs.paced)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import structlog

from tracker import hub as hubmod
from tracker.config import Settings
from tracker.jobs.common import Job, announce_quota_waits, log, progress
from tracker.jobs.paced import ChunkedFetch, no_snapshot, publish_paced

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
            fetch = ChunkedFetch(wh, "backfill_parts", day, run_id, settings.hub.concurrency)
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
        errors = fetch.errors + no_snapshot([f.name for f in chosen if members[f.name] is None])
        run = publish_paced(job, stats, complete, incomplete, bool(new), len(todo), errors)
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
