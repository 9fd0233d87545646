"""What the side-by-side benchmarks share: the baseline's code, exported from git, and the order of the
alternated passes (old, new, then new, old: the machine's load weighs on both alike)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
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


def rounds(xs: list[tuple[float, float]]) -> str:
    """Every round's CPU seconds, then the worst round's CPU and wall seconds (`xs`: (cpu, wall) pairs)."""
    cpu = " ".join(f"{c:.3f}" for c, _ in xs)
    return f"cpu [{cpu}] worst {max(c for c, _ in xs):.3f} s cpu / {max(w for _, w in xs):.3f} s wall"
