"""Community derivatives of the official models: when they are created (a density per family) and what
they are (relation, author, name, profile, parents)."""

from __future__ import annotations

import numpy as np

from . import catalog as cat
from .timefmt import DAY, to_epoch


def density_times(kind: str, start: int, end: int, n: int, rng, c_q: float = 1.0) -> np.ndarray:
    """Sample n creation times from a family's derivative density on [start, end]."""
    if n <= 0 or end <= start:
        return np.zeros(0, dtype=np.int64)
    grid = np.linspace(start, end, 2000)
    dens = density(kind, grid, start, c_q)
    cdf = np.concatenate([[0], np.cumsum((dens[1:] + dens[:-1]) / 2)])
    cdf /= cdf[-1]
    return np.interp(rng.random(n), cdf, grid).astype(np.int64)


def density(kind: str, t, start, c_q: float = 1.0):
    x = (np.asarray(t, float) - start) / DAY
    x = np.maximum(x, 0)
    if kind == "llama":
        return x * np.exp(-x / 400.0)
    if kind == "qwen":
        return c_q * (1 - np.exp(-x / 90.0)) * np.exp(x / 300.0)
    return np.exp(x / 700.0)


def gen_derivatives(
    n_der, off_by_family, cols, release_of, rng, end, fam_names, pool, author_code, profile_code, target
):
    """Append ``n_der`` community derivatives of the official models to ``cols`` (fine-tunes, adapters,
    quantizations, merges; some of other derivatives), created along each family's density from its
    first release on. Llama's and Qwen's densities are scaled so that their cumulative counts cross at
    ``target``. Returns each new model's parent indices."""
    parents_of: dict[int, list[int]] = {}
    root_of: dict[int, int] = {}
    fams = [f for f, idx in off_by_family.items() if idx]
    if not fams or n_der <= 0:
        return parents_of
    created = np.array(cols["created"], dtype=np.int64)
    starts = {f: int(created[off_by_family[f]].min()) + 2 * DAY for f in fams}
    weights = np.array([cat.DERIVATIVE_WEIGHT.get(fam_names[f], cat.OTHER_ORG_DERIVATIVE_WEIGHT) for f in fams])
    n_f = dict(zip(fams, rng.multinomial(n_der, weights / weights.sum()), strict=True))
    kinds = {
        f: ("llama" if fam_names[f] == "meta-llama" else "qwen" if fam_names[f] == "Qwen" else "other") for f in fams
    }
    # Llama/Qwen: calibrate the Qwen density so the cumulative counts cross at the target date
    lf = [f for f in fams if kinds[f] == "llama"]
    qf = [f for f in fams if kinds[f] == "qwen"]
    c_q = 1.0
    if lf and qf:
        lf, qf = lf[0], qf[0]
        td = to_epoch(target)

        def integral(kind, s, e, c=1.0):
            if e <= s:
                return 0.0
            g = np.linspace(s, e, 4000)
            d = density(kind, g, s, c)
            return float(np.sum((d[1:] + d[:-1]) / 2 * np.diff(g)))

        c_q = integral("llama", starts[lf], td) / max(integral("qwen", starts[qf], td), 1e-9)
        tot = n_f[lf] + n_f[qf]
        il, iq = integral("llama", starts[lf], end), integral("qwen", starts[qf], end, c_q)
        n_f[lf] = round(tot * il / (il + iq))
        n_f[qf] = tot - n_f[lf]
    zipf_n = len(pool)
    for f in fams:
        n = int(n_f[f])
        if n <= 0 or starts[f] >= end:
            continue
        tt = np.sort(density_times(kinds[f], starts[f], end, n, rng, c_q if kinds[f] == "qwen" else 1.0))
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
            _org, relinfo, _ = release_of[root] if root < len(release_of) else release_of[root_of[root]]
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
            cols["author"].append(author_code(author))
            cols["created"].append(tt[j])
            cols["official"].append(False)
            cols["family"].append(f)
            cols["rel"].append(r)
            cols["profile"].append(profile_code(lib2, pipe2, mt, flavor))
            cols["license"].append(cat.ORG_LICENSE.get(fam_names[f], "apache-2.0"))
            cols["gated"].append(0)
            cols["P"].append(min(Pd[j], 5e6))
            cols["lam"].append(lamd[j])
            parents_of[idx] = parents
            root_of[idx] = root if root < len(release_of) else root_of[root]
            if r in (1, 3):
                pool_pos.append(idx - base_global)
    return parents_of
