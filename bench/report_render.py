"""Benchmark: `tracker report` on a small warehouse, the baseline ref's code beside the working tree's.

The test suite writes a report some thirty times, each on a small warehouse; most of a report's CPU is
drawing its charts (matplotlib, SVG). This script builds one small warehouse with the working tree
(`bench/report.py`'s synthetic Hub through `jobs.collect`, then `jobs.derive`: 9 families, --models
models, --days daily snapshots), exports the baseline ref with `git archive`, and then, --rounds times,
old and new alternated so that the machine's load weighs on both alike, starts one fresh process per
tree that imports the tracker and writes the same week's report twice with `jobs.report` (the first call
pays the first-use costs a test pays, the second is warm). Every round is printed, then the worst and the
mean of each side:

  import   process CPU seconds to import tracker.jobs and tracker.report (matplotlib loads on first draw)
  report1  the first `jobs.report` call: reading the warehouse, the trend analysis, rendering
  render1  of which `tracker.report.render` (tables, headlines, charts, files written)
  render2  `render` again, in the warm process
  process  the worker process's whole CPU (user + sys, measured by this script: start-up included)

Figures are CPU seconds (time.process_time in the worker; getrusage for the process); wall time is noisy
on a shared machine. What it waits on: only the CPU and the disk (no network, no emulator, no sleeps).

Exactness: the two trees' Markdown reports must be byte-identical, and so must the HTML pages once each
inline <svg>...</svg> is cut out (the charts themselves may differ in layout by a point or two); the
script says which differ and exits 1. Run:

    python bench/report_render.py [--baseline main] [--rounds 5] [--days 35] [--models 900] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sidebyside

HERE = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


# ---------------------------------------------------------------- worker (runs inside one tree)
def _worker(cfg: Path, week: str, out: Path) -> None:
    """Import the tracker from PYTHONPATH, write `week`'s report twice into out/1 and out/2, print timings."""
    c0 = time.process_time()
    from tracker import config, jobs
    from tracker import report as report_mod

    imported = time.process_time() - c0
    spent: list[float] = []
    render = report_mod.render

    def timed_render(*args, **kwargs):
        c = time.process_time()
        try:
            return render(*args, **kwargs)
        finally:
            spent.append(time.process_time() - c)

    report_mod.render = timed_render  # jobs.report looks it up on the module at each call
    settings = config.load(cfg)
    laps = []
    for k in (1, 2):
        c = time.process_time()
        jobs.report(settings, week=week, out=out / str(k), now=NOW)
        laps.append(time.process_time() - c)
    print(json.dumps({"import": imported, "report1": laps[0], "render1": spent[0], "render2": spent[1]}))


