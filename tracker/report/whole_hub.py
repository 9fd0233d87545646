"""The report's "Whole Hub" section, shown when a census is held (`tracker census` or an imported dump).

Presents what the census views hold: each family's share of new derivatives per month (stacked
areas, the last 24 months), descendants and their downloads per family, region shares of all Hub
downloads, and the authors who made most derivatives of each leading family in the census's month.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tracker.report.common import Block, Chart, FamilyNames, Table, family_colors, share_pct
from tracker.report.format import human

MONTHS = 24
LEADING = 3  # families whose top authors are listed


@dataclass
class WholeHub:
    """One census's figures for the report (built by the report job from the census views)."""

    day: dt.date
    stats: dict  # census_stats of that day: models, edges, dangling_parents, cycles, ...
    share: pd.DataFrame  # derivative_share: month, family, new_derivatives, share, share_of_hub
    ecosystem: pd.DataFrame  # family_ecosystem of that day
    hub: pd.DataFrame  # hub_daily of that day: region, models, downloads_30d, likes, hhi_authors
    authors: pd.DataFrame  # month, family, author, derivatives, rank


def _share_chart(wh: WholeHub, names: FamilyNames, colors: dict[str, str]) -> str | None:
    from tracker.report.charts import new_figure, to_svg

    s = wh.share.copy()
    if s.empty:
        return None
    s["month"] = pd.to_datetime(s["month"])
    last = s["month"].max()
    s = s[s["month"] > last - pd.DateOffset(months=MONTHS)]
    wide = s.pivot_table(index="month", columns="family", values="share", aggfunc="sum").fillna(0.0)
    order = [f for f in names.order if f in wide.columns] + [f for f in wide.columns if f not in names.order]
    wide = wide[order]
    fig = new_figure()
    ax = fig.add_subplot()
    ax.stackplot(
        wide.index,
        *(wide[f].to_numpy() * 100 for f in order),
        labels=[names(f) for f in order],
        colors=[colors.get(f, "#999999") for f in order],
        alpha=0.85,
    )
    ax.set_ylabel("% of new derivatives of tracked families")
    ax.set_title("Share of new derivatives per month")
    ax.legend(loc="upper left", ncols=3)
    return to_svg(fig)


def blocks(wh: WholeHub | None, data, names: FamilyNames | None = None) -> list[Block]:
    """The section's blocks, or none when no census is held (``names``: the report's, else worked out)."""
    if wh is None:
        return []
    names = FamilyNames(data) if names is None else names
    out: list[Block] = [("h2", "Whole Hub")]
    st = wh.stats
    out.append(
        (
            "note",
            f"From the census of {wh.day.isoformat()}: {human(st.get('models', 0))} models, "
            f"{human(st.get('edges', 0))} model-tree edges, {st.get('dangling_parents', 0)} parents "
            f"no longer listed (roots known by id), {st.get('cycles', 0)} cycles. A derivative counts "
            "for every family among its roots. Deleted models are missing, so the counts for past "
            "months are lower bounds.",
        )
    )
    from matplotlib import rc_context

    # the SVG settings of the other charts (text kept as text, stable ids); its own style is matplotlib's
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "hub-tracker"}):
        svg = _share_chart(wh, names, family_colors(data, names))
    if svg:
        out.append(
            Chart(
                "whole-hub-share",
                "Share of new derivatives per month",
                f"Each family's descendants created that month, as a share of the new derivatives of all "
                f"tracked families; the last {MONTHS} months of the census.",
                svg,
            )
        )
    eco = wh.ecosystem.sort_values("descendants", ascending=False)
    if len(eco):
        out.append(("h3", "Descendants per family"))
        out.append(
            Table(
                [
                    "family",
                    "descendants",
                    "direct",
                    "fine-tunes",
                    "adapters",
                    "quantizations",
                    "merges",
                    "max depth",
                    "their 30-day downloads",
                    "new today",
                ],
                "lrrrrrrrrr",
                [
                    [
                        names(r["family"]),
                        human(r["descendants"]),
                        human(r["direct"]),
                        human(r["finetunes"]),
                        human(r["adapters"]),
                        human(r["quantizations"]),
                        human(r["merges"]),
                        "" if pd.isna(r["max_depth"]) else str(int(r["max_depth"])),
                        human(r["descendants_downloads_30d"]),
                        human(r["new_descendants"]),
                    ]
                    for r in eco.to_dict("records")
                ],
            )
        )
    hub = wh.hub.set_index("region") if len(wh.hub) else wh.hub
    if len(hub) and "all" in hub.index:
        total = hub.loc["all", "downloads_30d"]
        rows = [
            [
                str(reg),
                human(r.models),
                human(r.downloads_30d),
                share_pct(r.downloads_30d / total if total else np.nan),
                "n/a" if pd.isna(r.hhi_authors) else f"{r.hhi_authors:.3f}",
            ]
            for reg, r in hub.drop(index="all").sort_values("downloads_30d", ascending=False).iterrows()
        ]
        out.append(("h3", "Region shares of all Hub downloads"))
        out.append(Table(["region", "models", "30-day downloads", "share", "HHI over authors"], "lrrrr", rows))
    if len(wh.authors) and len(wh.share):
        month = pd.Timestamp(wh.authors["month"].iloc[0])
        this = wh.share[pd.to_datetime(wh.share["month"]) == month]
        leading = this.sort_values("new_derivatives", ascending=False).family.head(LEADING).tolist()
        for fam in leading:
            a = wh.authors[wh.authors.family == fam].sort_values("rank")
            if len(a):
                out.append(("h3", f"Who made most {names(fam)} derivatives in {month:%B %Y}"))
                out.append(("ul", [f"{r.author}: {human(r.derivatives)}" for r in a.itertuples()]))
    return out
