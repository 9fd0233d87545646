"""The Hub seam: the only module that imports huggingface_hub. Returns plain data.

Listings go through the client's own paginator (`huggingface_hub.utils.paginate`, the engine under
`HfApi.list_models`), which retries 429/5xx/timeouts itself and follows the Hub's `Link` header; we
take the raw JSON records rather than ModelInfo objects so that one malformed record can be
quarantined instead of ending the listing (ModelInfo raises KeyError on a record without `id`).

The client has no request timeout (RELIABILITY.md §3.2): a client factory installs an event hook that
gives every request `timeout_s`, capped by the family's remaining time budget, and refuses to start a
request once the budget is spent. The same hooks count requests and transient failures per job.
"""

from __future__ import annotations

import contextvars
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

# No telemetry or agent-detection calls: they would hit the Hub outside the rate-limit accounting.
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import httpx2  # noqa: E402  (after the environment is set: huggingface_hub reads it at import)
from huggingface_hub import constants, set_client_factory  # noqa: E402
from huggingface_hub.errors import HfHubHTTPError  # noqa: E402
from huggingface_hub.utils import build_hf_headers, paginate  # noqa: E402
from huggingface_hub.utils._http import hf_request_event_hook  # noqa: E402  (pinned minor version)

from tracker import __version__  # noqa: E402
from tracker.config import Family, HubSettings  # noqa: E402

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
    """Counted by the HTTP hooks for everything done inside `Hub.track()`."""

    requests: int = 0
    transient: int = 0  # retryable answers (408/429/5xx) and requests that got no answer (timeouts)
    rate_limited: int = 0  # 429s
    answered: int = 0
    deadline: float | None = None  # time.monotonic() after which no request may start
    timeout_s: float = 30.0

    @property
    def retries(self) -> int:
        """Requests that failed transiently: a retryable status, or no answer at all (timeout, reset)."""
        return self.transient + (self.requests - self.answered)


_STATS: contextvars.ContextVar[RequestStats | None] = contextvars.ContextVar("tracker_hub_stats", default=None)


def _on_request(request: httpx2.Request) -> None:
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
    stats.requests += 1
    t = min(stats.timeout_s, max(remaining, 0.1))
    request.extensions["timeout"] = httpx2.Timeout(t, connect=min(10.0, t)).as_dict()


def _on_response(response: httpx2.Response) -> None:
    stats = _STATS.get()
    if stats is None:
        return
    stats.answered += 1
    if response.status_code in RETRY_STATUSES:
        stats.transient += 1
    if response.status_code == 429:
        stats.rate_limited += 1


def _client_factory() -> httpx2.Client:
    return httpx2.Client(
        event_hooks={"request": [hf_request_event_hook, _on_request], "response": [_on_response]},
        follow_redirects=True,
        timeout=None,  # per request, from _on_request
    )


set_client_factory(_client_factory)


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


class Hub:
    """A Hub endpoint plus credentials. Token from HF_TOKEN only; never logged."""

    def __init__(self, settings: HubSettings, token: str | None = None):
        self.settings = settings
        self.endpoint = (settings.endpoint or constants.ENDPOINT).rstrip("/")
        self._token = token if token is not None else os.environ.get("HF_TOKEN") or None
        self._headers = build_hf_headers(token=self._token or False, library_name="hub-tracker",
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
