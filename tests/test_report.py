"""The weekly report: hand-built inputs, expected sentences and table cells worked out by hand."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import functools
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tracker import trends
from tracker.report import ReportData, family_colors, render
from tracker.report.common import Chart

DAY0 = pd.Timestamp("2026-07-27")  # Monday of 2026-W31; day i = DAY0 + i, i = 0..27 ends Sunday 2026-08-23
RULES = {
    "llama": ("Meta Llama", "us", "models by meta-llama"),
    "qwen": ("Alibaba Qwen", "china", "models by Qwen"),
    "mistral": ("Mistral AI", "eu", "models by mistralai whose id contains 'mistral'"),
}


def daily() -> pd.DataFrame:
    """Three families over four ISO weeks (W31-W34).

    30-day downloads: llama 31.5M - 0.1M*i, qwen 9.0M + 1.0M*i, mistral 5.0M + 40k*i, so
    qwen (29.0M) is behind llama (29.5M) on 2026-08-16 (i=20) and ahead on 2026-08-17 (i=21):
    30.0M vs 29.4M. Mistral has no rows on i=10..12 (a gap) and NA on i=25; it never has tree
    data. Week W31 (i<7) is backfilled. downloads_day: 1.0M, 2.0M, 0.2M (mistral NA on i=25).
    """
    rows = []
    for i in range(28):
        day = DAY0 + pd.Timedelta(days=i)
        src = "backfill" if i < 7 else "snapshot"
        tree = i >= 14
        for fam, d30, dd, likes, rel in (
            ("llama", 31_500_000 - 100_000 * i, 1_000_000, 5_000 + 10 * i, (4000, 2000, 3000, 500)),
            ("qwen", 9_000_000 + 1_000_000 * i, 2_000_000, 3_000 + 20 * i, (9000, 5000, 8000, 1500)),
            ("mistral", 5_000_000 + 40_000 * i, 200_000, 1_000 + 5 * i, None),
        ):
            if fam == "mistral" and 10 <= i <= 12:
                continue
            na = fam == "mistral" and i == 25
            label, region, _ = RULES[fam]
            fin, ada, qua, mer = rel if (rel and tree) else (None,) * 4
            rows.append({
                "day": day, "family": fam, "label": label, "region": region,
                "models": {"llama": 50, "qwen": 120 + i, "mistral": 30}[fam],
                "downloads_30d": None if na else d30,
                "downloads_all_time": {"llama": 2_000_000_000, "qwen": 900_000_000, "mistral": 100_000_000}[fam]
                + dd * i,
                "likes": likes,
                "derivatives": None if fin is None else fin + ada + qua + mer,
                "finetunes": fin, "adapters": ada, "quantizations": qua, "merges": mer,
                "downloads_day": None if (na or i == 0) else float(dd),
                "source": src,
            })  # fmt: skip
    df = pd.DataFrame(rows)
    for c in ("models", "downloads_30d", "downloads_all_time", "likes", "derivatives",
              "finetunes", "adapters", "quantizations", "merges"):  # fmt: skip
        df[c] = df[c].astype("Int64")
    df["downloads_day"] = df["downloads_day"].astype("Float64")
    df["day"] = df["day"].astype("datetime64[us]")
    return df


def region_weekly(fw: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for m in ("downloads_30d", "downloads_week", "likes", "models"):
        s = trends.shares(fw[["week", "region", m]], m, by="region")
        parts.append(s.assign(metric=m))
    return pd.concat(parts, ignore_index=True)[["week", "region", "metric", "value", "share"]]


def build(week: str = "2026-W34", fd: pd.DataFrame | None = None) -> ReportData:
    """The report's inputs for `week` from `fd` (default: daily()); a fresh copy each call (tests change
    them), the default one built once."""
    if week == "2026-W34" and fd is None:
        return copy.deepcopy(_default_build())
    return _build(week, daily() if fd is None else fd)


@functools.cache
def _default_build() -> ReportData:
    return _build("2026-W34", daily())


def _build(week: str, fd: pd.DataFrame) -> ReportData:
    # like for like in W34, by hand: qwen's 7 new models brought 2.0M of its +7.0M 30-day downloads
    # (the other 5.0M over its 127 models of 2026-08-16, which had 28.0M then: +17.9%); llama and
    # mistral kept their models, so their like-for-like change is the whole change
    same = pd.DataFrame(
        {
            "family": ["qwen", "llama", "mistral"],
            "week_start": pd.Timestamp("2026-08-17"),
            "downloads_30d_wow_same": [5_000_000, -700_000, 280_000],
            "downloads_30d_base_same": [28_000_000, 29_500_000, 5_800_000],
            "models_new": [7, 0, 0],
            "models_entered": [0, 0, 0],
            "models_left": [0, 0, 0],
        }
    )
    fw = trends.weekly(fd.drop(columns=["source"]), same[same.family.isin(set(fd.family))])
    start = trends.week_start(week).date()
    metrics = [m for m in trends.METRICS if m in fd.columns]
    cx = trends.crossovers(fd, metrics)
    fams = pd.DataFrame(
        [{"family": f, "label": lab, "region": reg, "rule": rule} for f, (lab, reg, rule) in RULES.items()]
    )
    return ReportData(
        week=week,
        week_start=start,
        week_end=start + dt.timedelta(days=6),
        generated_at=dt.datetime(2026, 8, 24, 8, 0, tzinfo=dt.UTC),
        families=fams,
        family_daily=fd,
        family_weekly=fw,
        region_weekly=region_weekly(fw),
        crossovers=cx,
        model_crossovers=pd.DataFrame(
            {
                "day": [pd.Timestamp("2026-08-19"), pd.Timestamp("2026-08-03")],
                "metric": ["downloads_30d", "downloads_30d"],
                "model_id": ["Qwen/Qwen3-8B", "Qwen/Qwen2.5-7B"],
                "overtaken": ["meta-llama/Llama-3.1-8B", "mistralai/Mistral-7B-v0.1"],
                "model_id_value": [12_000_000.0, 5_000_000.0],
                "overtaken_value": [11_900_000.0, 4_900_000.0],
            }
        ),
        projections=pd.DataFrame(
            {
                "as_of": [pd.Timestamp("2026-08-23")],
                "metric": ["likes"],
                "family": ["qwen"],
                "overtaken": ["llama"],
                "projected_from": [pd.Timestamp("2026-11-20")],
                "projected_to": [pd.Timestamp("2026-12-10")],
                "projected_day": [pd.Timestamp("2026-12-01")],
                "window_days": [28],
                "first_day": [pd.Timestamp("2026-08-08")],
                "last_day": [pd.Timestamp("2026-08-23")],
                "n_points": [16],
            }
        ),
        projection_rule=("A projection is claimed only when the gap's 28-day linear trend has t >= 5 and R^2 >= 0.6."),
        top_movers=pd.DataFrame(
            {
                "model_id": ["Qwen/Qwen3-8B", "meta-llama/Llama-3.1-8B"],
                "family": ["qwen", "llama"],
                "downloads_week": [3_100_000, 900_000],
                "downloads_30d": [12_000_000, 11_900_000],
                "likes": [812, 4_020],
            }
        ),
        new_models=pd.DataFrame(
            {
                "model_id": ["Qwen/Qwen3-Coder-Tiny"],
                "family": ["qwen"],
                "created_at": [pd.Timestamp("2026-08-18T09:30Z")],
                "downloads_30d": [45_600],
                "likes": [12],
            }
        ),
        quality=pd.DataFrame(
            {
                "day": pd.to_datetime(["2026-08-19", "2026-08-20", "2026-08-21"]),
                "family": ["mistral", "mistral", "qwen"],
                "model_id": pd.Series([None, None, "Qwen/Old"], dtype="str"),
                "issue": ["missing_day", "stale", "left"],
                "detail": [
                    "no snapshot between 2026-08-18 and 2026-08-20",
                    "likes unchanged since 2026-08-19",
                    "present on 2026-08-20, absent now",
                ],
            }
        ),
        notes=["Backfilled series miss deleted derivatives"],
        adoption=pd.DataFrame(
            {
                "model_id": ["Qwen/Qwen3-8B", "meta-llama/Llama-4-Old"],
                "family": ["qwen", "llama"],
                "size_class": ["under 10B", "100B and up"],
                "age_days": [30, 90],
                "downloads_all_time": [2_400_000.0, 50_000.0],
                "relative_adoption": [3.0, 0.25],
                "release_year": [2026, 2026],
                "parameters": [8e9, 4e11],
                "day": [pd.Timestamp("2026-08-20"), pd.Timestamp("2026-08-10")],
                "peers": [7, 3],
            }
        ),
    )


def empty_data(week: str = "2026-W34") -> ReportData:
    start = trends.week_start(week).date()
    e = pd.DataFrame()
    return ReportData(week, start, start + dt.timedelta(days=6), dt.datetime(2026, 8, 24, tzinfo=dt.UTC),
                      e, e, e, e, e, e, e, "", e, e, e, [])  # fmt: skip


def table_rows(md: str, heading: str) -> list[list[str]]:
    """Body rows of the first Markdown table after ``### heading``."""
    sec = md.split(f"### {heading}\n", 1)[1]
    rows = []
    for line in sec.splitlines()[1:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[2:]  # skip header and the alignment row


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, str, str]:
    """build()'s report, both formats, rendered once into a folder that does not exist yet."""
    out = tmp_path_factory.mktemp("reports") / "new" / "dir"
    paths = render(build(), out)
    assert paths == [out / "2026-W34.md", out / "2026-W34.html"]
    return out, paths[0].read_text(), paths[1].read_text()


