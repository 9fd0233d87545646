"""The model tree of a whole-Hub census, and the attribution of every model to the families of its roots.

Pure functions over integer arrays (no I/O, no Hub): the census job keys every model id (and every
parent id that is not itself in the census) to a dense integer 0..n-1 and hands over the edges
child -> parent. Everything is vectorised with numpy (a 2-million-model tree is attributed in about
a second, see bench/census.py), so no Python loop runs per model.

Definitions (issue 14):
- a model's parents come from its `base_model:<relation>:<parent>` tags (or `baseModels`); a model
  with several parents is a merge of each; the relation of a model is that of its edges;
- a model's roots are its ancestors that have no parent, through any number of hops; a parent absent
  from the census is a root known by its id alone;
- a model is attributed to every family whose rules match one of its roots; a family's descendants
  are its attributed models that are not its own models (own = the family's rules match the model);
- depth = hops from the nearest own model of the family (1 = a direct child of an official model);
- self-references are dropped and counted; cycles (strongly connected groups of two or more models)
  are counted, never followed twice: a model reached only through a cycle with no root has no family.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

# The Hub's model-tree relations (tag and baseModels spelling) -> the tracker's column names.
RELATION_COLUMNS = {"finetune": "finetunes", "adapter": "adapters", "quantized": "quantizations", "merge": "merges"}
RELATIONS = tuple(RELATION_COLUMNS)  # codes 0..3 in the arrays below; -1 = no parent
_TAG = "base_model:"


def parse_parents(tags: Iterable[str] | None, base_models: dict | None = None) -> tuple[str | None, list[str]]:
    """(relation, parent ids) of one listing record, from `baseModels` when present, else from the
    `base_model:<relation>:<parent>` tags (`base_model:<parent>` alone names a parent of unknown relation)."""
    if isinstance(base_models, dict) and base_models.get("models"):
        named = base_models.get("relation")
        ids: list[str] = [
            m["id"] for m in base_models["models"] if isinstance(m, dict) and isinstance(m.get("id"), str)
        ]
        if ids:
            return (named if named in RELATION_COLUMNS else None), list(dict.fromkeys(ids))
    rel: str | None = None
    parents: list[str] = []
    plain: list[str] = []
    for tag in tags or ():
        if not isinstance(tag, str) or not tag.startswith(_TAG):
            continue
        rest = tag[len(_TAG) :]
        head, sep, tail = rest.partition(":")
        if sep and head in RELATION_COLUMNS and tail:
            rel = head
            if tail not in parents:
                parents.append(tail)
        elif rest and rest not in plain:
            plain.append(rest)
    for p in plain:  # parents named only by the plain tag
        if p not in parents:
            parents.append(p)
    return rel, parents


@dataclass(frozen=True)
class FamilyRule:
    """The part of a config family that decides ownership of a model id (config.Family duck-types it)."""

    name: str
    authors: tuple[str, ...]
    search: str | None = None
    include: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None

    def owns(self, model_id: str) -> bool:  # the same rules as config.Family.owns
        author, _, name = model_id.partition("/")
        if author not in self.authors:
            return False
        if self.search and self.search.lower() not in model_id.lower():
            return False
        if self.include is not None and not self.include.search(name):
            return False
        return not (self.exclude is not None and self.exclude.search(name))


def own_masks(ids: Sequence[str], authors: np.ndarray | None, families: Sequence) -> dict[str, np.ndarray]:
    """Per family, which of the n ids it owns. `families` are config.Family objects (or FamilyRule):
    their own `owns` decides, called only for ids whose author is one of the family's authors."""
    ids_arr = np.asarray(ids, dtype=object)
    if authors is None:
        authors = np.array([i.partition("/")[0] for i in ids_arr.tolist()], dtype=object)
    out = {}
    for fam in families:
        cand = np.flatnonzero(np.isin(authors, list(fam.authors)))
        mask = np.zeros(len(ids_arr), dtype=bool)
        if len(cand):
            mask[cand] = [fam.owns(m) for m in ids_arr[cand].tolist()]
        out[fam.name] = mask
    return out


