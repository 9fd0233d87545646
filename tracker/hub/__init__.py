"""The Hub seam: the only package that imports huggingface_hub. Returns plain data.

Every request of the tracker (listing pages and model_info alike) goes through one retry policy:
huggingface_hub's public `http_backoff` (429/5xx/timeouts, the `RateLimit` header's reset and
`Retry-After` in both its forms, see transport.py). Listings are paged here rather than by the
client's paginator, so that each page can be checked: the next-page link must stay on the
endpoint's origin (the token is never sent anywhere else), a repeated page or cursor or more than
`hub.max_models` models fails the listing at once, and only one page is held at a time. Raw JSON
records are returned rather than ModelInfo objects, so that one malformed record can be quarantined
instead of ending the listing. The HTTP transport under it (timeouts, deadlines, pacing, origin
pinning, counting) is in transport.py.
"""

from __future__ import annotations

import contextvars
import os
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import huggingface_hub
from huggingface_hub import constants
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.utils import hf_raise_for_status, http_backoff

from tracker import __version__
from tracker.config import Family, HubSettings
from tracker.hub.transport import (
    _CALL,
    _STATS,
    RETRY,
    RETRY_STATUSES,
    TOO_SLOW,
    BudgetExceeded,
    ForeignLink,
    HubCall,
    HubError,
    HubUnreachable,
    ListingLoop,
    RequestStats,
    client_factory,
    install_client_factory,
    origin_of,
    planned_wait,
    retry_after_seconds,
    retry_policy,
)
from tracker.lineage import RELATION_COLUMNS
from tracker.redact import redact, register

__all__ = [
    "LISTING_EXPAND",
    "RELATIONS",
    "RETRY",
    "RETRY_STATUSES",
    "TOO_SLOW",
    "BudgetExceeded",
    "ForeignLink",
    "Hub",
    "HubError",
    "HubUnreachable",
    "ListingLoop",
    "RequestStats",
    "TreeInfo",
    "client_factory",
    "describe_error",
    "is_unreachable",
    "origin_of",
    "parse_children",
    "planned_wait",
    "retry_after_seconds",
    "retry_policy",
]

LISTING_EXPAND = (
    "downloads",
    "downloadsAllTime",
    "likes",
    "trendingScore",
    "createdAt",
    "lastModified",
    "pipeline_tag",
    "library_name",
    "gated",
    "safetensors",
)


def is_unreachable(exc: BaseException | None, stats: RequestStats | None = None) -> bool:
    """Whether a failure means nothing answers at the endpoint (DNS, refused, no route): asking again
    for the next family or model would fail the same way."""
    if isinstance(exc, (httpx2.ConnectError, HubUnreachable)):
        return True
    return stats is not None and stats.connect_failures > 0 and stats.answered == 0


def describe_error(exc: BaseException) -> str:
    """A one-line, token-free description of a failed Hub call, for runs.error and logs."""
    return redact(_describe(exc))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, HubError):
        return str(exc)
    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        status = exc.response.status_code
        msg = (exc.server_message or str(exc).split("\n", 1)[0]).strip()
        hint = {
            401: "check HF_TOKEN",
            403: "check HF_TOKEN's permissions",
            429: "rate limited; the next run will retry (a token raises the quota)",
        }.get(status, "the Hub failed; the next run will retry" if status >= 500 else "")
        return f"HTTP {status}: {msg}" + (f" ({hint})" if hint else "")
    if isinstance(exc, httpx2.TimeoutException):
        return "the Hub did not answer within hub.timeout_s (after the retries); the next run will retry"
    if isinstance(exc, httpx2.TransportError):
        stats = _STATS.get()
        where = stats.endpoint_source if stats is not None else "hub.endpoint or HF_ENDPOINT"
        return f"cannot reach the Hub ({type(exc).__name__}: {exc}); check {where}"
    return f"{type(exc).__name__}: {exc}"


RELATIONS = RELATION_COLUMNS  # the model-tree relations, defined once in tracker.lineage


@dataclass
class TreeInfo:
    """A model's place in the model tree: its direct children per relation, and its own parents."""

    model_id: str  # as asked for
    status: str  # "ok", or "gone" (deleted or made private since the snapshot)
    current_id: str | None = None  # differs from model_id after a rename
    finetunes: int | None = None
    adapters: int | None = None
    quantizations: int | None = None
    merges: int | None = None
    derivatives: int | None = None
    base_relation: str | None = None
    base_models: tuple[str, ...] = ()


def parse_children(raw: Any) -> dict[str, int | None]:
    """childrenModelCount is an object {adapter, merge, quantized, finetune} in practice, an int per the
    client's docstring: accept both (an int gives only the total)."""
    out: dict[str, int | None] = dict.fromkeys(RELATIONS.values())
    if isinstance(raw, bool) or raw is None:
        out["derivatives"] = None
        return out
    if isinstance(raw, int):
        out["derivatives"] = raw if 0 <= raw <= 2**53 else None
        return out
    if isinstance(raw, dict):
        for rel, col in RELATIONS.items():
            v = raw.get(rel, 0)
            out[col] = v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 2**53 else None
        counts = [v for v in (out[c] for c in RELATIONS.values()) if v is not None]
        out["derivatives"] = sum(counts) if len(counts) == len(RELATIONS) else None
    return out


