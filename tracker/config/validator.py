"""The checks every section of config.yaml is made of, each failing with a ConfigError that names the file,
the key, what is wrong and an example of a right value."""

from __future__ import annotations

import difflib
import math
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from tracker.config.settings import ConfigError


def key_at(prefix: str, name: str) -> str:
    """The key as a message names it: `hub.timeout_s`, `families[0] (qwen).name`, or `warehouse` at the top."""
    return f"{prefix}.{name}" if prefix else name


class Validator:
    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, what: str, example: str) -> None:
        where = f"{self.path}: {key}" if key else str(self.path)
        raise ConfigError(f"{where}: {what}.\n  Example of a right value:\n    {example}")

    def number(
        self, key: str, value: Any, lo: float, hi: float, what: str, example: str, integer: bool = False
    ) -> float:
        """A finite number (a whole one if `integer`) within [lo, hi]; .inf and .nan are refused. The range is
        compared first: an integer too large for a float is out of range, not an OverflowError."""
        ok = (
            not isinstance(value, bool)
            and isinstance(value, int if integer else (int, float))
            and lo <= value <= hi
            and math.isfinite(value)
        )
        if not ok:
            self.fail(key, f"must be {what}, got {value!r}", example)
        return value

    def number_in(
        self,
        d: dict,
        prefix: str,
        name: str,
        default: float,
        lo: float,
        hi: float,
        what: str,
        example: str | None = None,
        integer: bool = False,
    ) -> float:
        """`number` on d[name] (`default` when absent), the key named under `prefix`; the example of a right
        value is `name: default` unless given."""
        value = d.get(name, default)
        return self.number(key_at(prefix, name), value, lo, hi, what, example or f"{name}: {default}", integer)

    def folder(self, key: str, value: Any, example: str, config: Path) -> Path:
        """A folder path; a relative one is relative to the config file's folder, not to the caller's cwd."""
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"must be a folder path, got {value!r}", example)
        path = Path(value).expanduser()
        return path if path.is_absolute() else config.resolve().parent / path

    def keys(self, d: dict, prefix: str, allowed: set[str], required: AbstractSet[str] = frozenset()) -> None:
        for k in d:
            if k not in allowed:
                where = key_at(prefix, str(k))
                near = difflib.get_close_matches(str(k), sorted(allowed), n=1, cutoff=0.6)
                hint = f"did you mean '{near[0]}'? " if near else ""
                self.fail(
                    where,
                    f"unknown key '{k}' ({hint}allowed here: {', '.join(sorted(allowed))})",
                    f"{near[0] if near else sorted(allowed)[0]}: ...",
                )
        for k in sorted(required - set(d)):
            self.fail(key_at(prefix, k), "missing required key", f"{k}: ...")
