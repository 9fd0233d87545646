"""Generation of the tree world (see tree.py): official models, community bases, unrelated models and six
generations of derivatives, then the cases every world has (a deep chain, children of dangling parents,
cycles, self-references), and the served metric arrays. One seeded generator, drawn in a fixed order.

Per-model values are numpy arrays indexed by model; the parent edges (``ec`` child -> ``ep`` parent,
``te`` False for the added cycle / self-reference edges) are sorted by child, ``pptr`` indexing them.
"""

from __future__ import annotations

import numpy as np

from . import catalog as cat
from .timefmt import DAY, to_epoch
from .tree_catalog import AD, COMMUNITY_BASES, FT, GENERATIONS, LICENSES, ME, ORGS, QU, UNRELATED


class TreePopulation:
    """The generated models of a tree world; ``TreeWorld`` adds the truth and the serving hook."""

    def __init__(
        self,
        models: int = 20_000,
        seed: int = 0,
        now="2026-12-01T00:00:00Z",
        cycles: int | None = None,
        dangling: int | None = None,
    ):
        self.seed = int(seed)
        self._now = to_epoch(now)
        self._build(int(models), np.random.default_rng(self.seed), cycles, dangling)

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
            lo, hi = to_epoch(first), min(to_epoch(last), now - 30 * DAY)
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
            rng.integers(to_epoch("2022-06-01"), now - 60 * DAY, n_base),
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
            dang_names,
            rng.integers(to_epoch("2023-06-01"), to_epoch("2024-06-01"), n_dang),
            0,
            -1,
            0,
            np.full(n_dang, 2.0),
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
            rng.integers(to_epoch("2022-03-02"), now - DAY, n_unrel),
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
        self.ids = np.array(ids, dtype=object)
        self.created = np.concatenate(created)
        self.gen = np.concatenate(gen)
        self.rel = np.concatenate(rel)
        self.prof = np.concatenate(prof)
        ec, ep, te = np.concatenate(e_child), np.concatenate(e_parent), np.concatenate(true_edge)
        k = n_cycles if n_cycles is not None else max(3, self.N // 400_000)
        # (a) pairs of models naming each other, with no other parent: no root, no family
        loops = [f"loopy{j}/ouroboros-{ab}-{j}" for j in range(k) for ab in "ab"]
        ia = np.arange(self.N, self.N + 2 * k, 2)
        self._append(loops, c0=rng.integers(to_epoch("2024-01-01"), now - DAY, 2 * k), gen=1, rel=FT, prof=0)
        ec = np.concatenate([ec, ia, ia + 1])
        ep = np.concatenate([ep, ia + 1, ia])
        te = np.concatenate([te, np.zeros(2 * k, dtype=bool)])
        self.orphan_cycle_models = loops
        # (b) back edges: a fine-tune B whose only parent is A (a fine-tune) becomes A's parent too
        single = np.bincount(ec, minlength=self.N) == 1
        cand_b = np.flatnonzero(single & (self.rel == FT) & (self.gen >= 2))
        pb = np.full(self.N, -1, dtype=np.int64)
        pb[ec] = ep
        cand_b = cand_b[(pb[cand_b] >= 0)]
        cand_b = cand_b[(self.rel[pb[cand_b]] == FT) & single[pb[cand_b]]]
        back = rng.choice(cand_b, min(k, len(cand_b)), replace=False) if len(cand_b) else np.zeros(0, np.int64)
        ec = np.concatenate([ec, pb[back]])
        ep = np.concatenate([ep, back])
        te = np.concatenate([te, np.zeros(len(back), dtype=bool)])
        self.back_edges = [(self.ids[pb[b]], self.ids[b]) for b in back]
        # (c) self-references: a fine-tune that also names itself as its base
        sref = rng.choice(np.flatnonzero((self.rel == FT) & (self.gen >= 1)), k, replace=False)
        ec = np.concatenate([ec, sref])
        ep = np.concatenate([ep, sref])
        te = np.concatenate([te, np.zeros(k, dtype=bool)])
        self.self_references = [self.ids[s] for s in sref]
        self.cycles = k + len(back)  # two-model loops plus back edges (each closes one cycle)

        # ---- served arrays
        N = self.N
        order = np.argsort(ec, kind="stable")
        self.ec, self.ep, self.te = ec[order], ep[order], te[order]
        self.pptr = np.concatenate([[0], np.cumsum(np.bincount(self.ec, minlength=N))])
        self.served = np.ones(N, dtype=bool)
        self.served[dangling] = False
        self.author_of = np.array([i.split("/", 1)[0] for i in ids + loops], dtype=object)
        lam = rng.lognormal(2.0, 2.4, N)
        lam[rng.random(N) < 0.35] = 0
        lam[:n_off] *= 400
        self.d30 = lam.astype(np.int64)
        age = np.maximum((now - self.created) / DAY, 1)
        self.at = self.d30 + (lam * age / 30 * rng.uniform(0.3, 1.5, N)).astype(np.int64)
        self.likes = (rng.lognormal(0, 1.6, N) * (self.d30 > 0)).astype(np.int64)
        self.likes[:n_off] *= 50
        self.trending = (self.likes * rng.random(N) * 0.1).astype(np.int64)
        self.params = np.exp(rng.normal(np.log(4e9), 1.2, N)).astype(np.int64)
        self.gated = np.where(rng.random(N) < 0.02, rng.integers(1, 3, N), 0).astype(np.int8)
        self.gated[:n_off] = np.where(np.char.startswith(self.ids[:n_off].astype(str), "meta-llama/"), 2, 0)
        self.license = rng.integers(0, len(LICENSES), N).astype(np.int8)
        self.oid_lo = (rng.integers(0, 2**40, N, dtype=np.uint64) << np.uint64(24)) | (
            np.arange(N, dtype=np.uint64) & np.uint64(0xFFFFFF)
        )
        self.created_strs = None

    def _append(self, names, c0, gen, rel, prof):
        k = len(names)
        self.ids = np.concatenate([self.ids, np.array(names, dtype=object)])
        self.created = np.concatenate([self.created, np.asarray(c0, dtype=np.int64)])
        self.gen = np.concatenate([self.gen, np.full(k, gen, dtype=np.int8)])
        self.rel = np.concatenate([self.rel, np.full(k, rel, dtype=np.int8)])
        self.prof = np.concatenate([self.prof, np.full(k, prof, dtype=np.int8)])
        self.N += k
