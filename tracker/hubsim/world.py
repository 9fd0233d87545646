"""The simulated Hub: a seeded, vectorised model ecosystem whose metrics are closed-form functions of time.

Everything the server answers, and everything a test compares against (``World.snapshot``), is computed
from the same per-model parameters, so the truth is exact at any simulated second:

* daily download rate ``r_i(t) = k_i * exp(lam_i * age)`` for ``age = t - created_i >= 0`` (days);
  all-time downloads ``AT_i(t) = floor(integral_0^age r_i)`` (never falls); the Hub's rolling 30-day
  ``downloads = AT_i(t) - AT_i(t - 30 d)`` (floors taken separately, so ``0 <= downloads <= all-time``).
* likes ``floor(L_i * (1 - exp(-age / tau_i)))`` (never fall); ``trendingScore`` = likes gained in the
  last 7 days.
* ``lastModified`` steps forward every ``period_i`` seconds while the repo is "active".
* a model is visible from ``created_at`` until its ``deleted_at``; ids follow the rename history.

Time is handled in whole UTC seconds (sub-second parts are dropped).
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from . import catalog as cat

DAY = 86400
NEVER = np.iinfo(np.int64).max
LEGACY_CREATED = 1646263744  # 2022-03-02T23:29:04Z: every repo older than createdAt tracking carries it
RELATIONS = ("adapter", "merge", "quantized", "finetune")  # codes 0..3; -1 = root
GATED = (False, "auto", "manual")


def to_epoch(value) -> int:
    """A date / ISO string / datetime / epoch number -> whole UTC epoch seconds."""
    if value is None:
        raise ValueError("time value is None")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, float):
        return int(value // 1)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, str):
        s = value.strip().replace("Z", "+00:00")
        value = datetime.fromisoformat(s)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp() // 1)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp())
    raise TypeError(f"cannot interpret {value!r} as a time")


def to_dt(epoch: int) -> datetime:
    return datetime.fromtimestamp(int(epoch), tz=UTC)


def hub_time(epoch) -> str:
    """Epoch seconds -> the Hub's timestamp format, e.g. ``2022-03-02T23:29:04.000Z``."""
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def hub_times(epochs: np.ndarray) -> list[str]:
    s = np.datetime_as_string(np.asarray(epochs, dtype="int64").astype("datetime64[s]"), unit="ms")
    return [x + "Z" for x in s.tolist()]


def parse_oid(oid: str) -> tuple[int, int]:
    return int(oid[:8], 16), int(oid[8:24], 16)


class _State:
    """Everything derived from the world at one simulated second (built vectorised, cached)."""

    __slots__ = (
        "_lm_str",
        "_lower",
        "at",
        "author",
        "children",
        "d30",
        "ids",
        "likes",
        "lm",
        "t",
        "trending",
        "vis",
        "world_version",
    )

    t: int
    world_version: int
    vis: np.ndarray  # bool: visible at t
    ids: np.ndarray  # object: each model's id at t (after renames)
    author: np.ndarray  # int64 author codes at t
    at: np.ndarray
    d30: np.ndarray
    likes: np.ndarray
    trending: np.ndarray
    lm: np.ndarray  # int64 epoch seconds of lastModified
    children: np.ndarray  # (4, N) int64: direct children per relation
    _lower: pd.Series | None
    _lm_str: list[str] | None


