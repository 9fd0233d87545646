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

import json
import re
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from . import catalog as cat

DAY = 86400
RELATIONS = ("finetune", "adapter", "quantized", "merge")  # codes 0..3, -1 = none (the Hub's spelling)
FT, AD, QU, ME = range(4)
GATED = ("false", '"auto"', '"manual"')  # JSON fragments

# org -> (official models, [(name stem, share)], first release, last release, attractiveness)
ORGS = {
    "meta-llama": (70, [("Llama-3.1", 0.5), ("Llama-2", 0.5)], "2023-07-18", "2025-04-05", 13.0),
    "Qwen": (400, [("Qwen2.5", 0.6), ("Qwen3", 0.4)], "2023-08-03", "2026-11-02", 9.0),
    "deepseek-ai": (80, [("DeepSeek-V3", 1.0)], "2023-11-02", "2026-06-01", 3.0),
    "mistralai": (50, [("Mistral", 1.0)], "2023-09-27", "2026-03-01", 3.0),
    "google": (600, [("gemma-2", 0.25), ("t5", 0.4), ("vit", 0.35)], "2022-03-02", "2026-08-01", 1.5),
    "xai-org": (4, [("grok", 1.0)], "2024-03-17", "2025-08-23", 1.0),
    "HuggingFaceTB": (100, [("SmolLM2", 0.4), ("cosmo", 0.6)], "2024-07-16", "2026-05-01", 1.5),
    "bigcode": (60, [("starcoder2", 0.35), ("santacoder", 0.65)], "2023-05-04", "2024-10-01", 0.8),
    "bigscience": (80, [("bloom", 0.4), ("T0", 0.6)], "2022-03-02", "2022-12-01", 0.6),
}
# share of all models per generation of derivatives (1 = a child of a root)
GENERATIONS = (0.27, 0.13, 0.06, 0.025, 0.01, 0.005)
UNRELATED = 0.45  # models with no parent and (almost) no child
COMMUNITY_BASES = 0.002  # community base models (roots in no family)

# profile: (tags before the base_model tags, tags after, pipeline, library, safetensors)
PROFILES = [
    (
        ["transformers", "safetensors", "llama", "text-generation", "conversational"],
        ["endpoints_compatible", "region:us"],
        "text-generation",
        "transformers",
        True,
    ),  # 0 base / finetune
    (["peft", "safetensors"], ["region:us"], "text-generation", "peft", True),  # 1 adapter
    (["gguf"], ["endpoints_compatible", "region:us", "conversational"], None, "gguf", False),  # 2 gguf
    (["transformers", "safetensors", "4-bit", "awq"], ["region:us"], "text-generation", "transformers", True),  # 3 awq
    (["transformers", "safetensors", "mergekit", "merge"], ["region:us"], "text-generation", "transformers", True),  # 4
    (
        ["transformers", "pytorch", "bert", "text-classification"],
        ["endpoints_compatible", "region:us"],
        "text-classification",
        "transformers",
        False,
    ),  # 5 unrelated
    (["diffusers", "safetensors", "text-to-image", "lora"], ["region:us"], "text-to-image", "diffusers", True),  # 6
    (
        ["stable-baselines3", "reinforcement-learning"],
        ["region:us"],
        "reinforcement-learning",
        "stable-baselines3",
        False,
    ),  # 7
    (
        ["sentence-transformers", "safetensors", "feature-extraction"],
        ["region:us"],
        "feature-extraction",
        "sentence-transformers",
        True,
    ),  # 8
]
_PREFIX = [",".join(json.dumps(t) for t in p[0]) for p in PROFILES]
_SUFFIX = [",".join(json.dumps(t) for t in p[1]) for p in PROFILES]
LICENSES = ["apache-2.0", "mit", "llama3.1", "gemma", "other"]


def _epoch(value) -> int:
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def _owns(rule: dict, model_id: str) -> bool:
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


