"""The validation of each section of config.yaml (warehouse, hub, families, schedule, export, quality)
into Settings. Everything is checked before any side effect."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tracker.config.settings import (
    MAX_RETRY_WAIT_S,
    RETRY_WAIT_S,
    ExportSettings,
    Family,
    HubSettings,
    QualitySettings,
    Settings,
)
from tracker.config.validator import Validator

REGIONS = ("us", "china", "eu", "other")
NAME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
HUB_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
HUB_KEYS = {
    "endpoint",
    "timeout_s",
    "page_size",
    "budget_s",
    "concurrency",
    "tree_budget_s",
    "max_models",
    "retry_wait_s",
}


def parse(raw: Any, path: Path) -> Settings:
    """Validate a parsed YAML document (see load)."""
    v = Validator(path)
    if not isinstance(raw, dict):
        v.fail("", "the file must be a mapping with the keys warehouse, hub, families", "families: [...]")
    v.keys(
        raw,
        "",
        {"warehouse", "hub", "families", "schedule", "export", "warehouse_min_free_mb", "quality"},
        required={"families"},
    )

    warehouse = v.folder("warehouse", raw.get("warehouse", "warehouse/"), "warehouse: warehouse/", path)
    hub = _parse_hub(v, raw.get("hub") or {})
    families = _parse_families(v, raw.get("families"))
    schedule, jitter = _parse_schedule(v, raw.get("schedule"))
    free = v.number_in(raw, "", "warehouse_min_free_mb", 200, 0, 10**7, "megabytes from 0 to 10000000")
    quality = _parse_quality(v, raw.get("quality") or {})
    return Settings(
        path=path,
        warehouse=warehouse,
        hub=hub,
        families=families,
        schedule=schedule,
        schedule_jitter_s=jitter,
        export=_parse_export(v, raw.get("export"), path),
        warehouse_min_free_mb=float(free),
        quality=quality,
    )


def _parse_quality(v: Validator, q: Any) -> QualitySettings:
    if not isinstance(q, dict):
        v.fail("quality", f"must be a mapping, got {type(q).__name__}", "quality: {all_time_jump_factor: 100}")
    v.keys(q, "quality", {"all_time_jump_factor"})
    factor = v.number_in(q, "quality", "all_time_jump_factor", 100, 1.5, 1e9, "a factor from 1.5 to 1e9")
    return QualitySettings(all_time_jump_factor=float(factor))


def _parse_hub(v: Validator, h: Any) -> HubSettings:
    if not isinstance(h, dict):
        v.fail("hub", f"must be a mapping, got {type(h).__name__}", "hub: {timeout_s: 30, page_size: 1000}")
    v.keys(h, "hub", HUB_KEYS)
    endpoint = h.get("endpoint")
    if endpoint is not None:
        u = urlparse(str(endpoint))
        if u.scheme not in ("http", "https") or not u.netloc:
            v.fail(
                "hub.endpoint",
                f"'{endpoint}' is not an http(s) URL",
                "endpoint: http://127.0.0.1:8765   # or leave it out to use HF_ENDPOINT / huggingface.co",
            )
        endpoint = str(endpoint).rstrip("/")
    timeout = v.number_in(h, "hub", "timeout_s", 30, 0.01, 600, "seconds between 0 and 600")
    page = v.number_in(
        h, "hub", "page_size", 1000, 1, 1000, "a whole number from 1 to 1000 (the Hub's maximum)", integer=True
    )
    budget = v.number_in(h, "hub", "budget_s", 900, timeout, 86400, f"seconds from timeout_s ({timeout}) to 86400")
    conc = v.number_in(h, "hub", "concurrency", 4, 1, 32, "a whole number from 1 to 32", integer=True)
    week = 7 * 86400
    tree_budget = v.number_in(
        h, "hub", "tree_budget_s", 3600, timeout, week, f"seconds from timeout_s ({timeout}) to {week}"
    )
    cap = v.number_in(h, "hub", "max_models", 200_000, 1, 10**8, "a whole number from 1 to 100000000", integer=True)
    retry_wait = v.number_in(
        h,
        "hub",
        "retry_wait_s",
        RETRY_WAIT_S,
        0.01,
        MAX_RETRY_WAIT_S,
        f"seconds from 0.01 to {MAX_RETRY_WAIT_S:g} (the first wait before a retry; each next one doubles, "
        f"up to {MAX_RETRY_WAIT_S:g} s)",
    )
    return HubSettings(  # integer=True: page, conc and cap are whole numbers already
        endpoint=endpoint,
        timeout_s=float(timeout),
        page_size=int(page),
        budget_s=float(budget),
        concurrency=int(conc),
        tree_budget_s=float(tree_budget),
        max_models=int(cap),
        retry_wait_s=float(retry_wait),
    )


def _regex(v: Validator, key: str, value: Any) -> re.Pattern[str] | None:
    if value is None:
        return None
    if not isinstance(value, str):
        v.fail(key, f"must be a regular expression string, got {value!r}", "include: '(?i)gemma'")
    try:
        return re.compile(value)
    except re.error as exc:
        v.fail(key, f"'{value}' is not a valid regular expression ({exc})", "include: '(?i)^gemma'")
    return None  # unreachable


def _parse_families(v: Validator, fams: Any) -> tuple[Family, ...]:
    example = "families:\n      - {name: qwen, label: Alibaba Qwen, authors: [Qwen], region: china}"
    if not isinstance(fams, list) or not fams:
        v.fail("families", "must be a non-empty list of families", example)
    out: list[Family] = []
    seen: set[str] = set()
    for i, f in enumerate(fams):
        at = f"families[{i}]"
        if not isinstance(f, dict):
            v.fail(at, "each family must be a mapping", example)
        v.keys(
            f,
            at,
            {"name", "label", "authors", "search", "include", "exclude", "region", "ecosystem", "ecosystem_top"},
            required={"name", "authors", "region"},
        )
        name = f["name"]
        if not isinstance(name, str) or not NAME_RE.match(name):
            v.fail(
                f"{at}.name", f"{name!r} must be a short lowercase identifier (letters, digits, - or _)", "name: qwen"
            )
        at = f"families[{i}] ({name})"
        if name in seen:
            v.fail(f"{at}.name", f"duplicate family name '{name}'; each family needs its own name", "name: qwen2")
        seen.add(name)
        authors = f["authors"]
        if isinstance(authors, str):
            authors = [authors]
        if not isinstance(authors, list) or not authors:
            v.fail(f"{at}.authors", "must list at least one Hub user or organisation", "authors: [Qwen]")
        for a in authors:
            if not isinstance(a, str) or not HUB_ID_RE.match(a):
                v.fail(f"{at}.authors", f"{a!r} is not a Hub user or organisation name", "authors: [meta-llama]")
        region = f["region"]
        if region not in REGIONS:
            v.fail(f"{at}.region", f"{region!r} is not one of {', '.join(REGIONS)}", "region: us")
        label = f.get("label", name)
        if not isinstance(label, str) or not label.strip():
            v.fail(f"{at}.label", "must be a non-empty text", "label: Meta Llama")
        search = f.get("search")
        if search is not None and (not isinstance(search, str) or not search.strip()):
            v.fail(f"{at}.search", "must be a non-empty substring of the repo id", "search: gemma")
        eco = f.get("ecosystem", False)
        if not isinstance(eco, bool):
            v.fail(f"{at}.ecosystem", f"must be true or false, got {eco!r}", "ecosystem: true")
        top = v.number_in(f, at, "ecosystem_top", 10, 1, 1000, "a whole number from 1 to 1000", integer=True)
        out.append(
            Family(
                name=name,
                label=label.strip(),
                authors=tuple(dict.fromkeys(authors)),
                region=region,
                search=search,
                include=_regex(v, f"{at}.include", f.get("include")),
                exclude=_regex(v, f"{at}.exclude", f.get("exclude")),
                ecosystem=eco,
                ecosystem_top=int(top),
            )
        )
    return tuple(out)


JOBS = ("collect", "tree", "report", "census")  # census: off unless scheduled (it lists the whole Hub)


def _parse_schedule(v: Validator, s: Any) -> tuple[dict[str, str], int]:
    if s is None:
        return {}, 0
    example = 'schedule:\n      collect: "0 6 * * *"\n      tree: "30 6 * * *"\n      report: "0 8 * * 1"'
    if not isinstance(s, dict):
        v.fail("schedule", "must be a mapping of job name to a five-field crontab string", example)
    v.keys(s, "schedule", set(JOBS) | {"jitter_s"})
    jitter = v.number_in(s, "schedule", "jitter_s", 0, 0, 3600, "whole seconds from 0 to 3600", "jitter_s: 120", True)
    out: dict[str, str] = {}
    for job in JOBS:
        if job not in s:
            continue
        expr = s[job]
        from tracker.cron import CronError, check_crontab  # local: keeps config free of APScheduler at import

        try:
            check_crontab(expr)  # syntax, and a string that never fires ("0 6 31 2 *")
        except CronError as exc:
            v.fail(
                f"schedule.{job}", str(exc), f'{job}: "0 6 * * *"   # minute hour day month weekday (0 and 7 = Sunday)'
            )
        out[job] = expr
    return out, int(jitter)


def _parse_export(v: Validator, e: Any, path: Path) -> ExportSettings | None:
    if e is None:
        return None
    example = (
        "export:\n      out: export/        # hive-partitioned day folders for Spark, Trino, Polars\n      days: 7"
    )
    if not isinstance(e, dict):
        v.fail("export", "must be a mapping with at least `out`", example)
    v.keys(e, "export", {"out", "format", "days"}, required={"out"})
    folder = v.folder("export.out", e["out"], "out: export/", path)
    fmt = e.get("format", "parquet")
    if fmt not in ("parquet", "csv"):
        v.fail("export.format", f"must be parquet or csv, got {fmt!r}", "format: parquet")
    days = v.number_in(e, "export", "days", 7, 1, 3660, "a whole number of days from 1 to 3660", integer=True)
    return ExportSettings(out=folder, format=fmt, days=int(days))