@dataclass
class Tree:
    """Edges child -> parent over n dense node keys, with children in CSR form for downward walks."""

    n: int
    child: np.ndarray  # int64, self-references and duplicate edges removed
    parent: np.ndarray
    self_references: int = 0
    _indptr: np.ndarray = field(init=False, repr=False)  # set by build()
    _kids: np.ndarray = field(init=False, repr=False)

    @classmethod
    def build(cls, n: int, child: np.ndarray, parent: np.ndarray) -> Tree:
        child = np.asarray(child, dtype=np.int64)
        parent = np.asarray(parent, dtype=np.int64)
        if len(child) and (child.min() < 0 or parent.min() < 0 or max(child.max(), parent.max()) >= n):
            raise ValueError("edge keys must lie in 0..n-1")
        selfref = child == parent
        child, parent = child[~selfref], parent[~selfref]
        if len(child):
            packed = np.unique(parent * n + child)  # dedupe, sorted by parent then child
            parent, child = packed // n, packed % n
        t = cls(n=n, child=child, parent=parent, self_references=int(selfref.sum()))
        t._indptr = np.concatenate([[0], np.cumsum(np.bincount(parent, minlength=n))]).astype(np.int64)
        t._kids = child
        return t

    @property
    def has_parent(self) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        m[self.child] = True
        return m

    def children(self, nodes: np.ndarray) -> np.ndarray:
        """All children of the given nodes (with repeats), vectorised."""
        starts, ends = self._indptr[nodes], self._indptr[nodes + 1]
        lens = ends - starts
        total = int(lens.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64)
        offs = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
        return self._kids[np.arange(total, dtype=np.int64) + offs]

    def depths(self, sources: np.ndarray) -> np.ndarray:
        """Breadth-first hops from the nearest source (boolean mask) down the tree; -1 = not reached.
        Each node is visited once, so cycles end the walk instead of looping."""
        depth = np.full(self.n, -1, dtype=np.int32)
        frontier = np.flatnonzero(sources)
        depth[frontier] = 0
        d = 0
        while len(frontier):
            d += 1
            kids = self.children(frontier)
            kids = kids[depth[kids] < 0]
            depth[kids] = d
            # the new frontier without repeats: a scan beats a sort once it is a sizeable share of n
            frontier = np.flatnonzero(depth == d) if len(kids) > self.n // 32 else np.unique(kids)
        return depth

    def cycles(self) -> tuple[int, int]:
        """(number of cycles, models on them): strongly connected groups of two or more models."""
        if not len(self.child):
            return 0, 0
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        # only nodes with both a parent and a child can lie on a cycle: a much smaller graph
        inner = self.has_parent & (np.diff(self._indptr) > 0)
        keep = inner[self.child] & inner[self.parent]
        c, p = self.child[keep], self.parent[keep]
        if not len(c):
            return 0, 0
        nodes, inv = np.unique(np.concatenate([c, p]), return_inverse=True)
        m = len(nodes)
        g = csr_matrix((np.ones(len(c), dtype=np.int8), (inv[: len(c)], inv[len(c) :])), shape=(m, m))
        _k, labels = connected_components(g, directed=True, connection="strong")
        sizes = np.bincount(labels)
        big = sizes >= 2
        return int(big.sum()), int(sizes[big].sum())


@dataclass
class Attribution:
    """Per family: its descendants (node keys, sorted) and their depths; plus the tree's awkward cases."""

    members: dict[str, np.ndarray]  # family -> keys of descendants
    depth: dict[str, np.ndarray]  # family -> depth of each descendant (same order)
    families_of: np.ndarray  # per node: number of families it is a descendant of
    roots: int
    cycles: int
    models_in_cycles: int
    self_references: int
    unrooted: int  # models with a parent whose ancestry never reaches a root (only cycles above them)


def attribute(tree: Tree, own: dict[str, np.ndarray]) -> Attribution:
    """Attribute every node to the families (own masks) whose own models are among its roots."""
    root = ~tree.has_parent
    members, depths = {}, {}
    count = np.zeros(tree.n, dtype=np.int16)
    for fam, mine in own.items():
        first = tree.depths(mine & root)
        reach = first >= 0  # everything below one of the family's roots
        # hops from the nearest own model that is itself attributed (a second walk only when an own
        # model below a root restarts the count)
        d = tree.depths(mine & reach) if (mine & reach & ~root).any() else first
        desc = np.flatnonzero(reach & ~mine)
        members[fam] = desc
        depths[fam] = d[desc].astype(np.int16)
        count[desc] += 1
    rooted = tree.depths(root) >= 0
    n_cycles, on_cycles = tree.cycles()
    return Attribution(
        members=members,
        depth=depths,
        families_of=count,
        roots=int(root.sum()),
        cycles=n_cycles,
        models_in_cycles=on_cycles,
        self_references=tree.self_references,
        unrooted=int((~rooted).sum()),
    )