@pytest.mark.slow
def test_headline_sentences(rendered):
    _, md, page = rendered
    sentence = (
        "Alibaba Qwen overtook Meta Llama in 30-day downloads on 2026-08-17 (last behind on 2026-08-16): 30.0M vs 29.4M"
    )
    assert f"- {sentence}" in md and sentence in page
    model = "Qwen/Qwen3-8B passed meta-llama/Llama-3.1-8B in 30-day downloads on 2026-08-19: 12.0M vs 11.9M"
    assert f"- {model}" in md and model in page
    assert "Qwen2.5-7B passed" not in md  # a model crossover of an earlier week is no headline
    assert md.count(" overtook ") == 1
    assert "- Mistral AI (eu): models by mistralai whose id contains 'mistral'" in md


@pytest.mark.slow
def test_tables_worked_out_by_hand(rendered):
    _, md, _ = rendered
    # week end 2026-08-23 (i=27) vs 2026-08-16 (i=20); total 36.0M + 28.8M + 6.08M = 70.88M
    assert table_rows(md, "30-day downloads") == [
        # like for like +5.0M of 28.0M = +17.9%; 7 new models made 7.0M - 5.0M = 2.0M; 36/70.88 = 50.8%
        ["Alibaba Qwen", "36.0M", "+5.0M", "+17.9%", "+7 new (+2.0M)", "50.8%"],
        ["Meta Llama", "28.8M", "-700.0k", "-2.4%", "none", "40.6%"],  # -0.7/29.5 = -2.37 %
        ["Mistral AI", "6.1M", "+280.0k", "+4.8%", "none", "8.6%"],  # 0.28/5.8 = 4.83 %
    ]
    # W34 sums of downloads_day: 7 x 1M, 7 x 2M, 6 x 0.2M (one NA day: partial); total 22.2M; no
    # like-for-like values were given for them: the change over all models, marked
    assert table_rows(md, "Weekly downloads") == [
        ["Alibaba Qwen", "14.0M", "0 ‡", "0.0%", "+7 new", "63.1%"],
        ["Meta Llama", "7.0M", "0 ‡", "0.0%", "none", "31.5%"],
        ["Mistral AI *", "1.2M", "-200.0k ‡", "-14.3%", "none", "5.4%"],
    ]
    assert "* partial week" in md and "‡ change over all models" in md
    # models: the change is membership by definition
    assert table_rows(md, "Models")[0] == ["Alibaba Qwen", "147", "+7", "+5.0%", "+7 new", "64.8%"]  # 147/227
    # derivatives: mistral has none (NA), llama 9.5k, qwen 23.5k -> shares of 33.0k
    assert table_rows(md, "Derivatives") == [
        ["Alibaba Qwen", "23.5k", "0 ‡", "0.0%", "+7 new", "71.2%"],
        ["Meta Llama", "9.5k", "0 ‡", "0.0%", "none", "28.8%"],
        ["Mistral AI", "n/a", "n/a", "n/a", "none", "n/a"],
    ]
    regions = table_rows(md, "Region shares")
    assert regions[0][:2] == ["china", "50.8% (36.0M)"]
    assert regions[1][:2] == ["us", "40.6% (28.8M)"]
    assert regions[2][:2] == ["eu", "8.6% (6.1M)"]


