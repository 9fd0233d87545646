"""Benchmark: the default test run (`python -m pytest`, as the README gives it), the baseline ref's tree beside
the working tree's, with where each run's time goes.

Issue 16 asks for a default run of at most 40 s on two cores. This script exports the baseline ref with
`git archive` into a temporary folder (beside a link to ../shared, so that the tests that read the real
Hub data run in both trees), then runs the suite in each tree in turn, old and new alternated over
--passes passes (old, new, then new, old: the machine's load weighs on both alike). Each run is
`python -m pytest` in that tree with its own pyproject's options (two xdist workers, `--dist loadfile`,
the trials and the heavy tests left out), plus `-m MARK` if --mark is given (`--mark "not slow"` for the
inner loop, `--mark trial` for the trials)
and the plugin bench/suite_timing.py, which records every test's CPU and wall seconds. Every run is
printed, then each tree's mean and worst:

  wall    the run's wall seconds (the figure the issue's goal is about)
  cpu     the CPU seconds of the run's whole process tree (the workers, the tests' subprocesses)
  busy    each worker's summed test wall seconds (start-up and collection excluded)
  waits   each test's wall minus its CPU, summed over both workers: the real waits inside tests, plus
          any time a worker stood waiting for a core (two workers and DuckDB's threads share two)

then, for the working tree, the files that take longest, the tests that wait longest, and the tests that
break the README's rules (their module fixtures' set-up included: it lands on the first test that needs
them): those not marked `slow` that took more than SLOW_S, which the rule marks `slow` or makes cheaper, and
those of the default run that took more than TRIAL_S, which are trials to mark `trial` or tests to make
cheaper.

What it waits on: the two CPU cores (both workers compute most of the time), and the waits that the
tests exist to show: huggingface_hub's retry backoff and `Retry-After`, the tracker's request budgets,
the emulator's rate-limit windows, signals to real daemons and subprocesses, and fsyncs. No emulator
quota is shared between tests. Run:

    python bench/suite.py [--baseline main] [--passes 1] [--mark "not slow"] [--top 12]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import sidebyside

HERE = Path(__file__).resolve().parents[1]
SLOW_S = 0.5  # the README's rule (Tests): a test that takes longer here is marked slow
TRIAL_S = 1.0  # and a test of the default run should not take longer (a trial is marked trial)
_LONG_PARAM = re.compile(r"\[.{60,}\]")  # a parametrised test's long id, shortened in the listing


@dataclass
class Run:
    wall: float
    cpu: float
    summary: str  # pytest's last line, e.g. "483 passed in 86.61s (0:01:26)"
    # (cpu, wall, worker, tier: "heavy", "trial", "slow" or "-", test id)
    tests: list[tuple[float, float, str, str, str]] = field(default_factory=list)

    @property
    def waits(self) -> float:
        return sum(max(0.0, w - c) for c, w, *_ in self.tests)

    def busy(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for _, w, worker, *_ in self.tests:
            out[worker] += w
        return dict(sorted(out.items()))

    def line(self) -> str:
        busy = ", ".join(f"{k} {v:.1f}" for k, v in self.busy().items())
        return (
            f"{self.wall:6.1f} s wall {self.cpu:6.1f} s cpu   busy [{busy}] s   "
            f"waits {self.waits:5.1f} s   ({self.summary})"
        )


def run_suite(tree: Path, mark: str | None, log: Path) -> Run:
    """The default test run in `tree`, timed; exits with pytest's output if a test fails."""
    log.unlink(missing_ok=True)
    env = {"PYTHONPATH": f"{tree}:{HERE / 'bench'}", "SUITE_TIMING_LOG": str(log)}
    cmd = [sys.executable, "-m", "pytest", "-p", "suite_timing", *(["-m", mark] if mark else [])]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=tree, env={**os.environ, **env}, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0:
        tail = "\n".join(lines[-30:])
        sys.exit(f"the suite failed in {tree} (exit {proc.returncode}):\n{tail}\n{proc.stderr[-2000:]}")
    tests = []
    for row in log.read_text().splitlines() if log.exists() else []:
        c, w, worker, tier, nodeid = row.split("\t", 4)
        tests.append((float(c), float(w), worker, tier, nodeid))
    return Run(wall, cpu, lines[-1] if lines else "", tests)


