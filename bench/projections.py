"""Benchmark: how often a projected crossover comes true, backtested on emulator worlds whose crossover
day is known (Qwen passes Llama in 30-day downloads on World.DOWNLOADS_CROSSOVER_DAY), and how often
pure noise yields a claim.

For each world (seed) the daily family series come from the world's closed-form truth (summed 30-day
downloads of each org's official models), and `trends.backtest` projects as of every other day from
2026-07-01 to 2026-08-16 using only the data up to that day, then checks the world's real crossover
day against the claimed range. Side by side, in the same run: the rule as shipped (with the history
check: a fit made 7 days earlier must have foreseen today's gap) and the baseline without it.
Then noise worlds: families at one level plus Gaussian noise, where any claim is wrong.

Waits on: CPU only (pandas/numpy; no I/O, no network).

    python bench/projections.py [--worlds 8] [--noise 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from tracker import trends
from tracker.hubsim import World


def truth(seed: int) -> pd.DataFrame:
    w = World(seed=seed, models=1500, now="2026-06-01")
    rows = []
    for d in pd.date_range("2026-05-25", "2026-09-30"):
        at = d + pd.Timedelta(hours=6)
        for org, fam in (("Qwen", "qwen"), ("meta-llama", "llama")):
            rows.append({"day": d, "family": fam, "downloads_30d": w.org_downloads(org, at)})
    return pd.DataFrame(rows)


def score(bt: pd.DataFrame) -> tuple[int, int]:
    return len(bt), int(bt["hit"].fillna(False).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worlds", type=int, default=8, help="emulator worlds (seeds 0..N-1)")
    ap.add_argument("--noise", type=int, default=200, help="pure-noise worlds")
    args = ap.parse_args()
    as_of = list(pd.date_range("2026-07-01", "2026-08-16", freq="2D"))
    print(f"{len(as_of)} as-of days per world, 2026-07-01 .. 2026-08-16; crossover day {World.DOWNLOADS_CROSSOVER_DAY}")
    print(
        f"{'world':>5} {'claims':>7} {'hits':>5} {'rate':>6} | {'baseline claims':>15} {'hits':>5} {'rate':>6} "
        f"{'seconds':>8}"
    )
    tot = {"ours": [0, 0], "base": [0, 0]}
    worst = {"ours": None, "base": None}
    for seed in range(args.worlds):
        t0 = time.monotonic()
        df = truth(seed)
        ours = score(trends.backtest(df, "downloads_30d", as_of))
        base = score(trends.backtest(df, "downloads_30d", as_of, check_history=False))
        for k, (c, h) in (("ours", ours), ("base", base)):
            tot[k][0] += c
            tot[k][1] += h
            if c and (worst[k] is None or h / c < worst[k][1]):
                worst[k] = (seed, h / c)
        rate = [f"{h / c:.0%}" if c else "-" for c, h in (ours, base)]
        print(
            f"{seed:>5} {ours[0]:>7} {ours[1]:>5} {rate[0]:>6} | {base[0]:>15} {base[1]:>5} {rate[1]:>6} "
            f"{time.monotonic() - t0:>8.1f}"
        )
    for k, name in (("ours", "shipped rule"), ("base", "baseline (no history check)")):
        c, h = tot[k]
        w = worst[k]
        print(
            f"{name}: {h} of {c} claims came true within their range ({h / c:.0%})" if c else f"{name}: no claims",
            f"; worst world {w[0]}: {w[1]:.0%}" if w else "",
        )
    rng = np.random.default_rng(0)
    claims = {"ours": 0, "base": 0}
    for _ in range(args.noise):
        n_fam, window = int(rng.integers(2, 6)), int(rng.choice([14, 28]))
        n_days = window + 10
        vals = 1e6 + rng.normal(0.0, float(rng.choice([0.5, 10.0, 1e4])), size=(n_days, n_fam))
        days = pd.Timestamp("2026-01-05") + pd.to_timedelta(np.repeat(np.arange(n_days), n_fam), unit="D")
        df = pd.DataFrame({"day": days, "family": [f"f{i}" for i in range(n_fam)] * n_days, "x": vals.ravel()})
        claims["ours"] += len(trends.projections(df, "x", days.max(), window_days=window))
        claims["base"] += len(trends.projections(df, "x", days.max(), window_days=window, check_history=False))
    print(f"pure noise, {args.noise} worlds: {claims['ours']} claims (shipped rule), {claims['base']} (baseline)")


if __name__ == "__main__":
    main()
