"""ATOM-style relative adoption: how a new model's downloads compare with its peers' at the same age.

After the Relative Adoption Metric of the ATOM Project (American Truly Open Models, Interconnects
AI): a model's cumulative downloads N days after its release, divided by the median of the same
figure over the models of its size class released in the same year. Here:

- N is each of MILESTONES (30, 90, 180 days). A model's value at N is taken from its first snapshot
  at an age of N to N + MILESTONE_SLACK days (age = snapshot day - release day): its all-time
  downloads, or at exactly 30 days, when the listing gave no all-time count, its 30-day count (which
  at that age covers every day since release). No snapshot in that span: no value.
- The size class comes from the parameter count the Hub gives in the model's ``safetensors``
  metadata (SIZE_CLASSES, by total parameters); a model without it is in class ``unknown`` and is
  compared with the other unknown-size models of its year.
- Peers: every model in the input (the tracked families' models) of the same size class and release
  year with a value at the same N, the model itself included. relative_adoption = value / median;
  1.0 is a typical model, 3.0 three times the typical downloads. NA when the median is 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tracker.trends.common import day, days, empty, floats, utc

MILESTONES = (30, 90, 180)
MILESTONE_SLACK = 7
#: (upper bound in parameters, name), in order; a model belongs to the first class it is below.
SIZE_CLASSES = ((10e9, "under 10B"), (50e9, "10-50B"), (100e9, "50-100B"), (float("inf"), "100B and up"))
COLUMNS = [
    "model_id",
    "family",
    "size_class",
    "age_days",
    "downloads_all_time",
    "relative_adoption",
    "release_year",
    "parameters",
    "day",
    "peers",
]


def size_class(parameters: Any) -> pd.Series:
    """Parameter counts -> size class names ("unknown" where NA or not positive)."""
    p = floats(parameters)
    out = np.full(len(p), "unknown", dtype=object)
    lower = 0.0
    for bound, name in SIZE_CLASSES:
        out[(p > 0) & (p >= lower) & (p < bound)] = name
        lower = bound
    return pd.Series(out, dtype="str")


def adoption(rows: pd.DataFrame, as_of: Any = None) -> pd.DataFrame:
    """Relative adoption of every model at each milestone it has reached (see the module docstring).

    Input: snapshot rows (day, family, model_id, created_at, downloads_all_time, downloads_30d,
    parameters optional); only days up to `as_of` are used. Output columns (sorted by age_days,
    relative_adoption descending, model_id): model_id, family, size_class, age_days (the milestone),
    downloads_all_time (cumulative downloads at it), relative_adoption, release_year, parameters,
    day (the snapshot measured), peers (models in the comparison).
    """
    out = empty(
        COLUMNS,
        {
            "age_days": "int64",
            "downloads_all_time": "float64",
            "relative_adoption": "Float64",
            "release_year": "int64",
            "parameters": "float64",
            "peers": "int64",
        },
    )
    if rows.empty:
        return out
    r = rows.copy()
    r["day"] = days(r["day"])
    if as_of is not None:
        r = r[r["day"] <= day(as_of)]
    r["created_at"] = utc(r["created_at"])
    r = r[r["created_at"].notna()]
    release = r["created_at"].dt.tz_localize(None).dt.normalize().astype("datetime64[us]")
    r["age"] = ((r["day"] - release) / pd.Timedelta(days=1)).astype("int64")
    r["release_year"] = r["created_at"].dt.year.astype("int64")
    r["parameters"] = floats(r["parameters"]) if "parameters" in r.columns else np.nan
    at = floats(r["downloads_all_time"]) if "downloads_all_time" in r.columns else np.full(len(r), np.nan)
    d30 = floats(r["downloads_30d"]) if "downloads_30d" in r.columns else np.full(len(r), np.nan)
    # a model's parameters: its latest known value in the input
    par = r.dropna(subset=["parameters"]).sort_values("day").groupby("model_id")["parameters"].last()
    parts = []
    age = r["age"].to_numpy()
    for n in MILESTONES:
        v = np.where(np.isnan(at) & (age == 30) & (n == 30), d30, at)
        at_n = (age >= n) & (age <= n + MILESTONE_SLACK) & ~np.isnan(v)
        m = r[at_n].assign(value=v[at_n])
        m = m.sort_values(["model_id", "age", "family"], kind="stable").drop_duplicates("model_id")
        if m.empty:
            continue
        m = m.assign(parameters=m["model_id"].map(par).astype("float64"))
        m["size_class"] = size_class(m["parameters"]).to_numpy()
        grp = m.groupby(["size_class", "release_year"])["value"]
        med, peers = grp.transform("median"), grp.transform("size")
        rel = pd.Series(np.where(med > 0, m["value"] / med.where(med > 0, 1), np.nan), index=m.index)
        parts.append(
            pd.DataFrame(
                {
                    "model_id": m["model_id"].astype("str"),
                    "family": m["family"].astype("str"),
                    "size_class": m["size_class"].astype("str"),
                    "age_days": np.full(len(m), n, dtype="int64"),
                    "downloads_all_time": m["value"].astype("float64"),
                    "relative_adoption": rel.astype("Float64"),
                    "release_year": m["release_year"],
                    "parameters": m["parameters"],
                    "day": m["day"],
                    "peers": peers.astype("int64"),
                }
            )
        )
    if not parts:
        return out
    res = pd.concat(parts, ignore_index=True)
    res = res.sort_values(
        ["age_days", "relative_adoption", "model_id"], ascending=[True, False, True], kind="stable", na_position="last"
    )
    return res.reset_index(drop=True)[COLUMNS]
