"""What the paced, resumable model-tree jobs (`tree`, `backfill`) share: the rows of their counts, the
fetch that stores what it got in chunks as it goes, and the record of their runs."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pandas as pd

from tracker import hub as hubmod
from tracker.jobs.common import Job, log
from tracker.jobs.trend import derive_after
from tracker.metrics import RELATIONS, SNAPSHOT_METRICS
from tracker.warehouse import Warehouse


def count_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Tree or ecosystem rows as a frame, their counts nullable integers (a count the Hub left out stays NULL)."""
    df = pd.DataFrame(rows)
    for col in (*RELATIONS, "derivatives", *SNAPSHOT_METRICS):
        if col in df:
            df[col] = df[col].astype("Int64")
    return df


class ChunkedFetch:
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
            self.wh.write(self.dataset, self.day, f"{self.run_id}-{self._chunk:05d}", count_frame(self._buffer))
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


def no_snapshot(families: list[str]) -> list[str]:
    return [f"no snapshot yet for {', '.join(families)}: run `tracker collect` first"] if families else []


def publish_paced(
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
