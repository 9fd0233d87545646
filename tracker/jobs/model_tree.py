"""The `tree` job: derivative counts per official model (fine-tunes, adapters, quantizations, merges)
and each family's community ecosystem, from model_info answers; paced by the Hub's rate limit and
resumable (tracker.jobs.paced)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pandas as pd
import structlog

from tracker import hub as hubmod
from tracker import records
from tracker.config import Family, Settings
from tracker.jobs.common import Job, announce_quota_waits, log, progress
from tracker.jobs.paced import ChunkedFetch, count_frame, no_snapshot, publish_paced


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
    return count_frame(rows) if rows else None


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
        without_snapshot = [f.name for f in chosen if members[f.name] is None and f.name not in done]
        log.info(
            "tree started",
            families=[f.name for f in chosen],
            to_fetch=len(todo),
            already=len(fetched_ids),
            complete=sorted(done & {f.name for f in chosen}),
        )
        with hub.track(settings.hub.tree_budget_s) as stats, progress(len(todo), "tree", show_progress) as bar:
            announce_quota_waits(stats, bar)
            fetch = ChunkedFetch(wh, "tree_parts", day, run_id, settings.hub.concurrency)
            new_rows = fetch.run(hub.model_tree, todo, lambda mid, info: [_tree_row(info, run_id, taken_at, day)], bar)
            errors += fetch.errors

            parts = pd.concat([have, count_frame(new_rows)], ignore_index=True) if new_rows else have
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
        errors += no_snapshot(without_snapshot)
        if fetch.failed > 5:
            errors.append(f"{fetch.failed} models failed in all")
        # a replay of many days derives once at the end instead
        run = publish_paced(job, stats, complete, incomplete, bool(new_rows), len(new_rows), errors, refresh_trends)
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