@pytest.mark.slow
def test_models_projections_quality_notes(rendered):
    _, md, _ = rendered
    assert "| Qwen/Qwen3-8B | Alibaba Qwen | +3.1M | 12.0M | 812 |" in md
    assert "| Qwen/Qwen3-Coder-Tiny | Alibaba Qwen | 2026-08-18 | 45.6k | 12 |" in md
    assert (
        "Alibaba Qwen is projected to overtake Meta Llama in likes between 2026-11-20 and 2026-12-10 "
        "(straight line through 16 daily values from 2026-08-08 to 2026-08-23, as of 2026-08-23)"
    ) in md
    assert "Rule: A projection is claimed only when" in md
    assert "| Mistral AI | stale days" in md and "| Alibaba Qwen | models left the tracked set |" in md
    assert "- Backfilled series miss deleted derivatives" in md
    # adoption: only milestones reached this week (Llama-4-Old reached 90 days on 2026-08-10, W33)
    assert "| Qwen/Qwen3-8B | Alibaba Qwen | under 10B | 30 days | 2.4M | 3.00× | 7 |" in md
    assert "Llama-4-Old" not in md
    assert "generated at 2026-08-24 08:00 UTC" in md and "2026-08-17 to 2026-08-23" in md


@pytest.mark.slow
def test_charts_inline_in_html_and_files_beside_markdown(rendered):
    out, md, page = rendered
    slugs = ["downloads-30d", "downloads-week", "derivatives", "share"]
    for slug in slugs:
        assert f"]({'2026-W34'}-{slug}.svg)" in md
        svg = (out / f"2026-W34-{slug}.svg").read_text()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert re.search(rf'<figure id="chart-{slug}"[^>]*><svg', page)
    # the four charts and the headline crossover's lead chart
    assert page.count("<svg") == 5 and "](2026-W34-crossover-1.svg)" in md
    assert (
        "Lead of Alibaba Qwen over Meta Llama in 30-day downloads (Alibaba Qwen \N{MINUS SIGN} Meta Llama, linear axis)"
        in md
    )
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, re.I)
    assert "@import" not in page and "<script" not in page and "<link" not in page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # the four charts' clip paths cannot clash
    # text stays text; crossover labelled on the 30-day and share charts; backfill noted
    assert page.count("Alibaba Qwen &gt; Meta Llama") == 2
    assert "dashed: backfilled / imported" in page
    assert "open: partial week" in page
    colors = family_colors(build())
    assert colors == {"llama": "#1f77b4", "qwen": "#ff7f0e", "mistral": "#2ca02c"}
    for c in colors.values():
        assert c in page


