"""Compaction: small files of complete days and closed months merged, every row visible exactly once,
under kill -9 at random moments and beside a reader in another process."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pandas as pd
import pytest

from tests.conftest import write_config
from tracker import config, jobs
from tracker.warehouse import Warehouse, files

FAMILIES = [
    {"name": "llama", "authors": ["meta-llama"], "region": "us"},
    {"name": "qwen", "authors": ["Qwen"], "region": "china"},
]
# (day, listings that day): a closed month (July) of three files, one day of it with two listings, and a
# month still open (August) with a day of two listings (merged) and one of one (left as it is): what
# each kind of merge needs, and no more (each listing is an import job: ~0.25 s of CPU)
LISTINGS = [("2026-07-30", 2), ("2026-07-31", 1), ("2026-08-01", 2), ("2026-08-02", 1)]
TODAY = dt.date(2026, 8, 8)
# what the checks compare: every public view over raw rows and every served one, whole
CHECKS = {
    "snapshots": "select * from snapshots order by all",
    "runs": "select * from runs order by all",
    "family_daily": "select * from family_daily order by all",
    "models_latest": "select * from models_latest order by all",
    "quarantine": "select * from quarantine order by all",
}


def _archives(tmp: Path) -> list[Path]:
    """The LISTINGS (a day's second listing: a second import of the day), 60 models each."""
    rng = random.Random(7)
    out = []
    for k, (day, listings) in enumerate((pd.Timestamp(d), n) for d, n in LISTINGS):
        for rep in range(listings):
            recs = [
                {
                    "id": f"{org}/m{i:03d}",
                    "downloads": 100 * i + k + rep,
                    "downloadsAllTime": 1000 * i + 50 * k,
                    "likes": rng.randint(0, 9),
                    "createdAt": "2025-01-01T00:00:00.000Z",
                    "lastModified": "2026-07-01T00:00:00.000Z",
                }
                for org in ("meta-llama", "Qwen")
                for i in range(30)
            ]
            recs.append({"downloads": 7})  # one quarantined record a listing (no id)
            p = tmp / f"{day:%Y%m%d}-{rep}.json"
            p.write_text(
                json.dumps(
                    {"date": f"{day:%Y-%m-%d}", "fetched_at": f"{day:%Y-%m-%d}T0{6 + rep}:00:00Z", "models": recs}
                )
            )
            out.append(p)
    return out


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A warehouse of 4 days in two months (6 listings), written through `tracker import` (built once)."""
    tmp = tmp_path_factory.mktemp("pristine")
    s = config.load(write_config(tmp, "http://127.0.0.1:9", FAMILIES))
    runs = jobs.import_files(s, _archives(tmp), refresh_trends=False)
    assert {r["status"] for r in runs} == {"ok"}
    return s.warehouse


def _copy(pristine: Path, tmp_path: Path) -> Warehouse:
    shutil.copytree(pristine, tmp_path / "wh")
    wh = Warehouse(tmp_path / "wh")
    wh.ensure()  # re-points the copy's views
    return wh


def _contents(wh: Warehouse) -> dict[str, pd.DataFrame]:
    """Every check through hub.duckdb's views, as a user's session reads them (one connection for all)."""
    with wh.connect() as con:
        return {name: con.sql(sql).df() for name, sql in CHECKS.items()}


def _same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in CHECKS:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False, obj=name)


def _data_files(wh: Warehouse, dataset: str) -> int:
    return len(list((wh.root / dataset).glob("*/*.parquet")))


@pytest.mark.trial  # many jobs in a row: six imports, two compactions, every answer compared
def test_compaction_merges_days_and_months_and_changes_no_answer(pristine, tmp_path):
    wh = _copy(pristine, tmp_path)
    before = _contents(wh)
    n_snap = len(before["snapshots"])
    assert n_snap == 6 * 60  # 4 days, 2 of them with a second listing; 60 models each
    raw = {d: len(files.visible(wh.root, d)) for d in ("snapshots", "runs", "models")}
    res = wh.compact(today=TODAY, grace_s=3600)
    assert res.written > 0 and not res.busy
    _same(before, _contents(wh))
    # July is closed: one month file per dataset; August: complete days with two files merged, others as they were
    after = {d: len(files.visible(wh.root, d)) for d in raw}
    july = [p for p in files.visible(wh.root, "snapshots") if p.parent.name.startswith("2026-07")]
    assert [p.parent.name for p in july] == ["2026-07"] and july[0].name.startswith("~month-")
    assert after["snapshots"] < raw["snapshots"] and after["runs"] < raw["runs"]
    # within the grace period the replaced files stay on disk (a reader may have listed them)
    assert _hidden(wh) and all((wh.root / f).exists() for f in _hidden(wh))
    # a second compaction with nothing new to merge changes nothing; past the grace period it deletes
    assert wh.compact(today=TODAY, grace_s=3600).written == 0
    res = wh.compact(today=TODAY, grace_s=0)
    assert res.deleted > 0 and not any((wh.root / f).exists() for f in _hidden(wh))
    assert _data_files(wh, "snapshots") == after["snapshots"]  # on disk: only what is visible
    _same(before, _contents(wh))
    # late history for a closed month (an older archive imported now) is merged in by the next compaction
    late = tmp_path / "late.json"
    late.write_text(
        json.dumps(
            {
                "date": "2026-07-05",
                "fetched_at": "2026-07-05T06:00:00Z",
                "models": [{"id": "Qwen/m000", "downloads": 1, "likes": 0}],
            }
        )
    )
    cfg = write_config(tmp_path, "http://127.0.0.1:9", FAMILIES)
    cfg.write_text(cfg.read_text().replace(str(tmp_path / "warehouse"), str(wh.root)))
    # (the checks read no trend table: no derive)
    assert jobs.import_files(config.load(cfg), [late], refresh_trends=False)[0]["status"] == "ok"
    with_late = _contents(wh)
    assert len(with_late["snapshots"]) == n_snap + 1
    wh.compact(today=TODAY, grace_s=0)
    wh.compact(today=TODAY, grace_s=0)
    _same(with_late, _contents(wh))
    assert [p.parent.name for p in files.visible(wh.root, "snapshots") if p.parent.name.startswith("2026-07")] == [
        "2026-07"
    ]


def _hidden(wh: Warehouse) -> set[str]:
    return files.state_sets(files.read_state(wh.root)[1])[1]


# Where a compaction is killed, in the order of its steps (compact.py's docstring), each on the warehouse
# the kill before it left, so every later compaction also starts from a killed one's leftovers:
# ("before"|"after", the first rename into a merged file / the state file), or after its first deletion
# of a replaced file. The kill after the state's rename is what makes the last one's deletions due.
KILL_POINTS = [
    ("before", "merged"),  # a merged file written under its temporary name, nothing renamed
    ("after", "merged"),  # one merged file in place, added by no state (the others not written yet)
    ("before", "state"),  # every merged file in place, the state file written but not renamed
    ("after", "state"),  # the switch made: merged files added, the replaced ones hidden (nothing deleted)
    ("after", "delete"),  # the next one deleting the hidden files: one gone, the state still names it
]


def _compact_in_child(root: str, point: tuple[str, str]) -> None:
    """The body of a forked child: a compaction that kills itself with SIGKILL at `point` (the instant
    is exact, the kill the same as one from outside)."""
    import logging

    logging.disable(logging.CRITICAL)
    when, what = point
    replace, unlink = os.replace, os.unlink

    def hit(dst) -> bool:
        dst = Path(dst)
        return dst.name.startswith(files.MERGED_MARK) if what == "merged" else dst.parent.name == files.STATE_DIR

    def replace_then_die(src, dst, *args, **kwargs):
        if hit(dst) and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        replace(src, dst, *args, **kwargs)
        if hit(dst):
            os.kill(os.getpid(), signal.SIGKILL)

    def unlink_then_die(path, *args, **kwargs):
        unlink(path, *args, **kwargs)  # a missing file raises (as unlink does), so only a real deletion kills
        if not str(path).endswith(".tmp"):
            os.kill(os.getpid(), signal.SIGKILL)

    if what == "delete":
        os.unlink = unlink_then_die
    else:
        os.replace = replace_then_die
    Warehouse(Path(root)).compact(today=TODAY, grace_s=0)
    os._exit(0)


def _merged_on_disk(wh: Warehouse) -> set[str]:
    return {p.relative_to(wh.root).as_posix() for p in wh.root.glob(f"*/*/{files.MERGED_MARK}*.parquet")}


@pytest.mark.trial  # a crash trial: kill -9 of forked compactions
def test_kill_9_at_any_moment_of_a_compaction_leaves_every_row_once(pristine, tmp_path):
    fork = multiprocessing.get_context("fork")
    wh = _copy(pristine, tmp_path)
    want = _contents(wh)
    for point in KILL_POINTS:
        proc = fork.Process(target=_compact_in_child, args=(str(wh.root), point))
        proc.start()
        proc.join(60)
        assert proc.exitcode == -signal.SIGKILL, (point, proc.exitcode)  # it got there and died there
        _same(want, _contents(Warehouse(wh.root)))
        if point == ("after", "merged"):  # a merged file no state adds is on disk, and no reader sees it
            added, hidden = _state(wh)
            assert _merged_on_disk(wh) - added - hidden
    # the next compaction finishes the work, with the leftovers of the killed ones cleaned up
    res = Warehouse(wh.root).compact(today=TODAY, grace_s=0)
    assert not res.busy  # the killed ones' lock died with them
    _same(want, _contents(Warehouse(wh.root)))
    added, hidden = _state(wh)
    assert _merged_on_disk(wh) <= added | hidden  # no merged file of a killed compaction left
    assert not hidden & {p.relative_to(wh.root).as_posix() for p in wh.root.glob("*/*/*.parquet")}  # deleted
    july = [p.parent.name for p in files.visible(wh.root, "snapshots") if p.parent.name.startswith("2026-07")]
    assert july == ["2026-07"]  # and the merges were made


def _state(wh: Warehouse) -> tuple[set[str], set[str]]:
    return files.state_sets(files.read_state(wh.root)[1])


READER = r"""
import sys, json, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)  # one session, as a notebook holds it, querying on and on
while True:
    try:
        got = [con.execute(q).fetchall()[0] for q in (
            "select count(*), sum(downloads_30d), count(distinct run_id) from snapshots",
            "select count(*) from runs", "select count(*), sum(models) from family_daily")]
    except Exception as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        continue
    print(json.dumps({"ok": [list(map(str, g)) for g in got]}), flush=True)
