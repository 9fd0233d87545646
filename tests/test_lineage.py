"""tracker.lineage on a tree small enough to work out by hand (every awkward case of issue 14)."""

from __future__ import annotations

import re

import numpy as np

from tracker.lineage import FamilyRule, Tree, attribute, own_masks, parse_parents

# key: (model id, parents)
MODELS = {
    0: ("meta-llama/L", []),  # llama root
    1: ("Qwen/Q", []),  # qwen root
    2: ("Qwen/Q-Instruct", [1]),  # qwen's own model with a parent: not a descendant
    3: ("a/ft1", [0]),  # llama, depth 1
    4: ("b/ft2", [3]),  # llama, depth 2
    5: ("c/ft3", [4]),  # llama, depth 3
    6: ("d/ft4", [5]),  # llama, depth 4 (a deep chain)
    7: ("e/merge", [4, 2]),  # merge across families: llama depth 3, qwen depth 1
    8: ("f/merge-GGUF", [7]),  # quantization of the merge: llama 4, qwen 2
    9: ("x/loop1", [10]),  # a cycle with no root: no family
    10: ("x/loop2", [9]),
    11: ("g/self", [1, 11]),  # self-reference (dropped, counted): qwen depth 1
    12: ("meta-llama/Gone", []),  # dangling parent (not listed): a llama root by its id
    13: ("h/orphan-ft", [12]),  # llama depth 1
    14: ("z/unrelated", []),  # no parent, no family
    15: ("ghost/base", []),  # dangling parent of no family
    16: ("k/ft", [15]),  # no family
    17: ("z/another", []),
    18: ("m/ftA", [1, 19]),  # back edge: A names its own child B as a parent too
    19: ("n/ftB", [18]),  # qwen depth 2
}
FAMILIES = [FamilyRule("llama", ("meta-llama",)), FamilyRule("qwen", ("Qwen",), include=re.compile("^Q"))]


def _attribution():
    child = [c for c, (_, ps) in MODELS.items() for _p in ps]
    parent = [p for _c, (_, ps) in MODELS.items() for p in ps]
    tree = Tree.build(len(MODELS), np.array(child), np.array(parent))
    own = own_masks([MODELS[k][0] for k in range(len(MODELS))], None, FAMILIES)
    return attribute(tree, own)


def test_attribution_by_hand():
    a = _attribution()
    got = {f: dict(zip(a.members[f].tolist(), a.depth[f].tolist(), strict=True)) for f in a.members}
    assert got["llama"] == {3: 1, 4: 2, 5: 3, 6: 4, 7: 3, 8: 4, 13: 1}
    assert got["qwen"] == {7: 1, 8: 2, 11: 1, 18: 1, 19: 2}
    assert np.flatnonzero(a.families_of > 1).tolist() == [7, 8]  # counted for both, and flagged
    assert (a.cycles, a.models_in_cycles, a.self_references, a.unrooted) == (2, 4, 1, 2)
    assert a.roots == 6  # 0, 1, 12, 14, 15, 17
    for f in ("llama", "qwen"):  # no family for the rootless cycle, the unrelated model, ghost's line
        assert not {9, 10, 14, 15, 16, 17} & set(a.members[f].tolist())


def test_family_rules_decide_ownership():
    own = own_masks(["Qwen/Q", "Qwen/other", "qwen/Q", "x/Q"], None, FAMILIES)
    assert own["qwen"].tolist() == [True, False, False, False]  # include ^Q; authors are case-sensitive


def test_parse_parents_tags_and_base_models():
    tags = ["transformers", "base_model:org/a", "base_model:merge:org/a", "base_model:merge:org/b", "license:mit"]
    assert parse_parents(tags) == ("merge", ["org/a", "org/b"])
    assert parse_parents(["base_model:org/plain"]) == (None, ["org/plain"])
    assert parse_parents(["gguf"]) == (None, [])
    bm = {"relation": "quantized", "models": [{"_id": "x", "id": "org/c"}]}
    assert parse_parents(tags, bm) == ("quantized", ["org/c"])  # baseModels wins where present
    assert parse_parents(None, None) == (None, [])


def test_no_loop_on_a_long_cycle():
    n = 5000
    child = np.arange(n)
    parent = (np.arange(n) + 1) % n  # one cycle through every model
    a = attribute(Tree.build(n, child, parent), {"f": np.zeros(n, dtype=bool)})
    assert (a.cycles, a.models_in_cycles, a.unrooted, a.roots) == (1, n, n, 0)