class World:
    """A seeded simulated Hub. See ``docs/hubsim.md`` for the model and the documented dates."""

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

    def __init__(
        self,
        seed: int = 0,
        models: int = 20_000,
        official: dict | None = None,
        now="2026-08-01",
        horizon_days: int = 90,
    ):
        self.seed = int(seed)
        self._lock = threading.RLock()
        self._now = to_epoch(now)
        self._rng = np.random.default_rng(self.seed)
        self.official_counts = dict(cat.DEFAULT_OFFICIAL if official is None else official)
        n_off = sum(int(v) for v in self.official_counts.values())
        self.models_requested = int(models)
        self.total_models = max(int(models), n_off)
        self._anchor = to_epoch(self.ANCHOR)
        self.horizon_end = self._anchor + horizon_days * DAY
        self._version = 0
        self._cache: dict[int, _State] = {}
        self._renames: list[tuple[int, int, str, str]] = []  # (at, idx, old_id, new_id)
        self._raw: dict[int, dict] = {}
        self._fixed: dict[int, dict] = {}
        self._profiles: list[dict] = []
        self._profile_index: dict[tuple, int] = {}
        self._tag_profiles: dict[str, np.ndarray] = {}
        self._authors: list[str] = []
        self._author_code: dict[str, int] = {}
        self._build()

    # ------------------------------------------------------------------ clock
    @property
    def now(self) -> datetime:
        return to_dt(self._now)

    @property
    def now_epoch(self) -> int:
        return self._now

    def set_time(self, when) -> None:
        with self._lock:
            self._now = to_epoch(when)

    def advance(self, days: float = 0, hours: float = 0, seconds: float = 0) -> datetime:
        with self._lock:
            self._now += int(days * DAY + hours * 3600 + seconds)
            return self.now

    # ------------------------------------------------------------------ build helpers
    def _author(self, name: str) -> int:
        code = self._author_code.get(name)
        if code is None:
            code = len(self._authors)
            self._authors.append(name)
            self._author_code[name] = code
        return code

    def _profile(self, library, pipeline, model_type, flavor, tags=None) -> int:
        key = (library, pipeline, model_type, flavor, tuple(tags) if tags is not None else None)
        code = self._profile_index.get(key)
        if code is not None:
            return code
        if tags is not None:  # injected model: its tags are served verbatim
            prof = {
                "prefix": list(tags),
                "suffix": [],
                "pipeline": pipeline,
                "library": library,
                "model_type": model_type,
                "flavor": flavor,
                "files": [".gitattributes", "README.md"],
                "raw_tags": True,
            }
        else:
            prefix: list[str] = []
            files = [".gitattributes", "README.md"]
            if flavor == "gguf":
                prefix += ["gguf"]
                files += ["model-Q4_K_M.gguf", "model-Q8_0.gguf"]
            elif flavor == "adapter":
                prefix += ["peft", "safetensors"]
                files += ["adapter_config.json", "adapter_model.safetensors"]
            elif flavor == "mlx":
                prefix += ["mlx", "safetensors"]
                files += ["config.json", "model.safetensors", "tokenizer.json"]
            elif library is not None:
                prefix.append(library)
                if library in ("transformers", "sentence-transformers", "diffusers", "timm", "vllm", "sglang"):
                    prefix.append("safetensors")
                    files += ["config.json", "model.safetensors"]
                else:
                    files += ["model.bin"]
            if flavor in ("awq", "gptq", "bnb"):
                prefix += ["4-bit", {"awq": "awq", "gptq": "gptq", "bnb": "bitsandbytes"}[flavor]]
            if model_type and flavor != "gguf":
                prefix.append(model_type)
            if flavor == "merge":
                prefix += ["mergekit", "merge"]
            if flavor == "finetune":
                prefix += ["trl", "sft"]
            if pipeline:
                prefix.append(pipeline)
            if pipeline in ("text-generation", "image-text-to-text") and flavor != "adapter":
                prefix.append("conversational")
            suffix = []
            if library == "transformers" and pipeline == "text-generation":
                suffix += ["autotrain_compatible", "text-generation-inference"]
            suffix += ["endpoints_compatible", "region:us"]
            if library in ("transformers", "sentence-transformers", "vllm"):
                files += ["tokenizer.json", "tokenizer_config.json"]
            prof = {
                "prefix": prefix,
                "suffix": suffix,
                "pipeline": pipeline,
                "library": library,
                "model_type": model_type,
                "flavor": flavor,
                "files": files,
                "raw_tags": False,
            }
        code = len(self._profiles)
        self._profiles.append(prof)
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
        self._families = fam_names
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
        np.array(cols["created"], dtype=np.int64)
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
        self._off_P = P

        # ---- community derivatives and unrelated models
        M = self.total_models - n_off
        n_der = round(M * 0.55) if off_by_family else 0
        end = self.horizon_end
        self._pool = self._names(max(20, M // 5), rng)
        der_rows = self._gen_derivatives(n_der, off_by_family, cols, release_of, rng, end, fam_names)
        n_unrel = self.total_models - len(cols["name"])
        self._gen_unrelated(n_unrel, cols, rng, end)
        N = len(cols["name"])
        del der_rows
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
        self._created = np.array(cols["created"], dtype=np.int64)
        self._deleted = np.full(N, NEVER, dtype=np.int64)
        self._official = np.array(cols["official"], dtype=bool)
        self._family = np.array(cols["family"], dtype=np.int64)
        self._rel = np.array(cols["rel"], dtype=np.int64)
        self._profile_arr = np.array(cols["profile"], dtype=np.int64)
        self._licenses = sorted(set(cols["license"]) | set(cat.LICENSES))
        lic_code = {lic: i for i, lic in enumerate(self._licenses)}
        self._license = np.array([lic_code[x] for x in cols["license"]], dtype=np.int64)
        self._gated = np.array(cols["gated"], dtype=np.int64)
        self._disabled = np.zeros(N, dtype=bool)
        comm = ~self._official
        self._disabled[comm & (rng.random(N) < 0.003)] = True
        early = np.flatnonzero(comm & (self._created <= self._anchor))
        if len(early):  # at least one disabled model visible at the anchor (and after)
            self._disabled[early[int(rng.integers(0, len(early)))]] = True
        gm = comm & (rng.random(N) < 0.02)
        self._gated[gm] = rng.integers(1, 3, int(gm.sum()))

        # ids: 4-byte creation time + 5 random bytes + 3-byte counter
        self._oid_hi = self._created.copy()
        self._oid_lo = (rng.integers(0, 2**40, N, dtype=np.uint64) << np.uint64(24)) | (
            np.arange(N, dtype=np.uint64) & np.uint64(0xFFFFFF)
        )

        # metrics parameters
        Pc = np.array(cols["P"], dtype=float)
        lamc = np.array(cols["lam"], dtype=float)
        Pall = np.concatenate([P, Pc])
        lam_all = np.concatenate([lam, lamc])
        ref = np.where(
            self._official & np.isin(self._family, [llama_f, qwen_f]) & (self._family >= 0),
            np.maximum(t_star - self._created, 0) / DAY,
            0.0,
        )
        self._lam = lam_all
        self._k = Pall / 30.0 * np.exp(-lam_all * ref)
        self._linf = (0.5 * Pall**0.62 * np.exp(rng.normal(0, 0.7, N))).clip(0, 60_000)
        self._tau = rng.uniform(15, 300, N)
        self._period = rng.uniform(3, 200, N) * DAY
        self._active = rng.exponential(150, N) * DAY
        self._params = np.exp(rng.normal(np.log(4e9), 1.3, N)).astype(np.int64)
        self._fixed_mask = np.zeros(N, dtype=bool)
        self._warm = self._official & (rng.random(N) < 0.3) & (self._gated == 0)

        # edges (child -> parent)
        ec, ep = [], []
        for child, parents in self._parents_tmp.items():
            for p in parents:
                ec.append(child)
                ep.append(p)
        del self._parents_tmp
        self._e_child = np.array(ec, dtype=np.int64)
        self._e_parent = np.array(ep, dtype=np.int64)

        self._calibrate_downloads(llama_f, qwen_f, t_star)
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

    def _density_times(self, kind: str, start: int, end: int, n: int, rng, c_q: float = 1.0) -> np.ndarray:
        """Sample n creation times from a family's derivative density on [start, end]."""
        if n <= 0 or end <= start:
            return np.zeros(0, dtype=np.int64)
        grid = np.linspace(start, end, 2000)
        dens = self._density(kind, grid, start, c_q)
        cdf = np.concatenate([[0], np.cumsum((dens[1:] + dens[:-1]) / 2)])
        cdf /= cdf[-1]
        return np.interp(rng.random(n), cdf, grid).astype(np.int64)

    @staticmethod
    def _density(kind: str, t, start, c_q: float = 1.0):
        x = (np.asarray(t, float) - start) / DAY
        x = np.maximum(x, 0)
        if kind == "llama":
            return x * np.exp(-x / 400.0)
        if kind == "qwen":
            return c_q * (1 - np.exp(-x / 90.0)) * np.exp(x / 300.0)
        return np.exp(x / 700.0)

    def _gen_derivatives(self, n_der, off_by_family, cols, release_of, rng, end, fam_names):
        self._parents_tmp: dict[int, list[int]] = {}
        self._root_of: dict[int, int] = {}
        fams = [f for f, idx in off_by_family.items() if idx]
        if not fams or n_der <= 0:
            return None
        created = np.array(cols["created"], dtype=np.int64)
        starts = {f: int(created[off_by_family[f]].min()) + 2 * DAY for f in fams}
        weights = np.array([cat.DERIVATIVE_WEIGHT.get(fam_names[f], cat.OTHER_ORG_DERIVATIVE_WEIGHT) for f in fams])
        n_f = dict(zip(fams, rng.multinomial(n_der, weights / weights.sum()), strict=True))
        kinds = {
            f: ("llama" if fam_names[f] == "meta-llama" else "qwen" if fam_names[f] == "Qwen" else "other")
            for f in fams
        }
        # Llama/Qwen: calibrate the Qwen density so the cumulative counts cross at the target date
        lf = [f for f in fams if kinds[f] == "llama"]
        qf = [f for f in fams if kinds[f] == "qwen"]
        c_q = 1.0
        if lf and qf:
            lf, qf = lf[0], qf[0]
            td = to_epoch(self.DERIVATIVES_CROSSOVER_TARGET)

            def integral(kind, s, e, c=1.0):
                if e <= s:
                    return 0.0
                g = np.linspace(s, e, 4000)
                d = self._density(kind, g, s, c)
                return float(np.sum((d[1:] + d[:-1]) / 2 * np.diff(g)))

            c_q = integral("llama", starts[lf], td) / max(integral("qwen", starts[qf], td), 1e-9)
            tot = n_f[lf] + n_f[qf]
            il, iq = integral("llama", starts[lf], end), integral("qwen", starts[qf], end, c_q)
            n_f[lf] = round(tot * il / (il + iq))
            n_f[qf] = tot - n_f[lf]
        self._c_q = c_q
        pool = self._pool
        zipf_n = len(pool)
        for f in fams:
            n = int(n_f[f])
            if n <= 0 or starts[f] >= end:
                continue
            tt = np.sort(self._density_times(kinds[f], starts[f], end, n, rng, c_q if kinds[f] == "qwen" else 1.0))
            off = np.array(sorted(off_by_family[f], key=lambda i: cols["created"][i]), dtype=np.int64)
            off_created = created[off]
            nb = np.searchsorted(off_created, tt, side="right")
            keep = nb > 0
            tt, nb = tt[keep], nb[keep]
            n = len(tt)
            rel = rng.choice(4, n, p=[0.15, 0.10, 0.35, 0.40])
            second = rng.random(n) < 0.22
            jexp = np.minimum(np.floor(rng.exponential(np.maximum(1.0, nb * 0.35))).astype(np.int64), nb - 1)
            direct = off[nb - 1 - jexp]
            u1, u2, u3 = rng.random(n), rng.random(n), rng.random(n)
            qa = rng.random(n)
            auth_idx = (rng.zipf(1.4, n) - 1) % zipf_n
            Pd = np.exp(rng.normal(np.log(30), 2.2, n))
            lamd = np.where(rng.random(n) < 0.7, rng.uniform(-0.03, -0.003, n), rng.uniform(-0.003, 0.002, n))
            rel, second, direct, nb = rel.tolist(), second.tolist(), direct.tolist(), nb.tolist()
            u1, u2, u3, qa, auth_idx = u1.tolist(), u2.tolist(), u3.tolist(), qa.tolist(), auth_idx.tolist()
            Pd, lamd, tt, off_l = Pd.tolist(), lamd.tolist(), tt.tolist(), off.tolist()
            base_global = len(cols["name"])
            pool_pos: list[int] = []  # positions (within this family) usable as second-order parents
            for j in range(n):
                r = rel[j]
                parents = [direct[j]]
                if second[j] and pool_pos:
                    k = len(pool_pos)
                    parents = [base_global + pool_pos[k - 1 - min(int(u1[j] * k * u1[j]), k - 1)]]
                if r == 1:  # merge: two or three parents
                    cand = off_l[int(u2[j] * nb[j])]
                    if pool_pos and u3[j] < 0.5:
                        cand = base_global + pool_pos[int(u3[j] * len(pool_pos))]
                    if cand not in parents:
                        parents.append(cand)
                    if u3[j] < 0.15:
                        c3 = off_l[int(u3[j] / 0.15 * nb[j]) % nb[j]]
                        if c3 not in parents:
                            parents.append(c3)
                    if len(parents) < 2:
                        r = 3
                idx = len(cols["name"])
                root = parents[0]
                _org, relinfo, _ = release_of[root] if root < len(release_of) else release_of[self._root_of[root]]
                _d, _p, _s, _v, _w, mt, pipe, lib = relinfo
                short = cols["name"][root].split("/", 1)[1][:44].rstrip("-.")
                if r == 2:
                    if qa[j] < 0.45:
                        author = cat.FAMOUS_QUANTIZERS[int(qa[j] / 0.45 * len(cat.FAMOUS_QUANTIZERS))]
                        Pd[j] *= 30
                    else:
                        author = pool[auth_idx[j]]
                    suf = cat.QUANT_SUFFIX[int(u2[j] * len(cat.QUANT_SUFFIX))]
                    flavor = (
                        "gguf"
                        if "GGUF" in suf
                        else "mlx"
                        if "mlx" in suf
                        else "awq"
                        if "AWQ" in suf
                        else "gptq"
                        if "GPTQ" in suf
                        else "bnb"
                        if "bit" in suf
                        else "base"
                    )
                    lib2 = "gguf" if flavor == "gguf" else "mlx" if flavor == "mlx" else lib
                    pipe2 = None if flavor == "gguf" and u3[j] < 0.5 else pipe
                    name = f"{short}-{suf}"
                elif r == 0:
                    author = pool[auth_idx[j]]
                    flavor, lib2, pipe2 = "adapter", "peft", pipe
                    name = f"{short}-{cat.ADAPTER_SUFFIX[int(u2[j] * len(cat.ADAPTER_SUFFIX))]}"
                elif r == 1:
                    author = pool[auth_idx[j]]
                    flavor, lib2, pipe2 = "merge", lib, pipe
                    other = cols["name"][parents[1]].split("/", 1)[1][:20].rstrip("-.")  # no "--": the Hub refuses it
                    name = f"{short[:24].rstrip('-.')}-{other}-{cat.MERGE_SUFFIX[int(u2[j] * len(cat.MERGE_SUFFIX))]}"
                else:
                    if qa[j] < 0.08:
                        author = cat.FAMOUS_TUNERS[int(qa[j] / 0.08 * len(cat.FAMOUS_TUNERS))]
                        Pd[j] *= 20
                    else:
                        author = pool[auth_idx[j]]
                    flavor, lib2, pipe2 = "finetune", lib, pipe
                    name = f"{short}-{cat.TUNE_SUFFIX[int(u2[j] * len(cat.TUNE_SUFFIX))]}"
                cols["name"].append(f"{author}/{name}")
                cols["author"].append(self._author(author))
                cols["created"].append(tt[j])
                cols["official"].append(False)
                cols["family"].append(f)
                cols["rel"].append(r)
                cols["profile"].append(self._profile(lib2, pipe2, mt, flavor))
                cols["license"].append(cat.ORG_LICENSE.get(fam_names[f], "apache-2.0"))
                cols["gated"].append(0)
                cols["P"].append(min(Pd[j], 5e6))
                cols["lam"].append(lamd[j])
                self._parents_tmp[idx] = parents
                self._root_of_set(idx, root, release_of)
                if r in (1, 3):
                    pool_pos.append(idx - base_global)
        return True

    def _root_of_set(self, idx, root, release_of):
        self._root_of[idx] = root if root < len(release_of) else self._root_of[root]

    def _gen_unrelated(self, n, cols, rng, end):
        if n <= 0:
            return
        profs = cat.UNRELATED_PROFILES
        w = np.array([p[4] for p in profs], float)
        pick = rng.choice(len(profs), n, p=w / w.sum())
        legacy = rng.random(n) < 0.06
        tt = self._density_times("other", LEGACY_CREATED + DAY, end, n, rng)
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

    def _calibrate_downloads(self, llama_f, qwen_f, t_star):
        """Scale Qwen's official rates so the summed 30-day curves cross at DOWNLOADS_CROSSOVER_TARGET."""
        self.downloads_crossover_at = None
        if llama_f < 0 or qwen_f < 0:
            return
        L = self._official & (self._family == llama_f)
        Q = self._official & (self._family == qwen_f)
        if not L.any() or not Q.any():
            return
        wl = self._window_cont(L, t_star).sum()
        wq = self._window_cont(Q, t_star).sum()
        if wl <= 0 or wq <= 0:
            return
        self._k[Q] *= wl / wq

        # realised crossing instant with the floored (served) values, scanned at 1-second resolution
        def diff(ts):
            d = np.zeros(len(ts))
            for sel, sign in ((Q, 1), (L, -1)):
                idx = np.flatnonzero(sel)
                for chunk in np.array_split(idx, max(1, len(idx) // 2000)):
                    at_now = self._alltime(chunk[None, :], ts[:, None])
                    at_old = self._alltime(chunk[None, :], ts[:, None] - 30 * DAY)
                    d += sign * (at_now - at_old).sum(axis=1)
            return d

        def last_nonpositive(ts):
            pos = np.flatnonzero(diff(ts) <= 0)
            return int(pos[-1]) if len(pos) else -1

        coarse = np.arange(t_star - 3600, t_star + 3600, 30, dtype=np.int64)
        k = last_nonpositive(coarse)
        if k + 1 >= len(coarse):
            return
        lo = int(coarse[k]) if k >= 0 else int(coarse[0]) - 30
        fine = np.arange(lo, lo + 31, dtype=np.int64)
        j = last_nonpositive(fine)
        self.downloads_crossover_at = to_dt(int(fine[j + 1])) if j + 1 < len(fine) else to_dt(int(coarse[k + 1]))

    def _window_cont(self, sel, t):
        idx = np.flatnonzero(sel)
        k, lam = self._k[idx], self._lam[idx]
        a1 = np.maximum(t - self._created[idx], 0) / DAY
        a0 = np.maximum(t - 30 * DAY - self._created[idx], 0) / DAY
        return k * (self._integral(lam, a1) - self._integral(lam, a0))

    @staticmethod
    def _integral(lam, a):
        small = np.abs(lam) < 1e-12
        safe = np.where(small, 1.0, lam)
        return np.where(small, a, np.expm1(lam * a) / safe)

    def _alltime(self, idx, t):
        age = np.maximum(t - self._created[idx], 0) / DAY
        return np.floor(self._k[idx] * self._integral(self._lam[idx], age))

    def _gen_lifecycle(self, rng) -> None:
        """Schedule deletions (leaf community models only) and renames (community models)."""
        N = self.N
        is_parent = np.zeros(N, dtype=bool)
        is_parent[self._e_parent] = True
        comm = ~self._official & ~is_parent
        dele = comm & (rng.random(N) < 0.03)
        self._deleted[dele] = self._created[dele] + (rng.exponential(200, N)[dele] * DAY).astype(np.int64) + 3600
        ren = ~self._official & ~dele & (rng.random(N) < 0.015)
        when = self._created + (rng.uniform(1, 600, N) * DAY).astype(np.int64)
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

    # ------------------------------------------------------------------ indices / mutation
    def _reindex(self) -> None:
        self._by_id = {name: i for i, name in enumerate(self._ids0)}
        self._by_old: dict[str, list[tuple[int, int]]] = {}
        for at, i, old, new in self._renames:
            self._by_id.setdefault(new, i)
            self._by_old.setdefault(old, []).append((at, i))
        self._ids0_arr = np.array(self._ids0, dtype=object)
        order = np.lexsort((self._oid_lo, self._oid_hi))
        self._oid_rank = np.empty(self.N, dtype=np.int64)
        self._oid_rank[order] = np.arange(self.N)
        self._created_str: list[str] | None = None
        self._children_of: tuple[np.ndarray, np.ndarray] | None = None  # (child, parent) edges sorted by child
        self._version += 1
        self._cache.clear()

    def add_model(self, record: dict) -> int:
        """Inject a fixed model (e.g. a captured real body). Its counts are constant; raw extra fields
        (sha, siblings, config, cardData, ...) are served exactly as given. Returns its index."""
        rec = dict(record)
        mid = rec["id"]
        with self._lock:
            if mid in self._by_id:
                raise ValueError(f"model {mid!r} already exists")
            created = to_epoch(rec["createdAt"]) if rec.get("createdAt") else self._now
            if "_id" in rec:
                hi, lo = parse_oid(rec["_id"])
            else:
                hi, lo = created, int(self._rng.integers(0, 2**40)) << 24 | (self.N & 0xFFFFFF)
            author: str = rec.get("author") or (mid.split("/", 1)[0] if "/" in mid else mid)
            tags = rec.get("tags") or []
            prof = self._profile(rec.get("library_name"), rec.get("pipeline_tag"), None, "raw", tags=tags)
            gated = rec.get("gated", False)
            i = self.N
            self.N += 1
            self._ids0.append(mid)
            app = lambda a, v: np.append(a, np.array([v], dtype=a.dtype))  # noqa: E731
            self._author0 = app(self._author0, self._author(author))
            self._created = app(self._created, created)
            self._deleted = app(self._deleted, NEVER)
            self._official = app(self._official, False)
            self._family = app(self._family, -1)
            self._profile_arr = app(self._profile_arr, prof)
            lic = next((t.split(":", 1)[1] for t in tags if t.startswith("license:")), "other")
            if lic not in self._licenses:
                self._licenses.append(lic)
            self._license = app(self._license, self._licenses.index(lic))
            self._gated = app(self._gated, GATED.index(gated) if gated in GATED else 0)
            self._disabled = app(self._disabled, bool(rec.get("disabled", False)))
            self._oid_hi = app(self._oid_hi, hi)
            self._oid_lo = app(self._oid_lo, lo)
            for name in ("_lam", "_k", "_linf", "_tau", "_period", "_active"):
                setattr(self, name, app(getattr(self, name), 0.0 if name in ("_lam", "_k", "_linf") else 1.0))
            self._params = app(self._params, int((rec.get("safetensors") or {}).get("total", 0) or 0))
            self._fixed_mask = app(self._fixed_mask, True)
            self._warm = app(self._warm, rec.get("inference") == "warm")
            bm = rec.get("baseModels")
            rel = -1
            if isinstance(bm, dict) and bm.get("relation") in RELATIONS:
                parents = [self._by_id[m["id"]] for m in bm.get("models", []) if m.get("id") in self._by_id]
                if parents:
                    rel = RELATIONS.index(bm["relation"])
                    self._e_child = np.append(self._e_child, [i] * len(parents)).astype(np.int64)
                    self._e_parent = np.append(self._e_parent, parents).astype(np.int64)
                    rec.pop("baseModels")
            self._rel = app(self._rel, rel)
            downloads = int(rec.get("downloads", 0) or 0)
            self._fixed[i] = {
                "downloads": downloads,
                "at": int(rec.get("downloadsAllTime", downloads) or downloads),
                "likes": int(rec.get("likes", 0) or 0),
                "trending": int(rec.get("trendingScore", 0) or 0),
                "lm": to_epoch(rec["lastModified"]) if rec.get("lastModified") else created,
            }
            self._raw[i] = rec
            self._reindex()
            return i

    def _idx_at(self, model_id: str, t: int) -> int:
        st = self.state(t)
        i = self._by_id.get(model_id)
        if i is None or st.ids[i] != model_id or not st.vis[i]:
            raise KeyError(model_id)
        return i

    def rename(self, old_id: str, new_id: str, at=None) -> None:
        with self._lock:
            t = self._now if at is None else to_epoch(at)
            i = self._idx_at(old_id, t)
            if new_id in self._by_id:
                raise ValueError(f"{new_id!r} is taken")
            self._renames.append((t, i, old_id, new_id))
            self._renames.sort()
            self._reindex()

    def delete(self, model_id: str, at=None) -> None:
        with self._lock:
            t = self._now if at is None else to_epoch(at)
            i = self._idx_at(model_id, t)
            self._deleted[i] = t
            self._version += 1
            self._cache.clear()

    # ------------------------------------------------------------------ time state
    def state(self, t=None) -> _State:
        t = self._now if t is None else to_epoch(t)
        st = self._cache.get(t)
        if st is not None:
            return st
        with self._lock:
            st = self._cache.get(t)
            if st is not None:
                return st
            st = self._compute(t)
            if len(self._cache) > 8:
                self._cache.pop(next(iter(self._cache)))
            self._cache[t] = st
            return st

    def _compute(self, t: int) -> _State:
        st = _State()
        st.t = t
        st.world_version = self._version
        created = self._created
        st.vis = (created <= t) & (self._deleted > t)
        ids = self._ids0_arr
        author = self._author0
        applied = [r for r in self._renames if r[0] <= t]
        if applied:
            ids = ids.copy()
            author = author.copy()
            for _at, i, _old, new in applied:
                ids[i] = new
                author[i] = self._author(new.split("/", 1)[0])
        st.ids, st.author = ids, author
        age_s = np.maximum(t - created, 0)
        age = age_s / DAY
        at_now = np.floor(self._k * self._integral(self._lam, age))
        at_old = np.floor(self._k * self._integral(self._lam, np.maximum(age - 30, 0)))
        st.at = at_now.astype(np.int64)
        st.d30 = (at_now - at_old).astype(np.int64)
        lk = np.floor(self._linf * -np.expm1(-age / self._tau))
        lk7 = np.floor(self._linf * -np.expm1(-np.maximum(age - 7, 0) / self._tau))
        st.likes = lk.astype(np.int64)
        st.trending = (lk - lk7).astype(np.int64)
        steps = np.floor(np.minimum(age_s, self._active) / self._period)
        st.lm = (created + steps * self._period).astype(np.int64)
        for i, fx in self._fixed.items():
            st.d30[i], st.at[i], st.likes[i], st.trending[i], st.lm[i] = (
                fx["downloads"],
                fx["at"],
                fx["likes"],
                fx["trending"],
                fx["lm"],
            )
        for arr in (st.at, st.d30, st.likes, st.trending):
            arr[~st.vis] = 0
        ch = np.zeros((4, self.N), dtype=np.int64)
        if len(self._e_child):
            ok = st.vis[self._e_child]
            rel = self._rel[self._e_child]
            for r in range(4):
                m = ok & (rel == r)
                ch[r] = np.bincount(self._e_parent[m], minlength=self.N)
        st.children = ch
        st._lower = None
        st._lm_str = None
        return st

    # ------------------------------------------------------------------ per-model rendering helpers
    def created_str(self) -> list[str]:
        if self._created_str is None or len(self._created_str) != self.N:
            self._created_str = hub_times(self._created)
        return self._created_str

    def lower_ids(self, st: _State) -> pd.Series:
        if st._lower is None:
            st._lower = pd.Series(st.ids, dtype=object).str.lower()
        return st._lower

    def _edges_by_child(self) -> tuple[np.ndarray, np.ndarray]:
        """The (child, parent) edge arrays sorted by child (built once per index)."""
        if self._children_of is None:
            order = np.argsort(self._e_child, kind="stable")
            self._children_of = (self._e_child[order], self._e_parent[order])
        return self._children_of

    def parents_of(self, i: int) -> np.ndarray:
        ec, ep = self._edges_by_child()
        lo, hi = np.searchsorted(ec, i), np.searchsorted(ec, i, side="right")
        return ep[lo:hi]

    def base_models(self, i: int, st: _State) -> tuple[str | None, list[int]]:
        """(relation, visible parent indices) of model i at the state's time."""
        if self._rel[i] < 0:
            return None, []
        ps = [int(p) for p in self.parents_of(i) if st.vis[p]]
        return (RELATIONS[self._rel[i]] if ps else None), ps

    def tags(self, i: int, st: _State) -> list[str]:
        prof = self._profiles[self._profile_arr[i]]
        if prof["raw_tags"]:
            return list(prof["prefix"])
        rel, ps = self.base_models(i, st)
        mid: list[str] = []
        for p in ps:
            mid.append(f"base_model:{st.ids[p]}")
            mid.append(f"base_model:{rel}:{st.ids[p]}")
        return prof["prefix"] + mid + [f"license:{self._licenses[self._license[i]]}"] + prof["suffix"]

    def profile(self, i: int) -> dict:
        return self._profiles[self._profile_arr[i]]

    def sha(self, i: int, st: _State) -> str:
        raw = self._raw.get(i)
        if raw and "sha" in raw:
            return raw["sha"]
        return hashlib.sha1(f"{self.oid(i)}:{st.lm[i]}".encode()).hexdigest()

    def oid(self, i: int) -> str:
        return f"{int(self._oid_hi[i]):08x}{int(self._oid_lo[i]):016x}"

    def oids(self, idx: np.ndarray) -> list[str]:
        hi, lo = self._oid_hi[idx].tolist(), self._oid_lo[idx].tolist()
        return [f"{h:08x}{low:016x}" for h, low in zip(hi, lo, strict=True)]

    def lookup(self, model_id: str, t=None) -> tuple[str, int | None]:
        """('ok', idx) | ('moved', idx) | ('missing', None) for a requested id at time t."""
        st = self.state(t)
        i = self._by_id.get(model_id)
        if i is not None and st.ids[i] == model_id and st.vis[i]:
            return "ok", i
        hist = self._by_old.get(model_id)
        if hist:
            for at, j in reversed(hist):
                if at <= st.t and st.vis[j] and st.ids[j] != model_id:
                    return "moved", j
        return "missing", None

    # ------------------------------------------------------------------ listing support
    def tag_mask(self, tag: str, st: _State) -> np.ndarray:
        """Boolean mask of models carrying a tag (the Hub's ``filter=`` semantics)."""
        if tag.startswith("base_model:"):
            rest = tag[len("base_model:") :]
            rel = None
            head, _, tail = rest.partition(":")
            if head in RELATIONS and tail:
                rel, rest = head, tail
            mask = np.zeros(self.N, dtype=bool)
            _kind, p = self.lookup(rest, st.t)
            if p is not None and len(self._e_child):
                m = (self._e_parent == p) & st.vis[self._e_child]
                if rel is not None:
                    m &= self._rel[self._e_child] == RELATIONS.index(rel)
                mask[self._e_child[m]] = True
            return mask | self._profile_tag_mask(tag)
        if tag.startswith("license:"):
            lic = tag[len("license:") :]
            m = self._license == (self._licenses.index(lic) if lic in self._licenses else -1)
            # raw-tag models carry their own license tags
            return (m & ~self._raw_profile_mask()) | self._profile_tag_mask(tag)
        return self._profile_tag_mask(tag)

    def _raw_profile_mask(self) -> np.ndarray:
        raw_codes = [c for c, p in enumerate(self._profiles) if p["raw_tags"]]
        return np.isin(self._profile_arr, raw_codes)

    def _profile_tag_mask(self, tag: str) -> np.ndarray:
        codes = self._tag_profiles.get(tag)
        if codes is None:
            codes = np.array(
                [
                    c
                    for c, p in enumerate(self._profiles)
                    if tag in p["prefix"] or tag in p["suffix"] or tag == p["pipeline"] or tag == p["library"]
                ],
                dtype=np.int64,
            )
            self._tag_profiles[tag] = codes
        return np.isin(self._profile_arr, codes)

    def pipeline_codes(self) -> np.ndarray:
        return np.array([p["pipeline"] for p in self._profiles], dtype=object)[self._profile_arr]

    def author_code(self, name: str) -> int:
        return self._author_code.get(name, -1)

    # ------------------------------------------------------------------ truth
    def snapshot(self, at=None) -> pd.DataFrame:
        """Every model visible at ``at`` (default: now), with the values the server serves at that second."""
        st = self.state(at)
        idx = np.flatnonzero(st.vis)
        created = pd.to_datetime(self._created[idx], unit="s", utc=True)
        lm = pd.to_datetime(st.lm[idx], unit="s", utc=True)
        pipes = [self._profiles[c]["pipeline"] for c in self._profile_arr[idx].tolist()]
        libs = [self._profiles[c]["library"] for c in self._profile_arr[idx].tolist()]
        rels, bases, tags = [], [], []
        ec, ep = self._edges_by_child()
        keep = st.vis[ep] if len(ep) else np.zeros(0, bool)
        parents: dict[int, list[str]] = {}
        ids_all = st.ids
        for c, p in zip(ec[keep].tolist(), ep[keep].tolist(), strict=True):
            parents.setdefault(c, []).append(ids_all[p])
        profs = self._profiles
        rel_arr = self._rel[idx].tolist()
        lic_arr = self._license[idx].tolist()
        for i, pc, r, lc in zip(idx.tolist(), self._profile_arr[idx].tolist(), rel_arr, lic_arr, strict=True):
            ps = parents.get(i, []) if r >= 0 else []
            rel = RELATIONS[r] if ps else None
            rels.append(rel)
            bases.append(ps)
            prof = profs[pc]
            if prof["raw_tags"]:
                tags.append(list(prof["prefix"]))
                continue
            mid: list[str] = []
            for p in ps:
                mid += (f"base_model:{p}", f"base_model:{rel}:{p}")
            tags.append(prof["prefix"] + mid + [f"license:{self._licenses[lc]}"] + prof["suffix"])
        ids = st.ids[idx].tolist()
        return pd.DataFrame(
            {
                "_id": self.oids(idx),
                "id": ids,
                "author": [self._authors[a] for a in st.author[idx].tolist()],
                "created_at": created,
                "last_modified": lm,
                "downloads": st.d30[idx],
                "downloads_all_time": st.at[idx],
                "likes": st.likes[idx],
                "trending_score": st.trending[idx],
                "pipeline_tag": pd.Series(pipes, dtype=object),
                "library_name": pd.Series(libs, dtype=object),
                "gated": pd.Series([GATED[g] for g in self._gated[idx].tolist()], dtype=object),
                "disabled": self._disabled[idx],
                "private": np.zeros(len(idx), dtype=bool),
                "tags": pd.Series(tags, dtype=object),
                "base_relation": pd.Series(rels, dtype=object),
                "base_models": pd.Series(bases, dtype=object),
                "official": self._official[idx],
            }
        )

    def children_counts(self, at=None) -> pd.DataFrame:
        """Direct children per relation of every visible model at ``at`` (deleted children not counted)."""
        st = self.state(at)
        idx = np.flatnonzero(st.vis)
        return pd.DataFrame(
            {"model_id": st.ids[idx].tolist(), **{r: st.children[k][idx] for k, r in enumerate(RELATIONS)}}
        )

    def deleted(self, at=None) -> pd.DataFrame:
        t = self._now if at is None else to_epoch(at)
        idx = np.flatnonzero(self._deleted <= t)
        st = self.state(t)
        return pd.DataFrame(
            {"id": st.ids[idx].tolist(), "deleted_at": pd.to_datetime(self._deleted[idx], unit="s", utc=True)}
        )

    @property
    def renames(self) -> pd.DataFrame:
        """Every rename in the world's timeline (including ones scheduled after ``now``)."""
        return pd.DataFrame(
            {
                "old_id": [r[2] for r in self._renames],
                "new_id": [r[3] for r in self._renames],
                "renamed_at": pd.to_datetime([r[0] for r in self._renames], unit="s", utc=True),
            }
        )

    def org_downloads(self, org: str, at=None) -> int:
        """Summed 30-day downloads of an org's official models visible at ``at``."""
        st = self.state(at)
        m = st.vis & self._official & (st.author == self.author_code(org))
        return int(st.d30[m].sum())

    def org_derivatives(self, org: str, at=None) -> int:
        """Sum over the org's official models of their direct children (all four relations)."""
        st = self.state(at)
        m = st.vis & self._official & (st.author == self.author_code(org))
        return int(st.children[:, m].sum())

    @property
    def derivatives_crossover_day(self) -> date | None:
        """First UTC day on which Qwen's direct-derivative count exceeds meta-llama's (from the truth)."""
        counts = {}
        for org in ("Qwen", "meta-llama"):
            code = self.author_code(org)
            off = self._official & (self._author0 == code)
            m = off[self._e_parent] if len(self._e_parent) else np.zeros(0, bool)
            ch = self._e_child[m]
            counts[org] = (self._created[ch], self._deleted[ch])
        if not len(counts["Qwen"][0]) or not len(counts["meta-llama"][0]):
            return None
        ev_t, ev_d = [], []
        for org, sign in (("Qwen", 1), ("meta-llama", -1)):
            c, d = counts[org]
            ev_t += [c, d[d < NEVER]]
            ev_d += [np.full(len(c), sign), np.full(int((d < NEVER).sum()), -sign)]
        t = np.concatenate(ev_t)
        dv = np.concatenate(ev_d)
        order = np.argsort(t, kind="stable")
        t, dv = t[order], dv[order]
        # apply all events of one second together
        uniq, start = np.unique(t, return_index=True)
        cum = np.cumsum(dv)
        end_idx = np.append(start[1:], len(t)) - 1
        diff = cum[end_idx]
        pos = np.flatnonzero(diff > 0)
        return to_dt(int(uniq[pos[0]])).date() if len(pos) else None

    def __repr__(self) -> str:
        return f"World(seed={self.seed}, models={self.N}, now={self.now.isoformat()})"
