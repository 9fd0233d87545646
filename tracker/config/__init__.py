"""Load and validate config.yaml into frozen settings.

Everything is checked before any side effect. A mistake raises ConfigError with a message that names
the file, the key, what is wrong and an example of a right value; the CLI turns it into exit code 2.
No other I/O happens here, and no secret is ever read from the file (HF_TOKEN comes from the
environment only).

  settings.py     the frozen settings (Settings, HubSettings, Family, ...) and ConfigError
  strict_yaml.py  reading the file: YAML that refuses a key given twice
  validator.py    the checks sections are made of (unknown keys, numbers in a range)
  sections.py     the validation of each section into Settings
"""

from __future__ import annotations

import os
from pathlib import Path

from tracker.config import strict_yaml
from tracker.config.sections import JOBS, REGIONS, parse
from tracker.config.settings import ConfigError, ExportSettings, Family, HubSettings, QualitySettings, Settings

DEFAULT_CONFIG = "config.yaml"

__all__ = [
    "DEFAULT_CONFIG",
    "JOBS",
    "REGIONS",
    "ConfigError",
    "ExportSettings",
    "Family",
    "HubSettings",
    "QualitySettings",
    "Settings",
    "config_path",
    "load",
    "parse",
]


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--config, else TRACKER_CONFIG, else ./config.yaml."""
    return Path(explicit or os.environ.get("TRACKER_CONFIG") or DEFAULT_CONFIG)


def load(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate a config file. Raises ConfigError on any mistake."""
    p = config_path(path)
    if not p.is_file():
        raise ConfigError(
            f"{p}: config file not found. Pass --config PATH or set TRACKER_CONFIG; "
            f"the repository ships a commented example in config.yaml."
        )
    return parse(strict_yaml.read(p), p)
