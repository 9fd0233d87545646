"""Arrow schemas of the census datasets (`tracker census`, `tracker import` of a whole-Hub dump).

Kept apart from tracker/warehouse/schemas.py so that the census owns its tables; the warehouse seeds an empty file
for each (its views glob the folders) and checks every written frame against them.

A census day is stored keyed: `census_ids` gives every model id (and every parent id that was not
itself listed) a stable integer key once, so that the daily files hold only integers and a few
dictionary-coded strings (about 10 bytes a model a day, bench/census.py).
"""

from __future__ import annotations

import pyarrow as pa

from tracker.columns import LISTED, schema
from tracker.metrics import RELATIONS

_RUN = "run_id day"

CENSUS_SCHEMAS: dict[str, pa.Schema] = {
    # append-only dictionary: a key per model id, with its creation time once known
    "census_ids": schema("model_key model_id created_at run_id"),
    # one row per listed model per census day
    "census_models": schema(_RUN, "model_key", LISTED),
    # the model tree of the day: child -> parent, with the relation of the edge into the child
    "census_edges": schema(_RUN, "model_key parent_key relation"),
    # every descendant of every family (not the family's own models), with its depth below them
    "census_attribution": schema(_RUN, "family model_key depth families"),
    # summaries, small: what the views and the report read
    "census_family": schema(
        _RUN,
        "family label region descendants direct",
        RELATIONS,
        "max_depth descendants_downloads_30d descendants_likes new_descendants shared_descendants",
    ),
    "census_share": schema(_RUN, "month family new_derivatives share share_of_hub"),
    "census_hub": schema(_RUN, "region models downloads_30d likes hhi_authors"),
    "census_authors": schema(_RUN, "month family author derivatives rank"),
    # the census's awkward cases, counted
    "census_stats": schema(
        _RUN,
        "models edges roots dangling_parents cycles models_in_cycles self_references unrooted multi_family source",
    ),
}

# What a listing page becomes in the census's staging chunks (never read by a view).
STAGING = schema("chunk model_id created_at", LISTED, "relation parents")