def test_family_colours_given_or_from_the_palette():
    """A valid ``families.color`` is used; a missing or invalid one gets a palette colour no family has
    (the charts drawn with them: the "messy" case of test_sparse_inputs_render)."""
    data = build()
    data.families = data.families.assign(color=["#000080", None, "not a colour"])
    colors = family_colors(data)
    assert colors["llama"] == "#000080"
    assert colors["mistral"] not in ("#000080", colors["qwen"])


@pytest.mark.slow
def test_gaps_are_not_bridged(rendered):
    """Mistral's missing days (2026-08-06..08) break its line: the path jumps (M) instead of joining."""
    assert family_colors(build())["mistral"] == "#2ca02c"
    svg = (rendered[0] / "2026-W34-downloads-30d.svg").read_text()
    green = re.findall(r'<path d="([^"]+)"[^>]*?style="([^"]*stroke: ?#2ca02c[^"]*)"', svg, re.S)
    assert sum(p.count("M") for p, _ in green) >= 3  # backfill part, snapshot parts before and after the gap
    # the solid (snapshot) line: i=7..9, then after the gap i=13..24, then after the NA on i=25 i=26..27
    solid = [p for p, style in green if "stroke-width: 2;" in style and "dasharray" not in style]
    assert max(p.count("M") for p in solid) == 3


