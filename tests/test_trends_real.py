"""Issue 12's findings on the real archived listings (../shared/realdata/hub-listing-2026-08), each
expected value computed here from the raw JSON, never from the tracker's output. Skips (with the
reason) when ../shared is absent."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from tracker import config, jobs
from tracker.cli import cli
from tracker.warehouse import Warehouse

pytestmark = pytest.mark.trial  # one import of eight real files (shared by every test here), a report

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
ARCHIVE = SHARED / "realdata" / "hub-listing-2026-08"


def raw(day: str) -> dict[str, dict]:
    """model id -> record of one archived day (the last record of an id wins, as in an import)."""
    return {m["id"]: m for m in json.loads((ARCHIVE / f"{day}.json").read_text())["models"]}


def owned(models: dict[str, dict], author: str) -> dict[str, dict]:
    return {k: v for k, v in models.items() if k.split("/", 1)[0] == author}


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    if not ARCHIVE.is_dir():
        pytest.skip(f"{ARCHIVE} is absent (../shared is not beside this checkout)")
    tmp = tmp_path_factory.mktemp("real")
    doc = yaml.safe_load((ROOT / "config.yaml").read_text())
    doc["warehouse"] = str(tmp / "warehouse")
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(doc))
    res = CliRunner().invoke(cli, ["import", "--config", str(path), *map(str, sorted(ARCHIVE.glob("*.json")))])
    assert res.exit_code == 0, res.output
    s = config.load(path)
    paths = jobs.report(s, week="2026-W33", out=tmp / "reports", now=dt.datetime(2026, 9, 1, tzinfo=dt.UTC))
    return s, Warehouse(s.warehouse), next(p for p in paths if p.suffix == ".md").read_text(), path


def test_stale_downloads_while_likes_refreshed(real):
    _, wh, _, _ = real
    q = wh.query("select family, issue from quality where day = '2026-08-08' and issue like 'stale%'")
    got = dict(zip(q.family, q.issue, strict=True))
    # by hand from the raw files: Qwen's models present on 08-07 and 08-08
    a, b = owned(raw("2026-08-07"), "Qwen"), owned(raw("2026-08-08"), "Qwen")
    common = a.keys() & b.keys()
    same_dl = sum(a[k]["downloads"] == b[k]["downloads"] for k in common)
    same_likes = sum(a[k]["likes"] == b[k]["likes"] for k in common)
    assert same_dl == len(common) and same_likes < 0.9 * len(common)  # the finding: downloads stood still
    assert got["qwen"] == "stale_downloads"


def test_like_for_like_change_of_a_family_whose_listing_changed(real):
    _, wh, _, _ = real
    # Qwen at the end of W32 (08-09) and W33 (the last day held, 08-14): change over the models in both
    a, b = owned(raw("2026-08-09"), "Qwen"), owned(raw("2026-08-14"), "Qwen")
    common = a.keys() & b.keys()
    same = sum(b[k]["downloads"] - a[k]["downloads"] for k in common)
    base = sum(a[k]["downloads"] for k in common)
    whole = sum(m["downloads"] for m in b.values()) - sum(m["downloads"] for m in a.values())
    fw = wh.query("select * from family_weekly where family = 'qwen' and week = '2026-W33'").iloc[0]
    assert fw.downloads_30d_wow_same == same and fw.downloads_30d_wow == whole
    assert fw.downloads_30d_wow_pct_same == pytest.approx(same / base)
    assert fw.models_entered + fw.models_new == len(b.keys() - a.keys())
    assert fw.models_left == len(a.keys() - b.keys())
    assert same != whole  # membership moved the whole-family figure


def test_membership_reasons_follow_creation_dates(real):
    _, wh, _, _ = real
    q = wh.query(
        "select model_id, issue from quality where day = '2026-08-14' and family = 'qwen' "
        "and issue in ('entered', 'new_model', 'left')"
    )
    a, b = owned(raw("2026-08-13"), "Qwen"), owned(raw("2026-08-14"), "Qwen")
    fetched = pd.Timestamp(json.loads((ARCHIVE / "2026-08-13.json").read_text())["fetched_at"]).tz_convert("UTC")
    want = {k: ("new_model" if pd.Timestamp(b[k]["createdAt"]) > fetched else "entered") for k in b.keys() - a.keys()}
    want |= dict.fromkeys(a.keys() - b.keys(), "left")
    assert dict(zip(q.model_id, q.issue, strict=True)) == want


def test_report_of_a_real_week(real):
    _, _, md, _ = real
    heads = md.split("## Headlines", 1)[1].split("###", 1)[0]
    assert " in models " not in heads  # model-count crossovers are never headlines
    assert "No model downloads were recorded" not in md
    assert "No top movers: a week's downloads come from all-time download counts" in md
    assert "Partial week: 5 of its 7 days are held" in md
    # the import and its model count, wherever a family's figure comes from it
    n_qwen = len(owned(raw("2026-08-14"), "Qwen"))
    assert re.search(
        rf"the listing of 2026-08-14 \(import run 20260814T\d+Z-import-[0-9a-f]+\): Meta Llama "
        rf"{len(owned(raw('2026-08-14'), 'meta-llama'))}, Alibaba Qwen {n_qwen},",
        md,
    )
    assert "| Alibaba Qwen † |" in md
    # crossovers found after the stale 08-13 say "on or before"
    for line in md.splitlines():
        if "passed" in line and "2026-08-14 (last behind on 2026-08-13)" in line:
            assert "on or before 2026-08-14" in line


# ---------------------------------------------------------------- the import itself


def raw_family_sums(path: Path, fam: dict) -> dict | None:
    """A family's sums in one archived file, computed here from the raw JSON with the family's rules."""
    models = {m["id"]: m for m in json.loads(path.read_text())["models"]}  # last record of an id wins
    mine = []
    for mid, m in models.items():
        author, name = mid.split("/", 1)
        if author not in fam["authors"]:
            continue
        if fam.get("search") and fam["search"].lower() not in mid.lower():
            continue
        if fam.get("include") and not re.search(fam["include"], name):
            continue
        if fam.get("exclude") and re.search(fam["exclude"], name):
            continue
        mine.append(m)
    if not mine:
        return None
    return {
        "models": len(mine),
        "downloads_30d": sum(m["downloads"] for m in mine),
        "likes": sum(m["likes"] for m in mine),
    }


def test_import_the_real_archive_as_eight_days(real):
    """The fixture's `tracker import` of the eight files (the shipped config.yaml's families): each day's
    family sums as computed here from the raw JSON; a second import of the same files changes nothing."""
    _, wh, _, path = real
    files = sorted(ARCHIVE.glob("*.json"))
    assert len(files) == 8
    doc = yaml.safe_load(path.read_text())
    fd = wh.query("select * from family_daily order by day, family")
    assert fd.day.dt.date.nunique() == 8 and set(fd.source) == {"import"}
    checked = 0
    for f in files:
        day = pd.Timestamp(json.loads(f.read_text())["date"])
        for fam in doc["families"]:
            want = raw_family_sums(f, fam)
            got = fd[(fd.day == day) & (fd.family == fam["name"])]
            if want is None:
                assert got.empty, (f.name, fam["name"])
                continue
            row = got.iloc[0]
            assert (row.models, row.downloads_30d, row.likes) == (
                want["models"],
                want["downloads_30d"],
                want["likes"],
            ), (f.name, fam["name"])
            assert pd.isna(row.downloads_all_time)  # the archive has no all-time counts: NULL, never 0
            checked += 1
    assert checked >= 8 * 4
    before = (wh.query("select count(*) n from snapshots").n[0], len(wh.query("select * from runs")))
    res = CliRunner().invoke(cli, ["import", "--config", str(path), *map(str, files)])
    assert res.exit_code == 0
    assert sum(line.startswith("skipped") and "already imported" in line for line in res.output.splitlines()) == 8
    assert (wh.query("select count(*) n from snapshots").n[0], len(wh.query("select * from runs"))) == before