# ---------------------------------------------------------------- driver
def _run(tree: Path, cfg: Path, week: str, out: Path) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "PYTHONPATH": str(tree), "TRACKER_LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, __file__, "--worker", str(cfg), "--week", week, "--out", str(out)]
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        sys.exit(f"the worker in {tree} failed:\n{proc.stderr[-3000:]}")
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    got["process"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return got


KEYS = ("import", "report1", "render1", "render2", "process")


def _row(label: str, t: dict[str, float]) -> str:
    return f"{label:>10} " + " ".join(f"{t[k]:8.3f}" for k in KEYS)


def _without_svg(page: str) -> str:
    return re.sub(r"<svg\b.*?</svg>", "<svg/>", page, flags=re.DOTALL)


def _unsteady(runs: list[Path], name: str) -> set[int]:
    """Line numbers of a Markdown report that differ between one tree's own runs (it is not deterministic)."""
    texts = [(r / name).read_text().splitlines() for r in runs if (r / name).exists()]
    return {i for t in texts[1:] for i, (a, b) in enumerate(zip(texts[0], t, strict=False)) if a != b}


def _compare(old_runs: list[Path], new: Path) -> tuple[list[str], list[str]]:
    """(differences between the baseline's first run and the working tree's, lines left out of the comparison
    because the baseline's own runs differ there)."""
    old = old_runs[0]
    bad, unsteady, pages = [], [], []
    names = sorted({p.name for p in old.iterdir()} | {p.name for p in new.iterdir()})
    for name in names:
        a, b = old / name, new / name
        if not (a.exists() and b.exists()):
            bad.append(f"{name}: only in {'the baseline' if a.exists() else 'the working tree'}")
        elif name.endswith(".html"):
            pages.append((a, b))
        elif name.endswith(".md"):
            skip = _unsteady(old_runs, name)
            unsteady += [f"{name} line {i + 1}" for i in sorted(skip)]
            la, lb = ([x for i, x in enumerate(p.read_text().splitlines()) if i not in skip] for p in (a, b))
            if la != lb:
                diff = difflib.unified_diff(la, lb, lineterm="", n=0)
                bad.append(f"{name}: the Markdown differs\n    " + "\n    ".join(list(diff)[2:12]))
    for a, b in pages if not unsteady else []:  # a page says what its Markdown says: compared when steady
        if _without_svg(a.read_text()) != _without_svg(b.read_text()):
            bad.append(f"{a.name}: the page differs outside its charts")
    return bad, unsteady


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default="main", help="git ref of the old code (default: main)")
    ap.add_argument("--rounds", type=int, default=5, help="worker processes per tree, old and new alternated")
    ap.add_argument("--days", type=int, default=35, help="daily snapshots in the warehouse (default 35)")
    ap.add_argument("--models", type=int, default=900, help="models of the synthetic Hub (default 900)")
    ap.add_argument("--keep", help="build (or reuse) the warehouse in this folder")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--week", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(args.worker, args.week, args.out)
        return
    sys.path.insert(0, str(HERE / "bench"))
    sys.path.insert(0, str(HERE))
    from report import START, synthetic_warehouse

    from tracker import jobs

    work = Path(tempfile.mkdtemp(prefix="bench-report-render-"))
    try:
        root, cfg, settings, _, built = synthetic_warehouse(args.keep, "bench-report-render-", args.models, args.days)
        if built:
            jobs.derive(settings)
        week = jobs.last_complete_week(dt.datetime.combine(START + dt.timedelta(days=args.days), dt.time(), dt.UTC))
        base = sidebyside.export(args.baseline, work / "tree", HERE)
        print(f"baseline {args.baseline} vs working tree {HERE}: the {week} report of {args.models} synthetic "
              f"models x {args.days} days, one fresh process per tree and round; CPU seconds")  # fmt: skip
        print(f"{'':>10} " + " ".join(f"{k:>8}" for k in KEYS))
        times: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
        for r in range(1, args.rounds + 1):
            for side, tree in (("old", base), ("new", HERE)):
                t = _run(tree, cfg, week, work / side / str(r))
                times[side].append(t)
                print(_row(f"{side} #{r}", t), flush=True)
        for what, pick in (("worst", max), ("mean", lambda xs: sum(xs) / len(xs))):
            for side in ("old", "new"):
                print(_row(f"{side} {what}", {k: pick([t[k] for t in times[side]]) for k in KEYS}))
        old, new = times["old"], times["new"]
        for k in ("render1", "render2", "process"):
            mo, mn = sum(t[k] for t in old) / len(old), sum(t[k] for t in new) / len(new)
            print(f"{k}: mean {mo:.3f} -> {mn:.3f} s cpu ({mo / mn:.2f}x)")
        runs = [work / "old" / str(r) / str(k) for r in range(1, args.rounds + 1) for k in (1, 2)]
        bad, unsteady = _compare(runs, work / "new" / "1" / "1")
        if unsteady:
            print(f"the baseline's own runs differ in {', '.join(unsteady)}: left out of the comparison")
        print("exactness: " + ("Markdown identical, pages identical outside the charts" if not bad
                               else f"{len(bad)} differ:\n  " + "\n  ".join(bad)))  # fmt: skip
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        sys.exit(1 if bad else 0)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
