"""Read archived Hub listings (for `tracker import`): what was listed, and when.

Accepted layouts:
- a JSON array of Hub model records (`[{"id": ..., "downloads": ...}, ...]`);
- JSON lines, one record per line;
- the git-scraping snapshot files: `{"date": "2026-08-07", "fetched_at": "...", "models": [...]}`;
- Parquet files with Hub field names (the layout of the public daily full-Hub dumps); timestamp
  columns are turned back into the Hub's ISO strings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ArchiveError(Exception):
    """A file that cannot be imported; the message names it and says what to do."""


@dataclass
class Archive:
    path: Path
    records: list[Any]
    taken_at: dt.datetime | None  # from the file (fetched_at, date), None when it does not say
    digest: str  # sha256 of the file's bytes: importing the same file twice is recognised


def _ts(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    try:
        t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _hub_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        v = v if v.tzinfo else v.replace(tzinfo=dt.UTC)
        return v.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{v.microsecond // 1000:03d}Z"
    return v


def read(path: str | Path) -> Archive:
    p = Path(path)
    if not p.is_file():
        raise ArchiveError(f"{p}: no such file")
    data = p.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if p.suffix.lower() == ".parquet" or data[:4] == b"PAR1":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(p)
        except Exception as exc:  # noqa: BLE001
            raise ArchiveError(f"{p}: not a readable Parquet file ({exc})") from None
        rows = [{k: _hub_value(v) for k, v in r.items()} for r in table.to_pylist()]
        return Archive(p, rows, None, digest)
    text = data.decode("utf-8", errors="replace").strip()
    try:
        doc = json.loads(text) if text else []
    except json.JSONDecodeError:
        try:
            doc = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise ArchiveError(f"{p}: neither JSON nor JSON lines (line {exc.lineno}: {exc.msg})") from None
    if isinstance(doc, dict):
        models = doc.get("models")
        if not isinstance(models, list):
            raise ArchiveError(
                f'{p}: a JSON object must hold the listing under "models" '
                '(as {"date", "fetched_at", "models": [...]})'
            )
        when = _ts(doc.get("fetched_at")) or _ts(doc.get("date"))
        return Archive(p, models, when, digest)
    if isinstance(doc, list):
        return Archive(p, doc, None, digest)
    raise ArchiveError(f'{p}: expected a list of model records or an object with "models"')