@pytest.mark.slow
def test_render_is_atomic_and_rerunnable(rendered, tmp_path):
    """A second render over the fixture's (which created its folder, new/dir): the same file, the same
    text, and nothing else left in the folder (no temporary file)."""
    out, _, page = rendered
    listing = sorted(p.name for p in out.iterdir())
    assert "2026-W34.html" in listing and not [n for n in listing if n.startswith(".") or n.endswith(".tmp")]
    again = render(build(), out, formats=("html",))
    assert again == [out / "2026-W34.html"]
    assert again[0].read_text() == page  # deterministic output
    assert sorted(p.name for p in out.iterdir()) == listing
    with pytest.raises(ValueError, match="pdf"):
        render(build(), tmp_path, formats=("pdf",))


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    ["empty", "columns_no_rows", "week_without_data", "one_family", "all_na_metric", "no_tree_data", "messy"],
)
def test_sparse_inputs_render(tmp_path, case):
    if case == "empty":
        data = empty_data()
    elif case == "columns_no_rows":
        data = build()
        for f in dataclasses.fields(data):
            v = getattr(data, f.name)
            if isinstance(v, pd.DataFrame):
                setattr(data, f.name, v.iloc[0:0])
    elif case == "week_without_data":
        data = build(week="2026-W36")
    elif case == "one_family":
        data = build(fd=daily().query("family == 'qwen'").reset_index(drop=True))
    elif case == "all_na_metric":
        fd = daily()
        fd.loc[fd["family"] == "mistral", ["downloads_30d", "downloads_day"]] = pd.NA
        data = build(fd=fd)
    elif case == "no_tree_data":
        tree = ["finetunes", "adapters", "quantizations", "merges", "derivatives"]
        data = build(fd=daily().drop(columns=tree))
    else:  # dates as strings and date objects, a family nobody configured, duplicates, odd columns
        fd = daily()
        extra = fd[fd["family"] == "qwen"].assign(family="ghost", label=None, source=None)
        extra[["downloads_30d", "downloads_day", "likes", "models"]] = pd.NA
        fd = pd.concat([fd, extra, fd.tail(3)], ignore_index=True)
        data = build(fd=fd)
        data.family_daily = fd.assign(day=fd["day"].dt.strftime("%Y-%m-%d"))
        data.crossovers = data.crossovers.assign(day=data.crossovers["day"].dt.date, metric="new_metric")
        data.quality = pd.DataFrame({"issue": ["mystery"], "family": ["ghost"]})
        data.top_movers = pd.DataFrame({"model_id": ["a/b"]})
        data.families = data.families.drop(columns=["rule"]).assign(color=["#000080", None, "not a colour"])
        data.generated_at = dt.datetime(2026, 8, 24, 8, 0)  # noqa: DTZ001 - naive on purpose: taken as UTC
    paths = render(data, tmp_path)
    md, page = paths[0].read_text(), paths[1].read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    if case in ("empty", "columns_no_rows", "week_without_data"):
        assert "No crossover this week" in md
    if case in ("empty", "columns_no_rows"):
        assert "None projected." in md
    if case == "empty":
        assert "<svg" not in page and "No data to chart" in md
    if case == "week_without_data":
        assert "No family data for 2026-W36." in md
        assert (
            "Empty week: the warehouse holds no snapshot from 2026-08-31 to 2026-09-06. It holds 2026-07-27 "
            "to 2026-08-23 (28 days)."
        ) in md
        assert "No movers: the warehouse holds no snapshot of this week." in md
        assert page.count("<svg") == 4  # the history still charts
    if case == "all_na_metric":
        assert "Mistral AI (no data)" in page
    if case == "messy":
        assert (
            "Alibaba Qwen overtook Meta Llama in new metric on 2026-08-17 (last behind on 2026-08-16): "
            "30.0M vs 29.4M" in md
        )
        assert "ghost (no data)" in page and "rule not recorded" in md and "| ghost | mystery | 1 |" in md
        assert "stroke: #000080" in page  # Meta Llama's given colour, drawn
    if case == "no_tree_data":
        assert "derivatives (no tree data yet)" in md and page.count("<svg") == 4


