"""What the side-by-side benchmarks share: the baseline's code, exported from git, the order of the
alternated passes (old, new, then new, old: the machine's load weighs on both alike), the timing of a
call and the printing of every case's rounds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def export(ref: str, into: Path, repo: Path) -> Path:
    """The files git ref `ref` of `repo` holds, written into the new folder `into` (returned)."""
    into.mkdir()
    arc = subprocess.run(["git", "archive", ref], cwd=repo, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=arc, check=True)
    return into


def alternated(passes: int, old: T, new: T) -> Iterator[T]:
    """`old, new` on even passes, `new, old` on odd ones."""
    for p in range(passes):
        yield from (old, new) if p % 2 == 0 else (new, old)


def worker(script: str, tree: Path, *args: str) -> str:
    """The last line that `python SCRIPT ARGS` prints (empty if none), run with `tree`'s tracker first on the
    path: each tree is timed in a process of its own."""
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_DISABLE_TELEMETRY": "1"}
    cmd = [sys.executable, str(Path(script).resolve()), *args]
    lines = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout.splitlines()
    return lines[-1] if lines else ""


def timed(
    passes: int, old_tree: Path, new_tree: Path, cases: tuple[str, ...], rounds_of: Callable[[Path], dict[str, list]]
) -> tuple[dict[str, list], dict[str, list]]:
    """Each case's rounds in the old and the new tree, over `passes` alternated passes (`rounds_of(tree)`:
    one pass's rounds of each case)."""
    old: dict[str, list] = {c: [] for c in cases}
    new: dict[str, list] = {c: [] for c in cases}
    for tree, acc in alternated(passes, (old_tree, old), (new_tree, new)):
        got = rounds_of(tree)
        for c in cases:
            acc[c] += got[c]
    return old, new


def rounds(xs: list[tuple[float, float]]) -> str:
    """Every round's CPU seconds, then the worst round's CPU and wall seconds (`xs`: (cpu, wall) pairs)."""
    cpu = " ".join(f"{c:.3f}" for c, _ in xs)
    return f"cpu [{cpu}] worst {max(c for c, _ in xs):.3f} s cpu / {max(w for _, w in xs):.3f} s wall"


def cpu_wall(fn: Callable[..., object], *args: object, **kwargs: object) -> tuple[float, float]:
    """One call's process CPU seconds (DuckDB's threads included) and wall seconds."""
    c, w = time.process_time(), time.perf_counter()
    fn(*args, **kwargs)
    return time.process_time() - c, time.perf_counter() - w


def print_cases(old: dict[str, list], new: dict[str, list], cases: tuple[str, ...]) -> None:
    """Two lines per case: the old tree's rounds, then the new tree's with both means and their ratio."""
    width = max(map(len, cases)) + 1
    for c in cases:
        mo, mn = (sum(x for x, _ in v[c]) / len(v[c]) for v in (old, new))
        print(f"{c:{width}} old {rounds(old[c])}")
        print(f"{'':{width}} new {rounds(new[c])}   mean {mo:.3f} -> {mn:.3f} s cpu ({mo / mn:.2f}x)")