def _cursor(url: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get("cursor")
    return values[0] if values else None


class Hub:
    """A Hub endpoint plus credentials. Token from HF_TOKEN only; never logged, sent only to the endpoint."""

    def __init__(self, settings: HubSettings, token: str | None = None):
        install_client_factory()
        self.settings = settings
        self.endpoint = (settings.endpoint or constants.ENDPOINT).rstrip("/")
        self.endpoint_source = (
            f"hub.endpoint ({self.endpoint}) in the config"
            if settings.endpoint
            else f"HF_ENDPOINT ({self.endpoint})"
            if os.environ.get("HF_ENDPOINT")
            else f"the network ({self.endpoint})"
        )
        self.origin = origin_of(self.endpoint)
        self.retry = retry_policy(settings.retry_wait_s)  # RETRY itself unless hub.retry_wait_s says otherwise
        self._token = token if token is not None else os.environ.get("HF_TOKEN") or None
        register(self._token)
        # built here rather than by build_hf_headers, whose agent detection may fetch a registry
        self._headers = {
            "user-agent": f"hub-tracker/{__version__}; hf_hub/{huggingface_hub.__version__}; "
            f"python/{platform.python_version()}"
        }
        if self._token:
            self._headers["authorization"] = f"Bearer {self._token}"

    def __repr__(self) -> str:  # never show the token
        return f"Hub(endpoint={self.endpoint!r}, token={'set' if self._token else 'none'})"

    def track(self, budget_s: float | None = None) -> _Tracking:
        """Count requests (and enforce a wall-clock budget) for the calls made inside the with-block."""
        tracking = _Tracking(self.settings.timeout_s, budget_s)
        tracking.stats.endpoint_source = self.endpoint_source
        return tracking

    def _get(self, url: str, params: dict[str, Any] | None = None) -> tuple[httpx2.Response, Any]:
        """One GET under the retry policy; raises the library's errors (hf_raise_for_status) or ours."""
        call = HubCall(origin=self.origin, timeout_s=self.settings.timeout_s, stats=_STATS.get(), retry=self.retry)
        token = _CALL.set(call)
        try:
            headers = self._headers if origin_of(url) == self.origin else {"user-agent": self._headers["user-agent"]}
            r = http_backoff("GET", url, params=params, headers=headers, **self.retry)
            hf_raise_for_status(r)
        finally:
            _CALL.reset(token)
        data = r.extensions.get("tracker_json", None)
        if data is None:
            data = r.json()
        return r, data

    def pages(self, params: dict[str, Any], cap: int | None = None) -> Iterator[list[Any]]:
        """The listing's pages, one at a time, checked (see the module docstring)."""
        for page, _next in self.list_pages(params, cap=cap):
            yield page

    def list_pages(
        self, params: dict[str, Any] | None, resume_url: str | None = None, cap: int | None = None
    ) -> Iterator[tuple[list[Any], str | None]]:
        """The checked listing page by page, each with the URL of the next page (None after the last), so
        that a caller (the census) can store it and resume there on the same checks."""
        cap = self.settings.max_models if cap is None else cap
        url: str | None = resume_url or f"{self.endpoint}/api/models"
        if resume_url is not None:
            params = None  # a next link carries every parameter
        seen_urls: set[str] = set()
        seen_cursors: set[str] = set()
        seen_pages: set[int] = set()
        listed = 0
        while url is not None:
            r, page = self._get(url, params)
            params = None  # the next link carries every parameter
            if not isinstance(page, list):
                raise HubError(f"the Hub's listing answered a JSON {type(page).__name__}, not a list of models")
            ids = hash(tuple(rec.get("id") if isinstance(rec, dict) else repr(rec) for rec in page))
            if ids in seen_pages:
                raise ListingLoop(
                    "the Hub's listing sent the same page twice: it would never end, so the family "
                    "fails now (the next run will try again)"
                )
            seen_pages.add(ids)
            listed += len(page)
            if listed > cap:
                raise ListingLoop(
                    f"the listing went past hub.max_models ({cap}) models; if the family really is "
                    "that large, raise hub.max_models in config.yaml"
                )
            nxt = r.links.get("next", {}).get("url")
            yield page, nxt
            if nxt is None:
                return
            if origin_of(nxt) != self.origin:
                raise ForeignLink(
                    f"the Hub's next-page link points at another origin ({origin_of(nxt)}, not "
                    f"{self.origin}); it was not followed and the token was not sent there"
                )
            cur = _cursor(nxt)
            if nxt in seen_urls or (cur is not None and cur in seen_cursors):
                raise ListingLoop(
                    "the Hub's listing repeated a cursor: it would never end, so the family fails "
                    "now (the next run will try again)"
                )
            seen_urls.add(nxt)
            if cur is not None:
                seen_cursors.add(cur)
            url = nxt

    def list_records(
        self,
        author: str | None,
        search: str | None = None,
        *,
        sort: str = "createdAt",
        expand: tuple[str, ...] = LISTING_EXPAND,
        filter: str | None = None,
        cap: int | None = None,
    ) -> Iterator[Any]:
        """Raw listing records, sorted by an immutable key (createdAt) so that pages do not shift."""
        params: dict[str, Any] = {"sort": sort, "limit": self.settings.page_size, "expand": list(expand)}
        if author:
            params["author"] = author
        if search:
            params["search"] = search
        if filter:
            params["filter"] = filter
        for page in self.pages(params, cap):
            yield from page

    def list_family(self, family: Family, progress: Callable[[int], Any] | None = None) -> tuple[list[Any], int]:
        """All raw records of a family (every author, plus `search` when set), in listing order.

        Returns the records whose repo name passes the family's include/exclude rules, and how many
        the Hub listed in all (at most hub.max_models over all authors). Records without a usable id
        are kept (the validator quarantines them).
        """
        out: list[Any] = []
        listed = 0
        cap = self.settings.max_models
        for author in family.authors:
            shown = listed
            for rec in self.list_records(author, family.search, cap=cap - listed):
                listed += 1
                if progress is not None and (listed - shown) == self.settings.page_size:
                    progress(listed - shown)  # a page listed: the bar moves per page
                    shown = listed
                mid = rec.get("id") if isinstance(rec, dict) else None
                if not isinstance(mid, str) or family.matches(mid):
                    out.append(rec)
            if progress is not None and listed > shown:
                progress(listed - shown)
        return out, listed

    def model_info(self, model_id: str, expand: list[str]) -> dict | None:
        """One model's fields (after any rename redirect), or None when it is gone."""
        try:
            _r, data = self._get(f"{self.endpoint}/api/models/{model_id}", {"expand": expand})
        except RepositoryNotFoundError:
            return None
        if not isinstance(data, dict):
            raise HubError(f"{model_id}: the Hub answered a JSON {type(data).__name__}, not a model")
        return data

    def current_id(self, model_id: str) -> str | None:
        """The id a model has now (the Hub redirects a renamed or transferred one), or None when it is gone."""
        data = self.model_info(model_id, ["createdAt"])
        return None if data is None else data.get("id") if isinstance(data.get("id"), str) else None

    def model_tree(self, model_id: str) -> TreeInfo:
        """childrenModelCount and baseModels of one model (the retry policy as for listings)."""
        info = self.model_info(model_id, ["childrenModelCount", "baseModels"])
        if info is None:
            return TreeInfo(model_id=model_id, status="gone")
        kids = parse_children(info.get("childrenModelCount"))
        raw_base = info.get("baseModels")
        base: dict[str, Any] = raw_base if isinstance(raw_base, dict) else {}
        parents = tuple(
            m["id"] for m in base.get("models", []) if isinstance(m, dict) and isinstance(m.get("id"), str) and m["id"]
        )
        return TreeInfo(
            model_id=model_id,
            status="ok",
            current_id=info.get("id"),
            base_relation=base.get("relation"),
            base_models=parents,
            **kids,
        )

    def list_children(
        self, parent_id: str, expand: tuple[str, ...] = ("downloads", "downloadsAllTime", "likes", "tags")
    ) -> list[dict]:
        """Every model that names `parent_id` as its base (the model-tree filter), with the fields asked
        for; the relation comes from the child's `base_model:<relation>:<parent>` tag."""
        out = []
        prefix = "base_model:"
        expand = tuple(dict.fromkeys((*expand, "tags")))
        for rec in self.list_records(None, filter=f"base_model:{parent_id}", expand=expand):
            if not isinstance(rec, dict):
                continue
            rel = None
            for tag in rec.get("tags") or []:
                if isinstance(tag, str) and tag.startswith(prefix) and tag.endswith(f":{parent_id}"):
                    middle = tag[len(prefix) : -len(parent_id) - 1]
                    if middle in RELATIONS:
                        rel = middle
            out.append({**rec, "relation": rel})
        return out


class _Tracking:
    def __init__(self, timeout_s: float, budget_s: float | None):
        self.stats = RequestStats(timeout_s=timeout_s, budget_s=budget_s)
        self._budget = budget_s
        self._token: contextvars.Token | None = None

    def __enter__(self) -> RequestStats:
        if self._budget is not None:
            self.stats.deadline = time.monotonic() + self._budget
        self._token = _STATS.set(self.stats)
        return self.stats

    def __exit__(self, *exc) -> None:
        assert self._token is not None
        _STATS.reset(self._token)
