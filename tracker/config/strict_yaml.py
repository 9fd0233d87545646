"""Reading config.yaml: YAML that refuses a key given twice (PyYAML would silently keep the second)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tracker.config.settings import ConfigError


def read(p: Path) -> Any:
    """The parsed document of a config file that exists; ConfigError on a repeated key or bad YAML."""
    try:
        return yaml.load(p.read_text(encoding="utf-8"), Loader=StrictLoader)  # noqa: S506 (a SafeLoader)
    except DuplicateKey as exc:
        example = (
            "families:\n      - {name: llama, authors: [meta-llama], region: us}\n"
            "      - {name: qwen, authors: [Qwen], region: china}"
            if exc.key == "families"
            else f"{exc.key}: <one value>   # once per block"
        )
        raise ConfigError(
            f"{p}: {exc.key}: the key appears twice (line {exc.first} and line {exc.line}); YAML would silently "
            f"keep only the second. Merge them into one block.\n  Example of a right value:\n    {example}"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None


class DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, first: int, line: int):
        super().__init__(key)
        self.key, self.first, self.line = key, first, line


class StrictLoader(yaml.SafeLoader):
    """yaml.safe_load that refuses a mapping with the same key twice (PyYAML keeps the last one)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            seen: dict[Any, int] = {}
            for key_node, _value in node.value:
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    first = seen.setdefault(key, line)
                except TypeError:  # an unhashable key: the base class reports it
                    continue
                if first != line:
                    raise DuplicateKey(str(key), first, line)
        return super().construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, StrictLoader.construct_mapping)