"""

QUERIES = (
    "select count(*), sum(downloads_30d), count(distinct run_id) from snapshots",
    "select count(*) from runs",
    "select count(*), sum(models) from family_daily",
)


def _tracker_reader(root: str, fd: int) -> None:
    """The body of a forked child (the tracker already imported: no interpreter start-up): the tracker's
    own reads, in a loop, each answer a line to `fd`."""
    import logging

    logging.disable(logging.CRITICAL)
    out = os.fdopen(fd, "w")
    wh = Warehouse(Path(root))
    while True:
        try:
            got = [wh.query(q).astype(str).values.tolist()[0] for q in QUERIES]
        except Exception as exc:  # noqa: BLE001 - any failure is the test's finding
            print(json.dumps({"error": str(exc)}), file=out, flush=True)
            continue
        print(json.dumps({"ok": got}), file=out, flush=True)


@contextlib.contextmanager
def _reader(kind: str, wh: Warehouse, tail: list[str]) -> Iterator[IO[str]]:
    """A reader in another process, its answers as lines of the stream yielded; at the end it is
    stopped and the answers not yet read go to `tail`. A user's DuckDB session is a new interpreter
    that imports only duckdb; the tracker's reads are a forked child."""
    if kind == "duckdb-session":
        proc = subprocess.Popen([sys.executable, "-c", READER, str(wh.db_path)], stdout=subprocess.PIPE, text=True)
        try:
            yield proc.stdout
        finally:
            proc.terminate()
            tail += proc.communicate(timeout=30)[0].splitlines()
        return
    r, w = os.pipe()
    child = multiprocessing.get_context("fork").Process(target=_tracker_reader, args=(str(wh.root), w))
    child.start()
    os.close(w)
    with os.fdopen(r) as stream:
        try:
            yield stream
        finally:
            child.terminate()
            child.join(30)
            tail += stream.read().splitlines()


