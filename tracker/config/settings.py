"""The validated configuration: frozen settings the rest of the tracker reads, and ConfigError."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# the retry backoff's first wait (hub.retry_wait_s) and its longest (the cap of the doubling): tracker.hub.RETRY
RETRY_WAIT_S = 0.5
MAX_RETRY_WAIT_S = 8.0


class ConfigError(Exception):
    """The configuration cannot be used as it is; the message says where and how to fix it."""


@dataclass(frozen=True)
class Family:
    name: str
    label: str
    authors: tuple[str, ...]
    region: str
    search: str | None = None
    include: re.Pattern[str] | None = None
    exclude: re.Pattern[str] | None = None
    ecosystem: bool = False
    ecosystem_top: int = 10

    def matches(self, model_id: str) -> bool:
        """Whether a listed repo belongs to the family (the include/exclude rules on the repo name)."""
        name = model_id.split("/", 1)[-1]
        if self.include is not None and not self.include.search(name):
            return False
        return not (self.exclude is not None and self.exclude.search(name))

    def owns(self, model_id: str) -> bool:
        """Whether a model id belongs to the family when it is not listed by the Hub for us (imported
        archives): one of the authors, the `search` text (case-insensitive, as the Hub's search) and
        the include/exclude rules."""
        author, _, _name = model_id.partition("/")
        if author not in self.authors:
            return False
        if self.search and self.search.lower() not in model_id.lower():
            return False
        return self.matches(model_id)

    def rule(self) -> str:
        """The family's definition in words, for reports: what was counted."""
        parts = [f"models by {', '.join(self.authors)}"]
        if self.search:
            parts.append(f"whose id contains '{self.search}'")
        if self.include is not None:
            parts.append(f"whose name matches /{self.include.pattern}/")
        if self.exclude is not None:
            parts.append(f"except names matching /{self.exclude.pattern}/")
        return " ".join(parts)


@dataclass(frozen=True)
class HubSettings:
    endpoint: str | None = None  # None: huggingface_hub's default, which honours HF_ENDPOINT
    timeout_s: float = 30.0  # per HTTP request; the client itself has none
    page_size: int = 1000
    budget_s: float = 900.0  # wall-clock deadline on a family's whole listing (then it fails cleanly)
    concurrency: int = 4  # parallel model_info requests of a tree run (the quota still paces them)
    tree_budget_s: float = 3600.0  # a tree run stops (keeping what it fetched) after this long
    max_models: int = 200_000  # a listing that goes past this many models fails the family at once
    retry_wait_s: float = RETRY_WAIT_S  # the retry backoff's first wait (then doubling, at most 8 s)


@dataclass(frozen=True)
class QualitySettings:
    # an all-time count that grows more than this many times (over max(previous, 1000)) in one
    # interval is flagged `all_time_jump` and left out of downloads_day
    all_time_jump_factor: float = 100.0


@dataclass(frozen=True)
class ExportSettings:
    """`export:`: after each collect and tree run, the daemon exports the days that changed (tracker.export)."""

    out: Path
    format: str = "parquet"
    days: int = 7  # the days checked after a job: the job's day and the days-1 before it


@dataclass(frozen=True)
class Settings:
    path: Path
    warehouse: Path
    hub: HubSettings = field(default_factory=HubSettings)
    families: tuple[Family, ...] = ()
    schedule: dict[str, str] = field(default_factory=dict)
    schedule_jitter_s: int = 0
    export: ExportSettings | None = None
    warehouse_min_free_mb: float = 200.0  # a run refuses to start with less free space than this
    quality: QualitySettings = field(default_factory=QualitySettings)

    def family(self, name: str) -> Family:
        for fam in self.families:
            if fam.name == name:
                return fam
        known = ", ".join(f.name for f in self.families)
        raise ConfigError(f"{self.path}: no family named '{name}' (known: {known}).")