@pytest.mark.slow
def test_import_is_cheap():
    """matplotlib loads only when charts are drawn, so `tracker --help` stays fast."""
    code = "import sys, tracker.report; assert 'matplotlib' not in sys.modules, 'matplotlib imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.trial  # starts a headless browser
def test_html_screenshot_in_headless_chromium(rendered, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(
            "/usr/bin/chromium is absent; install it as .ci/run does: "
            "apt-get install -y chromium fonts-dejavu-core systemd"
        )
    from PIL import Image

    data = build()
    page = rendered[0] / "2026-W34.html"  # build()'s page
    shot = tmp_path / "shot.png"
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1280,2400",
           f"file://{page}"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert shot.exists(), f"chromium wrote no screenshot: {proc.stderr[-2000:]}"
    img = np.asarray(Image.open(shot).convert("RGB")).astype(np.int32)
    assert img.shape[:2] == (2400, 1280)
    flat = img.reshape(-1, 3)
    packed = (flat[:, 0] << 16) | (flat[:, 1] << 8) | flat[:, 2]
    colours, pixels = np.unique(packed, return_counts=True)
    assert len(colours) > 300  # anti-aliased lines, text, fills: not a blank page
    rgbs = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1)
    # each family's line colour covers a good number of pixels (counted over the distinct colours)
    for fam, hexc in family_colors(data).items():
        rgb = np.array([int(hexc[k : k + 2], 16) for k in (1, 3, 5)])
        near = pixels[np.abs(rgbs - rgb).max(axis=1) <= 12].sum()
        assert near > 400, (fam, hexc, near)


def test_quality_examples_do_not_depend_on_row_order():
    """The warehouse returns a day's quality rows in no set order (ORDER BY day, family, issue); the
    examples shown are the first three by day, then model id, whatever order the rows come in."""
    from tracker.report.common import FamilyNames
    from tracker.report.tables import quality

    data = build()
    ids = ["Qwen/d", "Qwen/b", "Qwen/a", "Qwen/c"]
    for order in (ids, ids[::-1]):
        data.quality = pd.DataFrame(
            {
                "day": pd.Timestamp("2026-08-20"),
                "family": "qwen",
                "model_id": order,
                "issue": "new_model",
                "detail": [f"created {m}" for m in order],
            }
        )
        table = next(b for b in quality(data, FamilyNames(data)) if hasattr(b, "rows"))
        assert table.rows == [
            [
                "Alibaba Qwen",
                "new models (released since the previous snapshot)",
                "4",
                "2026-08-20",
                "Qwen/a 2026-08-20: created Qwen/a; Qwen/b 2026-08-20: created Qwen/b; "
                "Qwen/c 2026-08-20: created Qwen/c; ...",
            ]
        ]


def test_whole_hub_chart_keeps_text_and_is_the_same_each_time():
    """The census section's chart is SVG with text kept as text and ids that do not change between runs,
    like the other charts (a rerun writes the same file)."""
    from tracker.report import whole_hub

    data = build()
    months = pd.date_range("2025-01-01", "2026-11-01", freq="MS")
    share = pd.DataFrame(
        [{"month": m, "family": f, "share": s} for m in months for f, s in (("llama", 0.6), ("qwen", 0.4))]
    )
    e = pd.DataFrame()
    data.whole_hub = whole_hub.WholeHub(dt.date(2026, 12, 1), {}, share, pd.DataFrame(columns=["descendants"]), e, e)
    svgs = [next(b.svg for b in whole_hub.blocks(data.whole_hub, data) if isinstance(b, Chart)) for _ in range(2)]
    assert svgs[0] == svgs[1]
    assert ">Share of new derivatives per month</text>" in svgs[0]
