"""The daemon's export after a job (config.yaml's `export:`): the recent days that changed, into export.out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tracker.config import Settings
from tracker.export import ExportError, ViewExport, export
from tracker.jobs.common import log, utcnow
from tracker.warehouse import Warehouse, WarehouseError


def export_after(settings: Settings, record: dict[str, Any] | None, now: dt.datetime | None = None) -> list[ViewExport]:
    """After a collect or tree run that stored data: export the days from `export.days` before the
    job's day on that changed. A failed export is logged and changes nothing of the run (its data are
    stored; the next export, by the daemon or by hand, writes what this one did not)."""
    conf = settings.export
    if conf is None or not record or record.get("status") not in ("ok", "partial"):
        return []
    day = (record.get("started_at") or now or utcnow()).astimezone(dt.UTC).date()
    since = day - dt.timedelta(days=conf.days - 1)
    try:
        results = export(Warehouse(settings.warehouse), conf.out, conf.format, since=since)
    except (ExportError, WarehouseError, OSError) as exc:
        log.error(
            "export failed; the run's data are stored and the next export writes them. "
            f"Check the folder, then run `tracker export --since {since}` to catch up",
            out=str(conf.out),
            error=str(exc),
        )
        return []
    for r in results:
        log.info(
            "exported",
            view=r.view,
            new=len(r.new),
            changed=len(r.changed),
            unchanged=r.unchanged,
            removed=len(r.removed),
            rows=r.rows,
            folder=str(r.folder),
            since=str(since),
        )
    return results