@pytest.mark.trial  # a reader process beside three compactions
@pytest.mark.parametrize(
    "kind, grace_s",
    [("duckdb-session", 3600), ("tracker-reads", 0)],
    ids=["duckdb-session", "tracker-reads-with-deletions"],
)
def test_a_reader_in_another_process_never_fails_nor_sees_a_row_twice(pristine, tmp_path, kind, grace_s):
    """A user's DuckDB session (no lock: replaced files are kept for the grace period), and the
    tracker's own reads (which hold the read lock, so files are deleted at once around them)."""
    wh = _copy(pristine, tmp_path)
    with wh.connect() as con:
        want = [list(map(str, con.execute(q).fetchall()[0])) for q in QUERIES]
    lines: list[str] = []
    tail: list[str] = []
    written = 0
    with _reader(kind, wh, tail) as stream:
        assert "ok" in json.loads(stream.readline())
        # a day of July merged; July closed and a day of August merged; August closed: each a switch,
        # and (grace 0) each after the first, and one more, deletes what the one before replaced
        for today in ("2026-07-31", "2026-08-02", "2026-09-02", "2026-09-03"):
            res = wh.compact(today=dt.date.fromisoformat(today), grace_s=grace_s)
            assert not res.busy
            written += res.written
            lines += [stream.readline(), stream.readline()]  # the reader's queries go on beside them
    assert written >= 4 * 4  # two days, July, August: each merged in four datasets
    answers = [json.loads(line) for line in lines + tail if line.strip()]
    errors = [a["error"] for a in answers if "error" in a]
    assert not errors, errors[:3]
    assert len(answers) >= 6

    def norm(rows):
        return [[int(float(v)) for v in r] for r in rows]

    assert all(norm(a["ok"]) == norm(want) for a in answers), [a for a in answers if norm(a["ok"]) != norm(want)][:2]
    # the compactions did merge (so the reader really ran beside switches)
    assert len(files.visible(wh.root, "snapshots")) <= 3