class TreeWorld:
    """A frozen whole Hub with a model tree (see the module docstring). Served by HubSim."""

    def __init__(
        self,
        models: int = 20_000,
        seed: int = 0,
        now="2026-12-01T00:00:00Z",
        cycles: int | None = None,
        dangling: int | None = None,
    ):
        self.seed = int(seed)
        self._now = _epoch(now)
        self._listing: dict = {}  # listing orders, by (sort, author, search): see tree_serve
        self._build(int(models), np.random.default_rng(self.seed), cycles, dangling)

    # the clock interface HubSim uses (the tree world is frozen)
    @property
    def now_epoch(self) -> int:
        return self._now

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self._now, tz=UTC)

    def set_time(self, when) -> None:  # a frozen world: the clock does not move what is served
        pass

    # ------------------------------------------------------------------ generation
    def _build(self, n_total: int, rng, n_cycles, n_dangling) -> None:
        now = self._now
        ids: list[str] = []
        created: list[np.ndarray] = []
        gen: list[np.ndarray] = []
        rel: list[np.ndarray] = []
        prof: list[np.ndarray] = []
        weight: list[np.ndarray] = []
        e_child: list[np.ndarray] = []
        e_parent: list[np.ndarray] = []
        true_edge: list[np.ndarray] = []  # False for the cycle / self-reference edges added afterwards

        def add(names, c, g, r, p, w):
            start = len(ids)
            ids.extend(names)
            created.append(np.asarray(c, dtype=np.int64))
            gen.append(np.full(len(names), g, dtype=np.int8))
            rel.append(np.asarray(r, dtype=np.int8) if np.ndim(r) else np.full(len(names), r, dtype=np.int8))
            prof.append(np.asarray(p, dtype=np.int8) if np.ndim(p) else np.full(len(names), p, dtype=np.int8))
            weight.append(np.asarray(w, dtype=np.float64))
            return np.arange(start, start + len(names))

        def link(children, parents, real=True):
            e_child.append(np.asarray(children, dtype=np.int64))
            e_parent.append(np.asarray(parents, dtype=np.int64))
            true_edge.append(np.full(len(children), real, dtype=bool))

        # ---- official models (some derived from an earlier official model of the same org and stem)
        off_idx, off_stem = [], []
        for org, (count, stems, first, last, attract) in ORGS.items():
            lo, hi = _epoch(first), min(_epoch(last), now - 30 * DAY)
            shares = np.array([s for _, s in stems])
            per = rng.multinomial(count, shares / shares.sum())
            for (stem, _), k in zip(stems, per, strict=True):
                if k == 0:
                    continue
                c = np.sort(rng.integers(lo, max(hi, lo + 1), k))
                names = [f"{org}/{stem}-{j}b-v{j % 7}" for j in range(k)]
                w = attract * rng.pareto(1.2, k) + attract * 0.1
                idx = add(names, c, 0, -1, 0, w)
                off_idx.append(idx)
                off_stem.append(idx)
                derived = np.flatnonzero(rng.random(k) < 0.3)
                derived = derived[derived > 0]
                if len(derived):  # e.g. an -Instruct model whose base is the org's earlier model
                    par = (rng.random(len(derived)) * derived).astype(np.int64)
                    link(idx[derived], idx[par])
                    rel[-1][derived] = FT
        n_off = len(ids)

        # ---- community bases (roots of no family), unrelated models, dangling parents
        n_base = max(5, int(n_total * COMMUNITY_BASES))
        bases = add(
            [f"community{j % 97}/base-model-{j}" for j in range(n_base)],
            rng.integers(_epoch("2022-06-01"), now - 60 * DAY, n_base),
            0,
            -1,
            0,
            0.5 * rng.pareto(1.3, n_base) + 0.05,
        )
        n_dang = n_dangling if n_dangling is not None else max(6, n_total // 50_000)
        dang_names = []
        fam_orgs = ["meta-llama", "Qwen", "google"]
        for j in range(n_dang):
            if j % 2 == 0:
                org = fam_orgs[(j // 2) % 3]
                stem = {"meta-llama": "Llama-2", "Qwen": "Qwen2.5", "google": "gemma-2"}[org]
                dang_names.append(f"{org}/{stem}-removed-{j}")
            else:
                dang_names.append(f"ghost{j}/deleted-base-{j}")
        dangling = add(
            dang_names, rng.integers(_epoch("2023-06-01"), _epoch("2024-06-01"), n_dang), 0, -1, 0, np.full(n_dang, 2.0)
        )

        n_der_total = int(n_total * sum(GENERATIONS) / (sum(GENERATIONS) + UNRELATED))
        n_unrel = max(0, n_total - n_off - n_base - n_der_total - 4 * (n_cycles or 0))
        pool = cat.SYLLABLES
        n_auth = max(50, n_total // 40)
        a = rng.integers(0, len(pool), (n_auth, 3))
        authors = [
            pool[x] + pool[y] + pool[z] + (str(k) if k % 3 == 0 else "") for k, (x, y, z) in enumerate(a.tolist())
        ]
        famous = list(cat.FAMOUS_QUANTIZERS) + list(cat.FAMOUS_TUNERS)
        authors = famous + authors

        def author_names(k):
            return (rng.zipf(1.5, k) - 1) % len(authors)

        upick = rng.choice([5, 6, 7, 8], n_unrel, p=[0.4, 0.3, 0.15, 0.15])
        ua = author_names(n_unrel).tolist()
        add(
            [
                f"{authors[x]}/{['clf', 'sd-lora', 'ppo-agent', 'embed'][p - 5]}-{j}"
                for j, (x, p) in enumerate(zip(ua, upick.tolist(), strict=True))
            ],
            rng.integers(_epoch("2022-03-02"), now - DAY, n_unrel),
            0,
            -1,
            upick,
            np.zeros(n_unrel),
        )

        # ---- derivatives, generation by generation
        cand = np.concatenate([*off_idx, bases, dangling])
        cat_created = lambda: np.concatenate(created)  # noqa: E731
        cat_w = lambda: np.concatenate(weight)  # noqa: E731
        cat_rel = lambda: np.concatenate(rel)  # noqa: E731
        per_gen = np.array(GENERATIONS) / sum(GENERATIONS) * n_der_total
        prev = cand
        suffix = {FT: cat.TUNE_SUFFIX, AD: cat.ADAPTER_SUFFIX, QU: cat.QUANT_SUFFIX, ME: cat.MERGE_SUFFIX}
        for g, k in enumerate(per_gen.astype(int).tolist(), start=1):
            if k <= 0 or not len(prev):
                break
            w_all, c_all, r_all = cat_w(), cat_created(), cat_rel()
            pc = prev
            # mostly children of the previous generation, some of any earlier one
            if g >= 2:
                older = np.flatnonzero((w_all > 0) & (np.concatenate(gen) < g - 1))
                pc = np.concatenate([prev, older])
            pw = w_all[pc] * np.where(np.concatenate(gen)[pc] == g - 1, 1.0, 0.15)
            pw = pw / pw.sum()
            first = pc[rng.choice(len(pc), k, p=pw)]
            pr = r_all[first]
            u = rng.random(k)
            # quantizations of fine-tunes are common; adapters and quantizations rarely get children
            r = np.where(u < 0.38, FT, np.where(u < 0.53, AD, np.where(u < 0.90, QU, ME))).astype(np.int8)
            r[(pr == FT) & (rng.random(k) < 0.25)] = QU
            p_of = np.where(
                r == FT, 0, np.where(r == AD, 1, np.where(r == ME, 4, np.where(rng.random(k) < 0.7, 2, 3)))
            ).astype(np.int8)
            start = c_all[first]
            merge = np.flatnonzero(r == ME)
            second = pc[rng.choice(len(pc), len(merge), p=pw)]  # a parent anywhere: often another family
            ok = second != first[merge]
            third_pick = merge[ok][rng.random(int(ok.sum())) < 0.15]
            third = pc[rng.choice(len(pc), len(third_pick), p=pw)]
            r[merge[~ok]] = FT
            p_of[merge[~ok]] = 0
            start[merge[ok]] = np.maximum(start[merge[ok]], c_all[second[ok]])
            start[third_pick] = np.maximum(start[third_pick], c_all[third])
            span = np.maximum(now - DAY - start, DAY)
            c = start + (span * rng.random(k) ** 2.2).astype(np.int64) + 60
            auth = author_names(k)
            quant = r == QU
            famous_q = quant & (rng.random(k) < 0.4)  # TheBloke, bartowski, ... make many quantizations
            auth[famous_q] = rng.integers(0, len(cat.FAMOUS_QUANTIZERS), int(famous_q.sum()))
            base_names = [ids[i].split("/", 1)[1][:28] for i in first.tolist()]
            sfx = rng.integers(0, 10_000, k)
            names = [
                f"{authors[x]}/{b}-{suffix[int(rr)][s % len(suffix[int(rr)])]}-g{g}n{j}"
                for j, (x, b, rr, s) in enumerate(zip(auth.tolist(), base_names, r.tolist(), sfx.tolist(), strict=True))
            ]
            w = rng.pareto(1.2, k) * np.where(r == FT, 1.0, np.where(r == ME, 0.6, 0.03))
            if g == len(GENERATIONS):
                w[:] = 0  # the last generation has no children: depth stays within six
            idx = add(names, c, g, r, p_of, w)
            link(idx, first)
            link(idx[merge[ok]], second[ok])
            link(idx[third_pick], third)
            prev = idx

        # ---- cases every world has, whatever its size: a chain six deep below a Qwen model (with a
        # merge into Llama on the way), and a child of every dangling parent
        ofs = {
            org: np.concatenate([i for i in off_idx if ids[i[0]].startswith(org + "/")])
            for org in ("Qwen", "meta-llama")
        }
        c_all = np.concatenate(created)
        parent = int(ofs["Qwen"][0])
        t = max(int(c_all[parent]), int(c_all[ofs["meta-llama"][0]])) + DAY
        for g, (code, pick) in enumerate([(FT, 0), (FT, 0), (ME, 4), (FT, 0), (FT, 0), (QU, 2)], start=1):
            t += 3 * DAY
            step = f"deep-chain/step{g}-{ids[parent].split('/', 1)[1][:20]}"
            (c,) = add([step], [min(t, now - DAY)], g, code, pick, [0.0])
            link([c], [parent])
            if code == ME:
                link([c], [int(ofs["meta-llama"][0])])
            parent = int(c)
        kids = add(
            [f"orphan-tuner/{ids[d].split('/', 1)[1]}-sft" for d in dangling.tolist()],
            np.concatenate(created)[dangling] + 30 * DAY,
            1,
            FT,
            0,
            np.zeros(len(dangling)),
        )
        link(kids, dangling)

        # ---- cycles and self-references (added edges that change no attribution)
        self.N = len(ids)
        self._ids = np.array(ids, dtype=object)
        self._created = np.concatenate(created)
        self._gen = np.concatenate(gen)
        self._rel = np.concatenate(rel)
        self._prof = np.concatenate(prof)
        ec, ep, te = np.concatenate(e_child), np.concatenate(e_parent), np.concatenate(true_edge)
        k = n_cycles if n_cycles is not None else max(3, self.N // 400_000)
        # (a) pairs of models naming each other, with no other parent: no root, no family
        loops = [f"loopy{j}/ouroboros-{ab}-{j}" for j in range(k) for ab in "ab"]
        ia = np.arange(self.N, self.N + 2 * k, 2)
        self._append(loops, c0=rng.integers(_epoch("2024-01-01"), now - DAY, 2 * k), gen=1, rel=FT, prof=0)
        ec = np.concatenate([ec, ia, ia + 1])
        ep = np.concatenate([ep, ia + 1, ia])
        te = np.concatenate([te, np.zeros(2 * k, dtype=bool)])
        self.orphan_cycle_models = loops
        # (b) back edges: a fine-tune B whose only parent is A (a fine-tune) becomes A's parent too
        single = np.bincount(ec, minlength=self.N) == 1
        cand_b = np.flatnonzero(single & (self._rel == FT) & (self._gen >= 2))
        pb = np.full(self.N, -1, dtype=np.int64)
        pb[ec] = ep
        cand_b = cand_b[(pb[cand_b] >= 0)]
        cand_b = cand_b[(self._rel[pb[cand_b]] == FT) & single[pb[cand_b]]]
        back = rng.choice(cand_b, min(k, len(cand_b)), replace=False) if len(cand_b) else np.zeros(0, np.int64)
        ec = np.concatenate([ec, pb[back]])
        ep = np.concatenate([ep, back])
        te = np.concatenate([te, np.zeros(len(back), dtype=bool)])
        self.back_edges = [(self._ids[pb[b]], self._ids[b]) for b in back]
        # (c) self-references: a fine-tune that also names itself as its base
        sref = rng.choice(np.flatnonzero((self._rel == FT) & (self._gen >= 1)), k, replace=False)
        ec = np.concatenate([ec, sref])
        ep = np.concatenate([ep, sref])
        te = np.concatenate([te, np.zeros(k, dtype=bool)])
        self.self_references = [self._ids[s] for s in sref]
        self.cycles = k + len(back)  # two-model loops plus back edges (each closes one cycle)

        # ---- served arrays
        N = self.N
        order = np.argsort(ec, kind="stable")
        self._ec, self._ep, self._te = ec[order], ep[order], te[order]
        self._pptr = np.concatenate([[0], np.cumsum(np.bincount(self._ec, minlength=N))])
        self._served = np.ones(N, dtype=bool)
        self._served[dangling] = False
        self._author_of = np.array([i.split("/", 1)[0] for i in ids + loops], dtype=object)
        lam = rng.lognormal(2.0, 2.4, N)
        lam[rng.random(N) < 0.35] = 0
        lam[:n_off] *= 400
        self._d30 = lam.astype(np.int64)
        age = np.maximum((now - self._created) / DAY, 1)
        self._at = self._d30 + (lam * age / 30 * rng.uniform(0.3, 1.5, N)).astype(np.int64)
        self._likes = (rng.lognormal(0, 1.6, N) * (self._d30 > 0)).astype(np.int64)
        self._likes[:n_off] *= 50
        self._trending = (self._likes * rng.random(N) * 0.1).astype(np.int64)
        self._params = np.exp(rng.normal(np.log(4e9), 1.2, N)).astype(np.int64)
        self._gated = np.where(rng.random(N) < 0.02, rng.integers(1, 3, N), 0).astype(np.int8)
        self._gated[:n_off] = np.where(np.char.startswith(self._ids[:n_off].astype(str), "meta-llama/"), 2, 0)
        self._license = rng.integers(0, len(LICENSES), N).astype(np.int8)
        self._oid_lo = (rng.integers(0, 2**40, N, dtype=np.uint64) << np.uint64(24)) | (
            np.arange(N, dtype=np.uint64) & np.uint64(0xFFFFFF)
        )
        self._cstr = None

    def _append(self, names, c0, gen, rel, prof):
        k = len(names)
        self._ids = np.concatenate([self._ids, np.array(names, dtype=object)])
        self._created = np.concatenate([self._created, np.asarray(c0, dtype=np.int64)])
        self._gen = np.concatenate([self._gen, np.full(k, gen, dtype=np.int8)])
        self._rel = np.concatenate([self._rel, np.full(k, rel, dtype=np.int8)])
        self._prof = np.concatenate([self._prof, np.full(k, prof, dtype=np.int8)])
        self.N += k

    # ------------------------------------------------------------------ truth
    def parents(self, i: int, *, real_only: bool = False) -> list[int]:
        lo, hi = self._pptr[i], self._pptr[i + 1]
        ps = self._ep[lo:hi]
        if real_only:
            ps = ps[self._te[lo:hi]]
        return ps.tolist()

    def snapshot(self) -> pd.DataFrame:
        """Every served model: id, author, created_at, downloads, downloads_all_time, likes, base_relation,
        base_models (ids, dangling ones included)."""
        idx = np.flatnonzero(self._served)
        rels = [RELATIONS[r] if r >= 0 else None for r in self._rel[idx].tolist()]
        return pd.DataFrame(
            {
                "id": self._ids[idx],
                "author": self._author_of[idx],
                "created_at": pd.to_datetime(self._created[idx], unit="s", utc=True),
                "downloads": self._d30[idx],
                "downloads_all_time": self._at[idx],
                "likes": self._likes[idx],
                "base_relation": rels,
                "base_models": [[self._ids[p] for p in self.parents(i)] for i in idx.tolist()],
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
            for i in np.flatnonzero(np.isin(self._author_of, list(authors))).tolist():
                own[i, f] = _owns(rule, self._ids[i])
        fams = np.zeros((N, F), dtype=bool)
        depth = np.full((N, F), 127, dtype=np.int16)
        has_parent = np.diff(self._pptr) > 0
        real = self._te
        ec, ep = self._ec[real], self._ep[real]
        roots = ~has_parent
        fams[roots] = own[roots]
        depth[roots & own.any(axis=1)] = np.where(own[roots & own.any(axis=1)], 0, 127)
        # officials derived from officials, in creation order; then each generation in turn
        order = np.concatenate([np.flatnonzero((self._gen == 0) & has_parent)])
        order = order[np.argsort(self._created[order], kind="stable")]
        groups = [[i] for i in order.tolist()] + [np.flatnonzero(self._gen == g) for g in range(1, 7)]
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
            desc = np.flatnonzero(fams[:, f] & ~own[:, f] & self._served)
            rows.append(
                pd.DataFrame(
                    {
                        "model_id": self._ids[desc],
                        "family": rule["name"],
                        "depth": depth[desc, f],
                        "relation": [RELATIONS[r] if r >= 0 else None for r in self._rel[desc].tolist()],
                        "created_at": pd.to_datetime(self._created[desc], unit="s", utc=True),
                        "downloads": self._d30[desc],
                        "likes": self._likes[desc],
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
        return f"TreeWorld(models={int(self._served.sum())}, seed={self.seed})"


def main(argv=None) -> None:
    from .tree_serve import main as serve_main

    serve_main(argv)


if __name__ == "__main__":
    main()
