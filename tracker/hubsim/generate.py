"""Generation of the world's population: every model's id, author, creation time, relation, profile,
license, gating, download and likes parameters, edges to its parents, deletions and renames, drawn
from one seeded generator in a fixed order (the same seed gives the same world).

Per-model values are numpy arrays indexed by model (0..N-1): official models first, then community
derivatives, then unrelated models, then injected ones (``World.add_model``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np

from . import catalog as cat
from .curves import calibrate_downloads
from .derivatives import density_times, gen_derivatives
from .profiles import make_profile
from .timefmt import DAY, NEVER, to_dt, to_epoch

LEGACY_CREATED = 1646263744  # 2022-03-02T23:29:04Z: every repo older than createdAt tracking carries it
RELATIONS = ("adapter", "merge", "quantized", "finetune")  # codes 0..3; -1 = root
GATED = (False, "auto", "manual")


class Population:
    """The generated models of a seeded world (see the module docstring); ``World`` adds the clock."""

    #: First UTC day on which Qwen's summed 30-day downloads (its official models) exceed meta-llama's.
    DOWNLOADS_CROSSOVER_DAY = date(2026, 8, 17)
    #: Instant the (continuous) download curves are calibrated to cross: two minutes into that day.
    DOWNLOADS_CROSSOVER_TARGET = datetime(2026, 8, 17, 0, 2, 0, tzinfo=UTC)
    #: Date the derivative-count densities are calibrated to cross (the realised day is
    #: ``world.derivatives_crossover_day``, computed from the truth; 2025-02-xx for the default world).
    DERIVATIVES_CROSSOVER_TARGET = date(2025, 2, 10)
    #: The world's timeline is built around this instant, never around ``now``: a seed gives the same
    #: world whatever date the clock starts at (``--date`` only moves the clock).
    ANCHOR = datetime(2026, 8, 1, tzinfo=UTC)

    def __init__(self, seed: int = 0, models: int = 20_000, official: dict | None = None, horizon_days: int = 90):
        self.seed = int(seed)
        self._rng = np.random.default_rng(self.seed)
        self.official_counts = dict(cat.DEFAULT_OFFICIAL if official is None else official)
        n_off = sum(int(v) for v in self.official_counts.values())
        self.models_requested = int(models)
        self.total_models = max(int(models), n_off)
        self._anchor = to_epoch(self.ANCHOR)
        self.horizon_end = self._anchor + horizon_days * DAY
        self._renames: list[tuple[int, int, str, str]] = []  # (at, idx, old_id, new_id)
        self._profiles: list[dict] = []
        self._profile_index: dict[tuple, int] = {}
        self._tag_profiles: dict[str, np.ndarray] = {}
        self.authors: list[str] = []
        self._author_code: dict[str, int] = {}
        self._build()

    # ------------------------------------------------------------------ build helpers
    def _author(self, name: str) -> int:
        code = self._author_code.get(name)
        if code is None:
            code = len(self.authors)
            self.authors.append(name)
            self._author_code[name] = code
        return code

    def _profile(self, library, pipeline, model_type, flavor, tags=None) -> int:
        """The code of a model kind's profile (see profiles.py), registered on first use."""
        key = (library, pipeline, model_type, flavor, tuple(tags) if tags is not None else None)
        code = self._profile_index.get(key)
        if code is not None:
            return code
        code = len(self._profiles)
        self._profiles.append(make_profile(library, pipeline, model_type, flavor, tags))
        self._profile_index[key] = code
        self._tag_profiles.clear()
        return code

    def _names(self, n: int, rng) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        syl = cat.SYLLABLES
        while len(out) < n:
            m = int((n - len(out)) * 1.3) + 10
            parts = rng.integers(0, len(syl), (m, 3)).tolist()
            three = (rng.random(m) < 0.5).tolist()
            num = np.where(rng.random(m) < 0.4, rng.integers(1, 999, m), 0).tolist()
            cap = (rng.random(m) < 0.2).tolist()
            for p, t3, nu, c in zip(parts, three, num, cap, strict=True):
                name = syl[p[0]] + syl[p[1]] + (syl[p[2]] if t3 else "") + (str(nu) if nu else "")
                if c:
                    name = name.capitalize()
                if name not in seen:
                    seen.add(name)
                    out.append(name)
                    if len(out) == n:
                        break
        return out

    # ------------------------------------------------------------------ generation
    def _build(self) -> None:
        rng = self._rng
        cols: dict[str, list] = {
            k: []
            for k in (
                "name",
                "author",
                "created",
                "official",
                "family",
                "rel",
                "profile",
                "license",
                "gated",
                "P",
                "lam",
            )
        }
        fam_names = list(self.official_counts)
        off_by_family: dict[int, list[int]] = {}
        release_of: list[tuple] = []  # per official: release tuple (for derivative naming/profile)

        # ---- official models
        for f, org in enumerate(fam_names):
            n = int(self.official_counts[org])
            if n <= 0:
                continue
            spec = cat.ORG_SPECS.get(org) or self._generic_spec(org, rng)
            rels = spec["releases"]
            w = np.array([r[4] for r in rels], float)
            counts = rng.multinomial(n, w / w.sum())
            gval, gfrac = spec["gated"]
            acode = self._author(org)
            idxs = []
            for rel, c in zip(rels, counts, strict=True):
                rdate, prefix, sizes, variants, _w, mt, pipe, lib = rel
                combos = []
                for size in sizes:
                    for var in variants:
                        if size.startswith("+"):
                            base = prefix + size[1:]
                        elif size.startswith(("-", "_")) or not size:
                            base = prefix + size
                        else:
                            base = f"{prefix}-{size}"
                        combos.append(base + var)
                t0 = to_epoch(rdate)
                jit = rng.integers(0, 2 if t0 <= LEGACY_CREATED + DAY else 3 * DAY, max(int(c), 1)).tolist()
                for j in range(int(c)):
                    name = combos[j % len(combos)]
                    if j >= len(combos):
                        name = f"{name}-{j // len(combos) + 1}"
                    created = (LEGACY_CREATED if t0 <= LEGACY_CREATED + DAY else t0) + jit[j]
                    flavor = (
                        "gguf"
                        if "GGUF" in name or "gguf" in name
                        else "awq"
                        if "AWQ" in name
                        else "gptq"
                        if "GPTQ" in name
                        else "mlx"
                        if "MLX" in name
                        else "base"
                    )
                    lib2 = "gguf" if flavor == "gguf" else ("mlx" if flavor == "mlx" else lib)
                    cols["name"].append(f"{org}/{name}")
                    cols["author"].append(acode)
                    cols["created"].append(created)
                    cols["official"].append(True)
                    cols["family"].append(f)
                    cols["rel"].append(-1)
                    cols["profile"].append(self._profile(lib2, pipe, mt, flavor))
                    cols["license"].append(cat.ORG_LICENSE.get(org, "apache-2.0"))
                    cols["gated"].append(GATED.index(gval) if rng.random() < gfrac else 0)
                    idxs.append(len(cols["name"]) - 1)
                    release_of.append((org, rel, name))
            off_by_family[f] = idxs

        n_off = len(cols["name"])
        # official metrics
        P = np.exp(rng.normal(np.log(2e4), 2.0, n_off)).clip(5, 2e7)
        lam = rng.uniform(-0.006, 0.0005, n_off)
        t_star = to_epoch(self.DOWNLOADS_CROSSOVER_TARGET)
        llama_f = fam_names.index("meta-llama") if "meta-llama" in fam_names else -1
        qwen_f = fam_names.index("Qwen") if "Qwen" in fam_names else -1
        fam_arr = np.array(cols["family"], dtype=np.int64)
        for f, lo, hi in ((llama_f, -0.006, -0.0015), (qwen_f, 0.0015, 0.006)):
            if f < 0:
                continue
            m = fam_arr == f
            lam[m] = rng.uniform(lo, hi, m.sum())
            P[m] = np.exp(rng.normal(np.log(1e5), 1.8, m.sum())).clip(10, 2e7)

        # ---- community derivatives and unrelated models
        M = self.total_models - n_off
        n_der = round(M * 0.55) if off_by_family else 0
        end = self.horizon_end
        self._pool = self._names(max(20, M // 5), rng)
        parents_of = gen_derivatives(
            n_der,
            off_by_family,
            cols,
            release_of,
            rng,
            end,
            fam_names,
            self._pool,
            self._author,
            self._profile,
            self.DERIVATIVES_CROSSOVER_TARGET,
        )
        n_unrel = self.total_models - len(cols["name"])
        self._gen_unrelated(n_unrel, cols, rng, end)
        N = len(cols["name"])
        taken: dict[str, int] = {}
        names = cols["name"]
        for j, name in enumerate(names):  # ids are unique: suffix -2, -3, ... on collisions
            if name in taken:
                k = taken[name] + 1
                while f"{name}-{k}" in taken:
                    k += 1
                taken[name] = k
                names[j] = f"{name}-{k}"
                taken[names[j]] = 1
            else:
                taken[name] = 1

        # ---- arrays
        self.N = N
        self._ids0 = cols["name"]
        self._author0 = np.array(cols["author"], dtype=np.int64)
        self.created = np.array(cols["created"], dtype=np.int64)
        self._deleted = np.full(N, NEVER, dtype=np.int64)
        self._official = np.array(cols["official"], dtype=bool)
        self._family = np.array(cols["family"], dtype=np.int64)
        self._rel = np.array(cols["rel"], dtype=np.int64)
        self._profile_arr = np.array(cols["profile"], dtype=np.int64)
        self.licenses = sorted(set(cols["license"]) | set(cat.LICENSES))
        lic_code = {lic: i for i, lic in enumerate(self.licenses)}
        self.license = np.array([lic_code[x] for x in cols["license"]], dtype=np.int64)
        self.gated = np.array(cols["gated"], dtype=np.int64)
        self.disabled = np.zeros(N, dtype=bool)
        comm = ~self._official
        self.disabled[comm & (rng.random(N) < 0.003)] = True
        early = np.flatnonzero(comm & (self.created <= self._anchor))
        if len(early):  # at least one disabled model visible at the anchor (and after)
            self.disabled[early[int(rng.integers(0, len(early)))]] = True
        gm = comm & (rng.random(N) < 0.02)
        self.gated[gm] = rng.integers(1, 3, int(gm.sum()))

        # ids: 4-byte creation time + 5 random bytes + 3-byte counter
        self.oid_hi = self.created.copy()
        self.oid_lo = (rng.integers(0, 2**40, N, dtype=np.uint64) << np.uint64(24)) | (
            np.arange(N, dtype=np.uint64) & np.uint64(0xFFFFFF)
        )

        # metrics parameters
        Pc = np.array(cols["P"], dtype=float)
        lamc = np.array(cols["lam"], dtype=float)
        Pall = np.concatenate([P, Pc])
        lam_all = np.concatenate([lam, lamc])
        ref = np.where(
            self._official & np.isin(self._family, [llama_f, qwen_f]) & (self._family >= 0),
            np.maximum(t_star - self.created, 0) / DAY,
            0.0,
        )
        self._lam = lam_all
        self._k = Pall / 30.0 * np.exp(-lam_all * ref)
        self._linf = (0.5 * Pall**0.62 * np.exp(rng.normal(0, 0.7, N))).clip(0, 60_000)
        self._tau = rng.uniform(15, 300, N)
        self._period = rng.uniform(3, 200, N) * DAY
        self._active = rng.exponential(150, N) * DAY
        self.params = np.exp(rng.normal(np.log(4e9), 1.3, N)).astype(np.int64)
        self._fixed_mask = np.zeros(N, dtype=bool)
        self.warm = self._official & (rng.random(N) < 0.3) & (self.gated == 0)

        # edges (child -> parent)
        ec, ep = [], []
        for child, parents in parents_of.items():
            for p in parents:
                ec.append(child)
                ep.append(p)
        self._e_child = np.array(ec, dtype=np.int64)
        self._e_parent = np.array(ep, dtype=np.int64)

        self.downloads_crossover_at: datetime | None = None
        if llama_f >= 0 and qwen_f >= 0:  # Qwen's official rates scaled to cross meta-llama's at the target
            llama = self._official & (self._family == llama_f)
            qwen = self._official & (self._family == qwen_f)
            self.downloads_crossover_at = calibrate_downloads(self._k, self._lam, self.created, llama, qwen, t_star)
        self._gen_lifecycle(rng)
        self._reindex()

    def _generic_spec(self, org: str, rng) -> dict:
        stem = org.split("-", maxsplit=1)[0][:16] or "model"
        lo, hi = to_epoch("2023-01-01"), max(to_epoch("2023-02-01"), self._anchor - 30 * DAY)
        rels = []
        for r in range(6):
            d = to_dt(int(rng.integers(lo, hi))).date().isoformat()
            rels.append(
                (
                    d,
                    f"{stem}-{r + 1}",
                    ["small", "base", "large", "1B", "7B", "70B"],
                    ["", "-instruct", "-chat", "-v2"],
                    1,
                    "llama",
                    "text-generation",
                    "transformers",
                )
            )
        return {"gated": (False, 0.0), "releases": rels}

    def _gen_unrelated(self, n, cols, rng, end):
        if n <= 0:
            return
        profs = cat.UNRELATED_PROFILES
        w = np.array([p[4] for p in profs], float)
        pick = rng.choice(len(profs), n, p=w / w.sum())
        legacy = rng.random(n) < 0.06
        tt = density_times("other", LEGACY_CREATED + DAY, end, n, rng)
        tt = np.where(legacy, LEGACY_CREATED + rng.integers(0, 2, n), tt)
        auth_idx = (rng.zipf(1.4, n) - 1) % len(self._pool)
        Pu = np.exp(rng.normal(np.log(5), 2.5, n)).clip(0, 5e6)
        lamu = np.where(rng.random(n) < 0.7, rng.uniform(-0.03, -0.003, n), rng.uniform(-0.003, 0.002, n))
        lic = rng.choice(len(cat.LICENSES), n)
        sfx = rng.integers(1, 10_000, n).tolist()
        pick, tt, auth_idx, Pu, lamu, lic = (
            pick.tolist(),
            tt.tolist(),
            auth_idx.tolist(),
            Pu.tolist(),
            lamu.tolist(),
            lic.tolist(),
        )
        for j in range(n):
            pipe, lib, mt, stem, _ = profs[pick[j]]
            author = self._pool[auth_idx[j]]
            cols["name"].append(f"{author}/{stem}-{sfx[j]}")
            cols["author"].append(self._author(author))
            cols["created"].append(tt[j])
            cols["official"].append(False)
            cols["family"].append(-1)
            cols["rel"].append(-1)
            cols["profile"].append(self._profile(lib, pipe, mt, "plain"))
            cols["license"].append(cat.LICENSES[lic[j]])
            cols["gated"].append(0)
            cols["P"].append(Pu[j])
            cols["lam"].append(lamu[j])

    def _gen_lifecycle(self, rng) -> None:
        """Schedule deletions (leaf community models only) and renames (community models)."""
        N = self.N
        is_parent = np.zeros(N, dtype=bool)
        is_parent[self._e_parent] = True
        comm = ~self._official & ~is_parent
        dele = comm & (rng.random(N) < 0.03)
        self._deleted[dele] = self.created[dele] + (rng.exponential(200, N)[dele] * DAY).astype(np.int64) + 3600
        ren = ~self._official & ~dele & (rng.random(N) < 0.015)
        when = self.created + (rng.uniform(1, 600, N) * DAY).astype(np.int64)
        taken = set(self._ids0)
        for i in np.flatnonzero(ren):
            old = self._ids0[int(i)]
            a, nm = old.split("/", 1)
            new = f"{self._pool[int(rng.integers(0, len(self._pool)))]}/{nm}" if rng.random() < 0.4 else f"{a}/{nm}-v2"
            if new in taken:
                continue
            taken.add(new)
            self._renames.append((int(when[i]), int(i), old, new))
        self._renames.sort()

    # ------------------------------------------------------------------ indices
    def _reindex(self) -> None:
        """Look-ups by id (current and former) and by oid order, rebuilt after every change."""
        self._by_id = {name: i for i, name in enumerate(self._ids0)}
        self._by_old: dict[str, list[tuple[int, int]]] = {}
        for at, i, old, new in self._renames:
            self._by_id.setdefault(new, i)
            self._by_old.setdefault(old, []).append((at, i))
        self._ids0_arr = np.array(self._ids0, dtype=object)
        order = np.lexsort((self.oid_lo, self.oid_hi))
        self.oid_rank = np.empty(self.N, dtype=np.int64)
        self.oid_rank[order] = np.arange(self.N)
        self._created_str: list[str] | None = None
        self._children_of: tuple[np.ndarray, np.ndarray] | None = None  # (child, parent) edges sorted by child
