"""`tracker census` (one listing of the whole Hub) and the import of whole-Hub dumps (hub-stats layout).

The census lists every model once, sorted by creation time (an immutable key, so pages do not shift
while it runs), with the fields the model tree and the whole-Hub views need: ⌈N/1000⌉ requests,
paced by the RateLimit headers like `tree` (the same client factory and pacer, hub.track budget).
Every few pages the rows go to a staging chunk with the URL of the next page (census_store.Staging):
memory stays bounded, and a census stopped part way (kill, budget, Hub down) is resumed by the next
census of the same day from its last chunk. Only when the listing is complete is the census day
built and its run record written, last: a killed or failed census leaves nothing visible.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from pathlib import Path
from typing import Any

import structlog

from tracker import census_build, census_store
from tracker.config import Settings
from tracker.jobs.common import Job, log, progress

EXPAND = (
    "downloads",
    "downloadsAllTime",
    "likes",
    "createdAt",
    "tags",
    "pipeline_tag",
    "library_name",
    "safetensors",
    "gated",
)
# the whole Hub is about 2 million models; a looping listing is caught by the repeated page/cursor checks
CENSUS_CAP = 100_000_000
CHUNK_PAGES = 25  # pages per staging chunk: what an interruption can cost in requests at most


def _prefetched(pages, depth: int = 2, limit: int | None = None):
    """Iterate `pages` with the next request already on its way: a thread (in a copy of the caller's
    context, so request counting, pacing and the time budget apply) fetches and parses while the
    caller stages the previous page. Requests stay one at a time, in order, and no more than `limit`
    pages are fetched. Its errors are re-raised here; closing the generator stops the thread after
    its current request."""
    import contextvars
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def fetch():
        try:
            for k, item in enumerate(pages, start=1):
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
                if limit is not None and k >= limit:
                    break
            q.put(end)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            q.put(exc)

    t = threading.Thread(target=contextvars.copy_context().run, args=(fetch,), name="census-pages", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        t.join(timeout=60)


def _publish(
    job: Job,
    settings: Settings,
    staging: list[census_store.Staging],
    source: str,
    *,
    requests: int,
    retries: int,
    errors: list[str],
    quarantine: list,
) -> dict[str, Any]:
    import pandas as pd

    wh = job.wh
    stats = census_build.finish(wh, staging, settings.families, job.run_id, job.day, source)
    run = job.record(
        "ok",
        families_ok=len(settings.families),
        families_failed=0,
        models=stats["models"],
        requests=requests,
        retries=retries,
        errors=errors,
    )
    q = (
        pd.DataFrame(
            [
                {"run_id": job.run_id, "family": None, "model_id": mid, "reason": why, "raw": raw}
                for mid, why, raw in quarantine
            ]
        )
        if quarantine
        else None
    )
    wh.publish(run, job.day, {"quarantine": q})  # the run record last: the census day becomes visible
    for s in staging:
        s.remove()
    return {**run, **stats}


def census(
    settings: Settings,
    *,
    now: dt.datetime | None = None,
    hub=None,
    show_progress: bool | None = None,
    max_pages: int | None = None,
) -> dict[str, Any]:
    """List the whole Hub once and store it as the census of the day (see the module docstring).

    `max_pages` stops the listing after that many pages of this run (tests, trials): the run is then
    `partial` and nothing is visible; the next run of the day resumes."""
    from tracker import hub as hubmod

    job = Job(settings, "census", now)
    hub = hub or hubmod.Hub(settings.hub)
    staging = census_store.Staging(job.wh, job.day, "listing")
    with staging.lock():  # one census of a day at a time
        staging.drop_other_days()
        chunk, resume_url, done, staged = staging.resume_point()
        errors: list[str] = []
        bad: list = []
        params = {"sort": "createdAt", "limit": settings.hub.page_size, "expand": list(EXPAND)}
        pages = 0
        with structlog.contextvars.bound_contextvars(run_id=job.run_id, job="census"):
            log.info(
                "census started",
                endpoint=hub.endpoint,
                day=str(job.day),
                resumed_chunks=chunk,
                staged=staged,
                listing_done=done,
            )
            with hub.track(settings.hub.tree_budget_s) as stats, progress(None, "census", show_progress) as bar:
                cols = census_store.new_columns()
                in_chunk = 0
                url = resume_url
                try:
                    if not done:
                        for recs, url in _prefetched(
                            hub.list_pages(params, resume_url, cap=CENSUS_CAP), limit=max_pages
                        ):
                            pages += 1
                            n = census_store.stage(recs if isinstance(recs, list) else [recs], cols, bad)
                            in_chunk += 1
                            if bar is not None:
                                bar.update(n)
                            if url is None or in_chunk >= CHUNK_PAGES:
                                staging.write(chunk, cols, url, url is None)
                                chunk, in_chunk, cols = chunk + 1, 0, census_store.new_columns()
                            if url is not None and max_pages is not None and pages >= max_pages:
                                errors.append(f"stopped after {pages} pages (max_pages); the next census today resumes")
                                break
                        else:
                            done = True
                except Exception as exc:  # noqa: BLE001 - recorded; what was staged is kept for the next run
                    errors.append(
                        f"the listing failed after {pages} pages of this run: {hubmod.describe_error(exc)}; "
                        "the pages fetched so far are kept and the next census today resumes after them"
                    )
                    log.error("census listing failed", error=hubmod.describe_error(exc), pages=pages)
                finally:  # pages listed since the last chunk are staged too (Ctrl-C, SIGTERM, errors)
                    if in_chunk:
                        staging.write(chunk, cols, url, False)
            if not done:
                status = "partial" if pages or chunk else "failed"
                log.warning("census incomplete", status=status, pages=pages, requests=stats.requests)
                return _unfinished(job, settings, status, stats, errors, pages)
            if len(bad) > 5:
                errors.append(f"{len(bad)} malformed records quarantined")
            listing_s = time.monotonic() - job.t0
            try:
                run = _publish(
                    job,
                    settings,
                    [staging],
                    "listing",
                    requests=stats.requests,
                    retries=stats.retries,
                    errors=errors,
                    quarantine=bad,
                )
            except Exception as exc:  # noqa: BLE001 - the listing is kept: the next census today only rebuilds
                errors.append(
                    f"building the census day failed ({type(exc).__name__}: {exc}); the listing is kept "
                    "and the next `tracker census` today builds it again without listing"
                )
                log.exception("census build failed")
                return _unfinished(job, settings, "failed", stats, errors, pages)
            log.info(
                "census finished",
                models=run["models"],
                edges=run["edges"],
                cycles=run["cycles"],
                dangling=run["dangling_parents"],
                requests=stats.requests,
                rate_limited=stats.rate_limited,
                quota_wait_s=round(stats.quota_wait_s, 1),
                listing_s=round(listing_s, 1),
                seconds=round(time.monotonic() - job.t0, 1),
            )
        return {
            **run,
            "rate_limited": stats.rate_limited,
            "quota_wait_s": stats.quota_wait_s,
            "pages": pages,
            "listing_s": listing_s,
            "build_s": time.monotonic() - job.t0 - listing_s,
        }


# ---------------------------------------------------------------------------- whole-Hub dumps

DUMP_COLUMNS = ("id", "createdAt", "downloads", "downloadsAllTime", "likes", "tags")


class DumpError(Exception):
    """A dump file that cannot be imported as a census; the message says why and what to do."""


def _unfinished(job: Job, settings: Settings, status: str, stats, errors: list[str], pages: int) -> dict:
    """Record a census that listed or built nothing whole (a `partial` or `failed` run, no data files)."""
    run = job.record(
        status,
        families_ok=0,
        families_failed=len(settings.families),
        models=0,
        requests=stats.requests,
        retries=stats.retries,
        errors=errors,
    )
    job.wh.publish(run, job.day, {})
    return {**run, "rate_limited": stats.rate_limited, "quota_wait_s": stats.quota_wait_s, "pages": pages}


def is_dump(path: str | Path) -> bool:
    """A Parquet file in the hub-stats models.parquet layout (id, tags, createdAt, ... and baseModels
    or safetensors): a whole-Hub dump, imported as a census."""
    import pyarrow.parquet as pq

    p = Path(path)
    try:
        with open(p, "rb") as fh:
            if fh.read(4) != b"PAR1":
                return False
        names = set(pq.read_schema(p).names)
    except Exception:  # noqa: BLE001 - any unreadable file is simply not a dump
        return False
    return set(DUMP_COLUMNS) <= names and bool({"baseModels", "safetensors"} & names)


def _dump_date(path: Path, meta: dict) -> dt.datetime | None:
    for key in (b"taken_at", b"fetched_at", b"date"):
        v = meta.get(key)
        if v:
            try:
                t = dt.datetime.fromisoformat(v.decode().replace("Z", "+00:00"))
                return t if t.tzinfo else t.replace(tzinfo=dt.UTC)
            except ValueError:
                pass
    m = re.search(r"(\d{4}-\d{2}-\d{2})", path.name)
    if m:
        return dt.datetime.fromisoformat(m.group(1)).replace(tzinfo=dt.UTC)
    return None


def _hub_time(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        v = v if v.tzinfo else v.replace(tzinfo=dt.UTC)
        return v.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}Z"
    return str(v)


def import_dump(
    settings: Settings, path: str | Path, *, taken_at: dt.datetime | None = None, batch_rows: int = 50_000
) -> dict[str, Any]:
    """Import a whole-Hub dump (hub-stats models.parquet) as the census of its date, read in batches."""
    import pyarrow.parquet as pq

    p = Path(path)
    pf = pq.ParquetFile(p)
    meta = pf.schema_arrow.metadata or {}
    when = taken_at or _dump_date(p, meta)
    if when is None:
        raise DumpError(
            f"{p}: the dump does not say when it was taken (no taken_at/date in its metadata, no "
            "YYYY-MM-DD in its name); pass --taken-at, e.g. --taken-at 2026-08-07T06:00:00Z"
        )
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    run_id = f"{when.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-import-{h.hexdigest()[:12]}"
    job = Job(settings, "import", when, run_id=run_id)
    if run_id in job.wh.imported_runs():
        return {"run_id": run_id, "job": "import", "status": "skipped", "path": str(p), "models": 0}
    staging = census_store.Staging(job.wh, job.day, f"dump-{h.hexdigest()[:12]}")
    staging.remove()  # an interrupted import starts over: reading a file costs no requests
    names = set(pf.schema_arrow.names)
    want = [
        c
        for c in (
            "id",
            "createdAt",
            "downloads",
            "downloadsAllTime",
            "likes",
            "tags",
            "pipeline_tag",
            "library_name",
            "gated",
            "safetensors",
            "baseModels",
        )
        if c in names
    ]
    bad: list = []
    chunk = 0
    with structlog.contextvars.bound_contextvars(run_id=run_id, job="import"):
        for batch in pf.iter_batches(batch_size=batch_rows, columns=want):
            recs = batch.to_pylist()
            for r in recs:
                r["createdAt"] = _hub_time(r.get("createdAt"))
                if isinstance(r.get("gated"), str) and r["gated"] in ("false", "False"):
                    r["gated"] = False
            cols = census_store.new_columns()
            census_store.stage(recs, cols, bad)
            staging.write(chunk, cols, None, False)
            chunk += 1
        run = _publish(
            job,
            settings,
            [staging],
            "import",
            requests=0,
            retries=0,
            errors=[f"{len(bad)} malformed records quarantined"] if bad else [],
            quarantine=bad,
        )
        log.info("dump imported", path=str(p), taken_at=str(when), models=run["models"], edges=run["edges"])
    return {**run, "path": str(p), "families_ok": run["families_ok"]}
