"""The Hub seam: the only module that imports huggingface_hub. Returns plain data.

Listings go through the client's own paginator (`huggingface_hub.utils.paginate`, the engine under
`HfApi.list_models`), which retries 429/5xx/timeouts itself and follows the Hub's `Link` header; we
take the raw JSON records rather than ModelInfo objects so that one malformed record can be
quarantined instead of ending the listing (ModelInfo raises KeyError on a record without `id`).

The client has no request timeout (RELIABILITY.md §3.2): a client factory installs an event hook that
gives every request `timeout_s`, capped by the job's remaining time budget, and refuses to start a
request once the budget is spent. The same hooks count requests and transient failures per job, and
the factory's transport paces every request by the Hub's `RateLimit` headers (see `Pacer`), so that a
job spends its quota as fast as it allows without drawing a 429.
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# No telemetry or agent-detection calls: they would hit the Hub outside the rate-limit accounting.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import httpx2  # noqa: E402  (after the environment is set: huggingface_hub reads it at import)
from huggingface_hub import HfApi, constants, set_client_factory  # noqa: E402
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError  # noqa: E402
from huggingface_hub.utils import (build_hf_headers, hf_raise_for_status, http_backoff, paginate,  # noqa: E402
                                    parse_ratelimit_headers)
from huggingface_hub.utils._http import hf_request_event_hook  # noqa: E402  (pinned minor version)

from tracker import __version__  # noqa: E402
from tracker.config import Family, HubSettings  # noqa: E402
from tracker.lineage import RELATION_COLUMNS  # noqa: E402

logging.getLogger("huggingface_hub").handlers.clear()  # it adds its own handler at import

LISTING_EXPAND = ("downloads", "downloadsAllTime", "likes", "trendingScore", "createdAt", "lastModified",
                  "pipeline_tag", "library_name", "gated")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class HubError(Exception):
    """A Hub request failed for good (after the client's retries); the message says what to do."""


class BudgetExceeded(HubError):
    """A family's listing ran past its time budget (hub.budget_s)."""


@dataclass
class RequestStats:
    """Counted by the HTTP hooks for everything done inside `Hub.track()`, including threads that run
    in a copy of its context (as the tree's workers do)."""

    requests: int = 0
    transient: int = 0  # retryable answers (408/429/5xx) and requests that got no answer (timeouts)
    rate_limited: int = 0  # 429s
    answered: int = 0
    quota_wait_s: float = 0.0  # time spent waiting for the rate-limit window to reset
    connect_failures: int = 0  # requests that found nothing listening at the endpoint
    deadline: float | None = None  # time.monotonic() after which no request may start
    timeout_s: float = 30.0

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bump(self, name: str, n: float = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    @property
    def retries(self) -> int:
        """Requests that failed transiently: a retryable status, or no answer at all (timeout, reset)."""
        return self.transient + (self.requests - self.answered)


_STATS: contextvars.ContextVar[RequestStats | None] = contextvars.ContextVar("tracker_hub_stats", default=None)


class Pacer:
    """Spends a fixed-window quota as fast as it allows and never past it, from the RateLimit headers.

    The Hub sends `RateLimit: "api";r=<remaining>;t=<seconds to reset>` on every response. Requests
    go out while the window has room (remaining minus requests still in flight); when it is spent,
    the next request waits for the reset instead of drawing a 429. Until a first answer tells the
    quota, one request at a time probes it. Shared by all threads talking to one Hub with one token.
    """

    MARGIN_S = 0.05

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.remaining: int | None = None
        self.reset_at = 0.0
        self.in_flight = 0
        self._blocked_since: float | None = None

    def acquire(self, deadline: float | None) -> float:
        """Wait for room in the window. Returns the wall-clock time the window was exhausted, when this
        call is the one that ends such a wait (so concurrent waiters do not count it twice)."""
        with self._cond:
            while True:
                now = time.monotonic()
                if self.remaining is not None and self.remaining - self.in_flight <= 0 and now >= self.reset_at:
                    self.remaining = None  # the window has reset: probe for the new one
                room = (self.in_flight == 0) if self.remaining is None else (self.remaining - self.in_flight > 0)
                if room:
                    self.in_flight += 1
                    if self._blocked_since is None:
                        return 0.0
                    blocked, self._blocked_since = now - self._blocked_since, None
                    return blocked
                spent = self.remaining is not None and self.remaining <= self.in_flight
                wait = self.reset_at + self.MARGIN_S - now if spent else 0.05
                if spent and self._blocked_since is None:
                    self._blocked_since = now
                if deadline is not None and now + max(wait, 0) > deadline:
                    raise BudgetExceeded("the rate-limit quota is spent and resets only after the time budget "
                                         "(hub.budget_s); the next run resumes where this one stopped")
                self._cond.wait(timeout=max(0.01, min(wait, 1.0)))

    def release(self, headers: Any | None) -> None:
        with self._cond:
            self.in_flight = max(0, self.in_flight - 1)
            info = parse_ratelimit_headers(headers) if headers is not None else None
            if info is not None:
                # t is whole seconds rounded up, so `now + t` is never before the real reset: within one
                # window keep the earliest such bound and the lowest remaining count (the server's count
                # only grows; answers may arrive out of order). A bound a second or more later is a new window.
                reset_at = time.monotonic() + info.reset_in_seconds
                if self.remaining is None or reset_at >= self.reset_at + 1.0:
                    self.remaining, self.reset_at = info.remaining, reset_at
                else:
                    self.remaining = min(self.remaining, info.remaining)
                    self.reset_at = min(self.reset_at, reset_at)
            self._cond.notify_all()


_PACERS: dict[str, Pacer] = {}
_PACERS_LOCK = threading.Lock()


def _pacer_for(request: httpx2.Request) -> Pacer:
    auth = request.headers.get("authorization") or ""
    key = f"{request.url.scheme}://{request.url.host}:{request.url.port}|{hash(auth)}"
    with _PACERS_LOCK:
        return _PACERS.setdefault(key, Pacer())


def _on_request(request: httpx2.Request) -> None:
    """Count the request and give it a timeout capped by the job's remaining budget."""
    stats = _STATS.get()
    if stats is None:
        return
    remaining = math.inf
    if stats.deadline is not None:
        remaining = stats.deadline - time.monotonic()
        if remaining <= 0:
            raise BudgetExceeded(
                f"gave up on {request.url.path}: the time budget (hub.budget_s) is spent. The Hub is slow or "
                "unreachable; the next run will try again.")
    stats.bump("requests")
    t = min(stats.timeout_s, max(remaining, 0.1))
    request.extensions["timeout"] = httpx2.Timeout(t, connect=min(10.0, t)).as_dict()


def _on_response(response: httpx2.Response) -> None:
    stats = _STATS.get()
    if stats is None:
        return
    stats.bump("answered")
    if response.status_code in RETRY_STATUSES:
        stats.bump("transient")
    if response.status_code == 429:
        stats.bump("rate_limited")


class _PacedTransport(httpx2.BaseTransport):
    """Every request (each redirect hop and retry included) waits for room in the rate-limit window."""

    def __init__(self) -> None:
        self._inner = httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        stats = _STATS.get()
        pacer = _pacer_for(request)
        waited = pacer.acquire(stats.deadline if stats else None)
        if stats is not None and waited:
            stats.bump("quota_wait_s", waited)
        try:
            response = self._inner.handle_request(request)
        except BaseException as exc:
            pacer.release(None)
            if stats is not None and isinstance(exc, httpx2.ConnectError):
                stats.bump("connect_failures")
            raise
        pacer.release(response.headers)
        return response

    def close(self) -> None:
        self._inner.close()


def _client_factory() -> httpx2.Client:
    return httpx2.Client(
        event_hooks={"request": [hf_request_event_hook, _on_request], "response": [_on_response]},
        follow_redirects=True,
        timeout=None,  # per request, from _on_request
        transport=_PacedTransport(),
    )


set_client_factory(_client_factory)


def is_unreachable(exc: BaseException | None, stats: RequestStats | None = None) -> bool:
    """Whether a failure means nothing answers at the endpoint (DNS, refused, no route): asking again
    for the next family or model would fail the same way."""
    if isinstance(exc, httpx2.ConnectError):
        return True
    return stats is not None and stats.connect_failures > 0 and stats.answered == 0


def describe_error(exc: BaseException) -> str:
    """A one-line, token-free description of a failed Hub call, for runs.error and logs."""
    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        status = exc.response.status_code
        msg = (exc.server_message or str(exc).split("\n", 1)[0]).strip()
        hint = {401: "check HF_TOKEN", 403: "check HF_TOKEN's permissions",
                429: "rate limited; the next run will retry (a token raises the quota)"}.get(
            status, "the Hub failed; the next run will retry" if status >= 500 else "")
        return f"HTTP {status}: {msg}" + (f" ({hint})" if hint else "")
    if isinstance(exc, httpx2.TimeoutException):
        return "the Hub did not answer within hub.timeout_s (after the client's retries); the next run will retry"
    if isinstance(exc, httpx2.TransportError):
        return f"cannot reach the Hub ({type(exc).__name__}: {exc}); check the network or hub.endpoint"
    if isinstance(exc, ValueError) and "JSON" in type(exc).__name__ + str(exc)[:80]:
        return f"the Hub sent a response that is not valid JSON ({exc}); the next run will retry"
    return f"{type(exc).__name__}: {exc}"


RELATIONS = RELATION_COLUMNS  # the model-tree relations, defined once in tracker.lineage
TRANSIENT_ERRORS = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError, json.JSONDecodeError)


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
    out: dict[str, int | None] = {col: None for col in RELATIONS.values()}
    if isinstance(raw, bool) or raw is None:
        out["derivatives"] = None
        return out
    if isinstance(raw, int):
        out["derivatives"] = raw
        return out
    if isinstance(raw, dict):
        for rel, col in RELATIONS.items():
            v = raw.get(rel, 0)
            out[col] = v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None
        vals = [out[c] for c in RELATIONS.values()]
        out["derivatives"] = None if any(v is None for v in vals) else sum(vals)
    return out


def _retry_after(exc: HfHubHTTPError) -> float | None:
    if exc.response is None:
        return None
    v = exc.response.headers.get("retry-after")
    return float(v) if v and v.strip().isdigit() else None


class Hub:
    """A Hub endpoint plus credentials. Token from HF_TOKEN only; never logged."""

    def __init__(self, settings: HubSettings, token: str | None = None):
        self.settings = settings
        self.endpoint = (settings.endpoint or constants.ENDPOINT).rstrip("/")
        self._token = token if token is not None else os.environ.get("HF_TOKEN") or None
        self._headers = build_hf_headers(token=self._token or False, library_name="hub-tracker",
                                         library_version=__version__)
        self._hfapi = HfApi(endpoint=self.endpoint, token=self._token or False, library_name="hub-tracker",
                            library_version=__version__)

    def __repr__(self) -> str:  # never show the token
        return f"Hub(endpoint={self.endpoint!r}, token={'set' if self._token else 'none'})"

    def track(self, budget_s: float | None = None) -> "_Tracking":
        """Count requests (and enforce a time budget) for the calls made inside the with-block."""
        return _Tracking(self.settings.timeout_s, budget_s)

    def list_records(self, author: str | None, search: str | None = None, *, sort: str = "createdAt",
                     expand: tuple[str, ...] = LISTING_EXPAND, filter: str | None = None) -> Iterator[Any]:
        """Raw listing records, sorted by an immutable key (createdAt) so that pages do not shift."""
        params: dict[str, Any] = {"sort": sort, "limit": self.settings.page_size, "expand": list(expand)}
        if author:
            params["author"] = author
        if search:
            params["search"] = search
        if filter:
            params["filter"] = filter
        yield from paginate(f"{self.endpoint}/api/models", params=params, headers=self._headers)

    def list_pages(self, params: dict[str, Any],
                   resume_url: str | None = None) -> Iterator[tuple[list[Any], str | None]]:
        """A listing page by page, each with the URL of the next page (None after the last one), so that
        a caller can store it and resume there. The same engine as `paginate` (retries via http_backoff,
        the Hub's `Link` header), which does not expose the next URL."""
        url: str | None = resume_url or f"{self.endpoint}/api/models"
        first = resume_url is None
        while url is not None:
            r = http_backoff("GET", url, params=params if first else None, headers=self._headers)
            hf_raise_for_status(r)
            url, first = r.links.get("next", {}).get("url"), False
            yield r.json(), url

    def list_family(self, family: Family, progress: Callable[[int], Any] | None = None) -> tuple[list[Any], int]:
        """All raw records of a family (every author, plus `search` when set), in listing order.

        Returns the records whose repo name passes the family's include/exclude rules, and how many
        the Hub listed in all. Records without a usable id are kept (the validator quarantines them).
        """
        out: list[Any] = []
        listed = 0
        for author in family.authors:
            for rec in self.list_records(author, family.search):
                listed += 1
                if progress is not None and listed % 1000 == 0:
                    progress(1000)
                mid = rec.get("id") if isinstance(rec, dict) else None
                if not isinstance(mid, str) or family.matches(mid):
                    out.append(rec)
        return out, listed

    MAX_ATTEMPTS = 6

    def model_tree(self, model_id: str) -> TreeInfo:
        """childrenModelCount and baseModels of one model, with our own retries.

        huggingface_hub's model_info does not retry at all (a single 429 or 503 raises), so transient
        failures (429, 5xx, timeouts, broken bodies) are retried here with exponential backoff and
        jitter, honouring Retry-After; a 429 that spent the window makes the pacer wait for the reset.
        """
        delay = 0.5
        for attempt in range(1, self.MAX_ATTEMPTS + 1):
            try:
                info = self._hfapi.model_info(model_id, expand=["childrenModelCount", "baseModels"])
            except RepositoryNotFoundError:
                return TreeInfo(model_id=model_id, status="gone")
            except HfHubHTTPError as exc:
                status = exc.response.status_code if exc.response is not None else 0
                if status not in RETRY_STATUSES or attempt == self.MAX_ATTEMPTS:
                    raise
                wait = _retry_after(exc)
                if wait is None:
                    info429 = parse_ratelimit_headers(exc.response.headers) if status == 429 else None
                    wait = 0.0 if info429 is not None and info429.remaining == 0 else delay
            except TRANSIENT_ERRORS as exc:
                # nothing listening (or no route) is retried once only: the run stops after a few such models
                if attempt == self.MAX_ATTEMPTS or (isinstance(exc, httpx2.ConnectError) and attempt >= 2):
                    raise
                wait = delay
            else:
                kids = parse_children(info.children_model_count)
                base = info.base_models if isinstance(info.base_models, dict) else {}
                parents = tuple(m.get("id") for m in base.get("models", []) if isinstance(m, dict) and m.get("id"))
                return TreeInfo(model_id=model_id, status="ok", current_id=info.id,
                                base_relation=base.get("relation"), base_models=parents, **kids)
            stats = _STATS.get()
            if stats is not None and stats.deadline is not None and time.monotonic() + wait > stats.deadline:
                raise BudgetExceeded(f"{model_id}: still failing and the time budget (hub.budget_s) is spent")
            time.sleep(wait * (1 + random.random() * 0.25) if wait else 0)
            delay = min(delay * 2, 16.0)
        raise AssertionError("unreachable")

    def list_children(self, parent_id: str,
                      expand: tuple[str, ...] = ("downloads", "downloadsAllTime", "likes", "tags")) -> list[dict]:
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
                    middle = tag[len(prefix):-len(parent_id) - 1]
                    if middle in RELATIONS:
                        rel = middle
            out.append({**rec, "relation": rel})
        return out


class _Tracking:
    def __init__(self, timeout_s: float, budget_s: float | None):
        self.stats = RequestStats(timeout_s=timeout_s)
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
