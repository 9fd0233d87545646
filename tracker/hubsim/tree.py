"""A whole-Hub world with a realistic model tree, for `tracker census` and its benchmark.

`TreeWorld(models=2_000_000)` builds, vectorised in a few seconds, a frozen Hub of official models
(the default config's orgs), community base models, unrelated models and derivatives in up to six
generations below them: heavy-tailed fan-out (a few parents get most children), quantizations of
fine-tunes, merges whose parents lie in two families, a few cycles (two models naming each other,
and back edges inside a family), self-references, and parents that are not served (deleted or
private: "dangling", some under a family's org, some not). `HubSim(TreeWorld(...))` serves it;
pages are rendered from arrays with string templates, so that the emulator is not what a benchmark
of the listing measures.

Its truth is worked out while the tree is generated, generation by generation (a model's families are
the union of its parents', its depth one more than its nearest parent's), with no graph search:
`world.attributed(families)` (model, family, depth, relation, created), `world.truth(families)`
(descendants per family and relation) and `world.new_derivatives(families)` (per month).

    python -m tracker.hubsim.tree --models 2000000 --port 0     # serve it; prints the endpoint
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cached_property

import numpy as np
import pandas as pd

from .tree_build import TreePopulation
from .tree_catalog import RELATIONS


def owns(rule: dict, model_id: str) -> bool:
    """A family rule of config.yaml, written out independently of the tracker (authors, search,
    include / exclude on the repo name)."""
    author, _, name = model_id.partition("/")
    if author not in rule["authors"]:
        return False
    if rule.get("search") and rule["search"].lower() not in model_id.lower():
        return False
    if rule.get("include") and not re.search(rule["include"], name):
        return False
    return not (rule.get("exclude") and re.search(rule["exclude"], name))


class TreeWorld(TreePopulation):
    """A frozen whole Hub with a model tree (see the module docstring). Served by HubSim."""

    @cached_property
    def listing_orders(self) -> dict:
        """Listing orders by (sort, author, search), filled by tree_serve.order."""
        return {}

    # the clock interface HubSim uses (the tree world is frozen)
    @property
    def now_epoch(self) -> int:
        return self._now

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self._now, tz=UTC)

    def set_time(self, when) -> None:  # a frozen world: the clock does not move what is served
        pass

    # ------------------------------------------------------------------ truth
    def parents(self, i: int, *, real_only: bool = False) -> list[int]:
        lo, hi = self.pptr[i], self.pptr[i + 1]
        ps = self.ep[lo:hi]
        if real_only:
            ps = ps[self.te[lo:hi]]
        return ps.tolist()

    def snapshot(self) -> pd.DataFrame:
        """Every served model: id, author, created_at, downloads, downloads_all_time, likes, base_relation,
        base_models (ids, dangling ones included)."""
        idx = np.flatnonzero(self.served)
        rels = [RELATIONS[r] if r >= 0 else None for r in self.rel[idx].tolist()]
        return pd.DataFrame(
            {
                "id": self.ids[idx],
                "author": self.author_of[idx],
                "created_at": pd.to_datetime(self.created[idx], unit="s", utc=True),
                "downloads": self.d30[idx],
                "downloads_all_time": self.at[idx],
                "likes": self.likes[idx],
                "base_relation": rels,
                "base_models": [[self.ids[p] for p in self.parents(i)] for i in idx.tolist()],
            }
        )

    def attributed(self, families: list[dict]) -> pd.DataFrame:
        """THE TRUTH: every served descendant of every family (model_id, family, depth, relation,
        created_at, downloads, likes), from the generation order (parents always come first; the added
        cycle edges are known to change nothing)."""
        N, F = self.N, len(families)
        own = np.zeros((N, F), dtype=bool)
        for f, rule in enumerate(families):
            authors = set(rule["authors"])
            for i in np.flatnonzero(np.isin(self.author_of, list(authors))).tolist():
                own[i, f] = owns(rule, self.ids[i])
        fams = np.zeros((N, F), dtype=bool)
        depth = np.full((N, F), 127, dtype=np.int16)
        has_parent = np.diff(self.pptr) > 0
        real = self.te
        ec, ep = self.ec[real], self.ep[real]
        roots = ~has_parent
        fams[roots] = own[roots]
        depth[roots & own.any(axis=1)] = np.where(own[roots & own.any(axis=1)], 0, 127)
        # officials derived from officials, in creation order; then each generation in turn
        order = np.concatenate([np.flatnonzero((self.gen == 0) & has_parent)])
        order = order[np.argsort(self.created[order], kind="stable")]
        groups = [[i] for i in order.tolist()] + [np.flatnonzero(self.gen == g) for g in range(1, 7)]
        for grp in groups:
            grp = np.asarray(grp, dtype=np.int64)
            sel = np.isin(ec, grp)
            c, p = ec[sel], ep[sel]
            np.logical_or.at(fams, c, fams[p])
            np.minimum.at(depth, c, np.where(fams[p], depth[p] + 1, 127))
            hit = fams[grp] & own[grp]
            depth[grp] = np.where(hit, 0, depth[grp])
        rows = []
        for f, rule in enumerate(families):
            desc = np.flatnonzero(fams[:, f] & ~own[:, f] & self.served)
            rows.append(
                pd.DataFrame(
                    {
                        "model_id": self.ids[desc],
                        "family": rule["name"],
                        "depth": depth[desc, f],
                        "relation": [RELATIONS[r] if r >= 0 else None for r in self.rel[desc].tolist()],
                        "created_at": pd.to_datetime(self.created[desc], unit="s", utc=True),
                        "downloads": self.d30[desc],
                        "likes": self.likes[desc],
                    }
                )
            )
        return pd.concat(rows, ignore_index=True)

    def truth(self, families: list[dict]) -> pd.DataFrame:
        """Per family: descendants, direct, finetunes, adapters, quantizations, merges, max_depth,
        downloads and likes of the descendants."""
        a = self.attributed(families)
        out = []
        for rule in families:
            d = a[a.family == rule["name"]]
            row = {
                "family": rule["name"],
                "descendants": len(d),
                "direct": int((d.depth == 1).sum()),
                "max_depth": int(d.depth.max()) if len(d) else None,
                "descendants_downloads_30d": int(d.downloads.sum()),
                "descendants_likes": int(d.likes.sum()),
            }
            for r, col in zip(RELATIONS, ("finetunes", "adapters", "quantizations", "merges"), strict=True):
                row[col] = int((d.relation == r).sum())
            out.append(row)
        return pd.DataFrame(out)

    def new_derivatives(self, families: list[dict]) -> pd.DataFrame:
        """month (first day), family, new_derivatives: descendants created that month."""
        a = self.attributed(families)
        a["month"] = a.created_at.dt.tz_localize(None).dt.to_period("M").dt.start_time.dt.date
        return a.groupby(["month", "family"]).size().rename("new_derivatives").reset_index()

    # ------------------------------------------------------------------ serving (HubSim hook)
    def serve(self, kind: str, model_id: str | None, query: dict, raw_query: str, endpoint: str, page_size: int):
        """Answer a listing or model-info request: (status, body bytes, extra headers); see tree_serve."""
        from .tree_serve import serve

        return serve(self, kind, model_id, query, raw_query, endpoint, page_size)

    def __repr__(self) -> str:
        return f"TreeWorld(models={int(self.served.sum())}, seed={self.seed})"


def main(argv=None) -> None:
    from .tree_serve import main as serve_main

    serve_main(argv)


if __name__ == "__main__":
    main()