def per_file(runs: list[Run]) -> list[tuple[str, float, float, float, int]]:
    """(file, mean wall, mean cpu, mean waits, tests) over the runs, longest first."""
    acc: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for r in runs:
        for c, w, _, _, nodeid in r.tests:
            a = acc[nodeid.split("::")[0]]
            a[0] += w
            a[1] += c
            a[2] += max(0.0, w - c)
            a[3] += 1
    n = len(runs)
    rows = [(f, a[0] / n, a[1] / n, a[2] / n, round(a[3] / n)) for f, a in acc.items()]
    return sorted(rows, key=lambda r: -r[1])


def waiting_tests(runs: list[Run]) -> list[tuple[str, float]]:
    """(test id, worst wait) over the runs, longest first."""
    worst: dict[str, float] = defaultdict(float)
    for r in runs:
        for c, w, _, _, nodeid in r.tests:
            worst[nodeid] = max(worst[nodeid], w - c)
    return sorted(worst.items(), key=lambda kv: -kv[1])


def over(runs: list[Run], tiers: tuple[str, ...], limit: float) -> list[tuple[str, float]]:
    """(test id, worst wall) of the tests in `tiers` that took more than `limit` seconds in some run."""
    worst: dict[str, float] = defaultdict(float)
    for r in runs:
        for _, w, _, tier, nodeid in r.tests:
            if tier in tiers and w > limit:
                worst[nodeid] = max(worst[nodeid], w)
    return sorted(worst.items(), key=lambda kv: -kv[1])


def summary(name: str, runs: list[Run]) -> str:
    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs)

    walls, cpus, waits = [r.wall for r in runs], [r.cpu for r in runs], [r.waits for r in runs]
    return (
        f"{name}: wall mean {mean(walls):.1f} worst {max(walls):.1f} s; cpu mean {mean(cpus):.1f} worst "
        f"{max(cpus):.1f} s; waits mean {mean(waits):.1f} worst {max(waits):.1f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="main", help="git ref of the old code (default: main)")
    ap.add_argument(
        "--passes", type=int, default=1, help="old/new passes, alternated (each runs the suite once per tree)"
    )
    ap.add_argument("--mark", help='a pytest -m expression added to the run ("not slow": the inner loop; "trial")')
    ap.add_argument("--top", type=int, default=12, help="how many files and waiting tests to list")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="suite-bench-") as tmp:
        old_tree = sidebyside.export(args.baseline, Path(tmp) / "baseline", HERE)
        if (HERE.parent / "shared").is_dir():  # the tests find the real Hub data at ../shared
            (Path(tmp) / "shared").symlink_to(HERE.parent / "shared")
        runs: dict[str, list[Run]] = {"old": [], "new": []}
        for name, tree in sidebyside.alternated(args.passes, ("old", old_tree), ("new", HERE)):
            run = run_suite(tree, args.mark, Path(tmp) / "timing.tsv")
            runs[name].append(run)
            print(f"{name} ({args.baseline if name == 'old' else 'working tree'}): {run.line()}", flush=True)
        print(summary(f"old ({args.baseline})", runs["old"]))
        print(summary("new (working tree)", runs["new"]))

    print(f"\nthe working tree's {args.top} longest files (mean over {len(runs['new'])} run(s)):")
    print(f"{'wall':>7} {'cpu':>7} {'waits':>7} {'tests':>5}  file")
    for f, w, c, idle, n in per_file(runs["new"])[: args.top]:
        print(f"{w:7.1f} {c:7.1f} {idle:7.1f} {n:5d}  {f}")
    print(f"\nthe working tree's {args.top} longest waits inside a test (worst over the runs):")
    for nodeid, idle in waiting_tests(runs["new"])[: args.top]:
        print(f"{idle:7.2f} s  {_LONG_PARAM.sub('[...]', nodeid)}")
    for what, tiers, limit in (("not marked slow", ("-",), SLOW_S), ("of the default run", ("-", "slow"), TRIAL_S)):
        rows = over(runs["new"], tiers, limit)
        print(f"\nthe working tree's tests {what} that took over {limit} s (worst wall): {len(rows) or 'none'}")
        for nodeid, w in rows:
            print(f"{w:7.2f} s  {_LONG_PARAM.sub('[...]', nodeid)}")


if __name__ == "__main__":
    main()
