"""The report's tables: families this week (like-for-like change beside membership change), models
(top movers, new models, adoption), projections and data quality."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from tracker.report.common import (
    ISSUES,
    METRIC_NAMES,
    TOP,
    Block,
    FamilyNames,
    ReportData,
    Table,
    at_most,
    column,
    imported_from,
    in_week,
    iso_day,
    metric_name,
    number,
    numbers,
    share_pct,
    signed,
    to_day,
    to_days,
)
from tracker.report.format import human, pct


def family_rules(data: ReportData, names: FamilyNames) -> list[Block]:
    out: list[Block] = [("h3", "How families are counted")]
    fams = data.families
    first: dict[str, dict] = {}  # each family's first row
    for rec in fams.to_dict("records") if column(fams, "family") is not None else []:
        first.setdefault(str(rec["family"]), rec)
    rules = []
    for fam in names.order:
        rule, region = first.get(fam, {}).get("rule"), first.get(fam, {}).get("region")
        where = f" ({region})" if region is not None and pd.notna(region) else ""
        rule = rule if rule is not None and pd.notna(rule) else "rule not recorded"
        rules.append(f"{names(fam)}{where}: {rule}")
    out.append(("ul", rules) if rules else ("p", "No families are configured."))
    return out


def week_days(data: ReportData) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """(days of the week the warehouse holds, every day it holds up to the week's end)."""
    fd = data.family_daily
    if column(fd, "day") is None or not len(fd):
        return [], []
    held = sorted(set(to_days(fd["day"]).dropna()))
    week = in_week(pd.Series(held, dtype="datetime64[ns]"), data)
    return [d for d, w in zip(held, week, strict=True) if w], held


def coverage(data: ReportData) -> list[Block]:
    """A partial or empty week says so, and says which days the warehouse holds."""
    week, held = week_days(data)
    if not held:
        return [("p", "The warehouse holds no family data yet.")]
    span = f"{iso_day(held[0])} to {iso_day(held[-1])} ({len(held)} days)"
    if not week:
        return [
            (
                "p",
                f"Empty week: the warehouse holds no snapshot from {iso_day(data.week_start)} to "
                f"{iso_day(data.week_end)}. It holds {span}. Nothing below describes this week.",
            )
        ]
    if len(week) < 7:
        return [
            (
                "p",
                f"Partial week: {len(week)} of its 7 days are held ({', '.join(iso_day(d) for d in week)}); "
                "week-end values are those of the last day held.",
            )
        ]
    return []


def _membership(r: Mapping[str, Any], m: str) -> str:
    parts = []
    for col, word in (("models_new", "new"), ("models_entered", "entered"), ("models_left", "left")):
        v = r.get(col)
        if v is not None and pd.notna(v) and int(v):
            parts.append(f"{'-' if col == 'models_left' else '+'}{int(v)} {word}")
    if not parts:
        return "none" if pd.notna(r.get("models_new")) else "n/a"
    wow, same = number(r.get(f"{m}_wow")), number(r.get(f"{m}_wow_same"))
    if m != "models" and np.isfinite(wow) and np.isfinite(same):
        return f"{', '.join(parts)} ({signed(wow - same)})"
    return ", ".join(parts)


def _imported(data: ReportData) -> set[str]:
    """The families whose last day held in the week (up to its end) has its figures from an imported listing."""
    fd = data.family_daily
    day = to_days(fd["day"])
    end = min(pd.Timestamp(data.week_end), pd.Timestamp(day.max()))
    held = (day <= end).to_numpy(dtype=bool) & in_week(fd["day"], data)
    fams = fd["family"].astype(str).to_numpy()[held]
    last = pd.Series(day.to_numpy()[held]).groupby(fams).max()
    return {str(fam) for fam, d in last.items() if imported_from(data, fam, d) is not None}


def _family_row(
    r: Mapping[str, Any], m: str, names: FamilyNames, imported: set[str], marks: dict[str, bool]
) -> list[str]:
    lab = names(r["family"])
    days = r.get("downloads_week_days") if m == "downloads_week" else None
    if days is not None and pd.notna(days) and int(days) < 7 and pd.notna(r[m]):
        lab, marks["partial"] = f"{lab} *", True
    if str(r["family"]) in imported:
        lab, marks["import"] = f"{lab} †", True
    same, same_pct = r.get(f"{m}_wow_same"), r.get(f"{m}_wow_pct_same")
    if m == "models":
        change, change_pct = signed(r.get(f"{m}_wow")), pct(r.get(f"{m}_wow_pct"))
    elif same is not None and pd.notna(same):
        change, change_pct = signed(same), pct(same_pct)
    elif pd.notna(r.get(f"{m}_wow")):
        change, change_pct, marks["all"] = signed(r.get(f"{m}_wow")) + " ‡", pct(r.get(f"{m}_wow_pct")), True
    else:
        change, change_pct = "n/a", "n/a"
    return [lab, human(r[m]), change, change_pct, _membership(r, m), share_pct(r.get(f"{m}_share"))]


def family_tables(data: ReportData, names: FamilyNames) -> list[Block]:
    out: list[Block] = [("h2", "Families this week"), *coverage(data), ("grid", None)]
    fw = data.family_weekly
    rows = fw[fw["week"].astype(str) == data.week] if column(fw, "week") is not None else pd.DataFrame()
    shown = 0
    marks = {"partial": False, "import": False, "all": False}
    imported: set[str] | None = None
    records = rows.to_dict("records")  # one row as a dict per family, read by every metric's table
    for m in METRIC_NAMES:
        v = numbers(rows[m]) if m in fw.columns and len(rows) else None
        if v is None or np.isnan(v).all():
            continue
        imported = _imported(data) if imported is None else imported
        order = pd.Series(v).sort_values(ascending=False, na_position="last", kind="stable").index
        body = [_family_row(records[i], m, names, imported, marks) for i in order]
        change = "Change" if m == "models" else "Change, same models"
        out += [
            ("h3", metric_name(m).capitalize()),
            Table(
                [
                    "Family",
                    "Week end" if m != "downloads_week" else "Week",
                    change,
                    "%",
                    "Membership (its part of the change)",
                    "Share",
                ],
                "lrrrlr",
                body,
            ),
        ]
        shown += 1
    out.append(("end", None))
    if not shown:
        return [("h2", "Families this week"), *coverage(data), ("p", f"No family data for {data.week}.")]
    out.append(
        (
            "note",
            "Change, same models: the change over the models present at both ends of the week "
            "(like for like). Membership: models new (released), entered (older models that joined "
            "the tracked set or the listing) and left since the previous week's end, and the part "
            "of the change they make (all models' change minus the like-for-like one).",
        )
    )
    if marks["partial"]:
        out.append(("note", "* partial week: fewer than 7 days with downloads known."))
    if marks["all"]:
        out.append(("note", "‡ change over all models: no model-level values to compare like for like."))
    if marks["import"]:
        out.append(("note", "† " + import_note(data, names)))
    out += _regions(data)
    return out


def import_note(data: ReportData, names: FamilyNames) -> str:
    im = data.imports
    wk = im[in_week(im["day"], data)] if column(im, "day") is not None else pd.DataFrame()
    last = wk.sort_values("day").groupby("family").tail(1) if len(wk) else wk
    order = {f: k for k, f in enumerate(names.order)}
    parts = []
    for (d, run), g in last.groupby(["day", "run_id"], sort=True):
        g = g.assign(_o=g["family"].map(lambda f: order.get(str(f), 99))).sort_values("_o")
        fams = ", ".join(f"{names(r['family'])} {int(r['models'])}" for _, r in g.iterrows())
        parts.append(f"the listing of {iso_day(d)} (import run {run}): {fams} models")
    return (
        "Figures come from an imported listing, not a collect: sums over only the models that listing "
        "held (an archive of the Hub's top models by likes and downloads), not whole families. From "
        + "; ".join(parts)
        + "."
    )


def _regions(data: ReportData) -> list[Block]:
    rw = data.region_weekly
    if column(rw, "region") is None or not len(rw):
        return []
    rw = rw[rw["week"].astype(str) == data.week] if "week" in rw.columns else rw
    metrics = [m for m in METRIC_NAMES if m in set(rw["metric"].astype(str))]
    if not len(rw) or not metrics:
        return []
    first = rw[rw["metric"].astype(str) == metrics[0]].assign(_v=lambda d: numbers(d["value"]))
    regions = list(first.sort_values("_v", ascending=False, kind="stable")["region"].astype(str))
    regions += sorted(set(rw["region"].astype(str)) - set(regions))
    first_of: dict[tuple[str, str], tuple[Any, Any]] = {}  # (region, metric) -> its first row's (share, value)
    for key, share, value in zip(zip(rw["region"].astype(str), rw["metric"].astype(str), strict=True),
                                 rw["share"], rw["value"], strict=True):  # fmt: skip
        first_of.setdefault(key, (share, value))
    body = []
    for reg in regions:
        cells = [reg]
        for m in metrics:
            hit = first_of.get((reg, m))
            cells.append(f"{share_pct(hit[0])} ({human(hit[1])})" if hit else "n/a")
        body.append(cells)
    return [
        ("h3", "Region shares"),
        Table(["Region", *[metric_name(m).capitalize() for m in metrics]], "l" + "r" * len(metrics), body),
        ("note", "Share of the tracked total per region, with the value in brackets."),
    ]


def models(data: ReportData, names: FamilyNames) -> list[Block]:
    out: list[Block] = [("h2", "Top movers")]
    week, _ = week_days(data)
    tm = data.top_movers
    if not week:
        out.append(("p", "No movers: the warehouse holds no snapshot of this week."))
    elif column(tm, "model_id") is not None and len(tm):
        t = tm.assign(_v=numbers(tm["downloads_week"]) if "downloads_week" in tm else np.nan)
        t = t.sort_values("_v", ascending=False, kind="stable")
        body = [
            [
                str(r["model_id"]),
                names(r.get("family")),
                signed(r.get("downloads_week")),
                human(r.get("downloads_30d")),
                human(r.get("likes")),
            ]
            for r in t.head(TOP).to_dict("records")
        ]
        out.append(Table(["Model", "Family", "Downloads this week", "30-day downloads", "Likes"], "llrrr", body))
    elif not data.all_time_known:
        out.append(
            (
                "p",
                "No top movers: a week's downloads come from all-time download counts, and this week's "
                "snapshots have none (imported listings carry only 30-day counts).",
            )
        )
    else:
        out.append(("p", "No model gained downloads this week."))
    out.append(("h2", "New models"))
    nm = data.new_models
    if week and column(nm, "model_id") is not None and len(nm):
        t = nm.assign(_v=numbers(nm["downloads_30d"])).sort_values(
            "_v", ascending=False, na_position="last", kind="stable"
        )
        body = [
            [
                str(r["model_id"]),
                names(r.get("family")),
                iso_day(to_day(r.get("created_at"))),
                human(r.get("downloads_30d")),
                human(r.get("likes")),
            ]
            for r in t.head(TOP).to_dict("records")
        ]
        out.append(Table(["Model", "Family", "Created", "30-day downloads", "Likes"], "llrrr", body))
        if len(nm) > TOP:
            out.append(("note", f"{len(nm)} new models in all; the {TOP} most downloaded are shown."))
    else:
        out.append(("p", "No new models in the tracked families this week."))
    return out + adoption(data, names) + projections(data, names)


ADOPTION_NOTE = (
    "Relative adoption (after the ATOM Project's relative adoption metric): a model's cumulative "
    "downloads 30, 90 or 180 days after release divided by the median of the tracked models of its "
    "size class (parameters from the Hub's safetensors metadata; 'unknown' without it) released "
    "the same year; 1.0 is typical. Shown for models that reached a milestone this week."
)


def adoption(data: ReportData, names: FamilyNames) -> list[Block]:
    out: list[Block] = [("h2", "Most adopted new models")]
    ad = data.adoption
    wk = ad[in_week(ad["day"], data)] if column(ad, "day") is not None and len(ad) else pd.DataFrame()
    if not len(wk):
        return [
            *out,
            ("p", "No tracked model reached 30, 90 or 180 days after release this week."),
            ("note", ADOPTION_NOTE),
        ]
    t = wk.assign(_v=numbers(wk["relative_adoption"])).sort_values(
        ["_v", "model_id"], ascending=[False, True], na_position="last", kind="stable"
    )
    body = [
        [
            str(r["model_id"]),
            names(r["family"]),
            str(r["size_class"]),
            f"{int(r['age_days'])} days",
            human(r["downloads_all_time"]),
            "n/a" if pd.isna(r["relative_adoption"]) else f"{float(r['relative_adoption']):.2f}×",
            str(int(r["peers"])),
        ]
        for r in t.head(TOP).to_dict("records")
    ]
    return [
        *out,
        Table(["Model", "Family", "Size", "Age", "Downloads by then", "Relative adoption", "Peers"], "lllrrrr", body),
        ("note", ADOPTION_NOTE),
    ]


def projections(data: ReportData, names: FamilyNames) -> list[Block]:
    out: list[Block] = [("h2", "Projected crossovers")]
    pj = data.projections
    if column(pj, "projected_day") is not None and len(pj):
        lines = []
        for _, r in pj.sort_values("projected_day", kind="stable").iterrows():
            lo, hi = (
                iso_day(r.get("projected_from", r["projected_day"])),
                iso_day(r.get("projected_to", r["projected_day"])),
            )
            when = f"around {lo}" if lo == hi else f"between {lo} and {hi}"
            n = r.get("n_points")
            fit = (
                f"straight line through {int(n)} daily values from {iso_day(r.get('first_day'))} to "
                f"{iso_day(r.get('last_day'))}"
                if n is not None and pd.notna(n)
                else "straight line"
            )
            lines.append(
                f"{names(r['family'])} is projected to overtake {names(r['overtaken'])} in "
                f"{metric_name(r['metric'])} {when} ({fit}, as of {iso_day(r['as_of'])})"
            )
        out.append(("ul", at_most(lines)))
    else:
        out.append(("p", "None projected."))
    if data.projection_rule:
        out.append(("note", f"Rule: {data.projection_rule}"))
    return out


def quality(data: ReportData, names: FamilyNames) -> list[Block]:
    out: list[Block] = [("h2", "Data quality")]
    q = data.quality
    if column(q, "issue") is None or not len(q):
        out.append(("p", "No data-quality issues were flagged for this week."))
    else:
        q = q.assign(
            _day=to_days(q["day"] if "day" in q else pd.Series(pd.NaT, index=q.index)),
            _fam=q["family"].map(names) if "family" in q else "",
            _o=q["issue"].map(lambda i: list(ISSUES).index(i) if i in ISSUES else 99),
        )
        # one sort, then each (family, issue)'s rows in a run: by day, then model (rows of a day come in no
        # set order); rows without an issue are left out, as grouping by it leaves them out
        by = ["_fam", "_o", "issue", "_day", *(["model_id"] if "model_id" in q else [])]
        records = q[q["issue"].notna()].sort_values(by, kind="stable").to_dict("records")
        body = []
        for (fam, _o, issue), run in itertools.groupby(records, key=lambda r: (r["_fam"], r["_o"], r["issue"])):
            g = list(run)
            held = [r["_day"] for r in g if pd.notna(r["_day"])]
            lo, hi = (min(held), max(held)) if held else (pd.NaT, pd.NaT)
            days = iso_day(lo) if lo == hi else f"{iso_day(lo)} to {iso_day(hi)}"
            ex = []
            for r in g[:3]:
                mid = r.get("model_id")
                who = f"{mid} " if mid is not None and pd.notna(mid) else ""
                ex.append(f"{who}{iso_day(r['_day'])}: {r.get('detail', '')}")
            body.append(
                [
                    str(fam),
                    ISSUES.get(str(issue), str(issue)),
                    str(len(g)),
                    days,
                    "; ".join(ex) + ("; ..." if len(g) > 3 else ""),
                ]
            )
        out.append(("note", "Read the charts with these in mind: an artefact is not a trend."))
        out.append(Table(["Family", "Issue", "Count", "Days", "Examples"], "llrll", body))
    out.append(("h2", "Notes"))
    out.append(("ul", list(data.notes)) if data.notes else ("p", "No notes."))
    return out
