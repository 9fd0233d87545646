"""The Hub seam: the only module that imports huggingface_hub. Returns plain data.

Every request of the tracker (listing pages and model_info alike) goes through one retry policy:
huggingface_hub's public `http_backoff` (429/5xx/timeouts, the `RateLimit` header's reset and
`Retry-After`; an HTTP-date `Retry-After`, which the library ignores, is turned into seconds first).
Listings are paged here rather than by the client's paginator, so that each page can be checked:
the next-page link must stay on the endpoint's origin (the token is never sent anywhere else), a
repeated page or cursor or more than `hub.max_models` models fails the listing at once, and only one
page is held at a time. Raw JSON records are returned rather than ModelInfo objects, so that one
malformed record can be quarantined instead of ending the listing.

`Hub` installs a client factory (once, when the first Hub is made; never on import) whose transport
acts only on requests made inside a Hub call (a context variable marks them); every other HfApi in
the process gets the library's default behaviour. For the Hub's own requests the transport:
  * strips `Authorization` from a request to any origin but the endpoint's;
  * gives the request `timeout_s` (the client has none), capped by the job's remaining time budget,
    refuses to start one past the budget, and reads the body against the same wall-clock deadline
    (a Hub trickling a byte a second fails the family "answered too slowly"), at most MAX_PAGE_BYTES;
  * fails at once, rather than sleeping past the budget, when a retry's wait would end after it;
  * answers a 200 whose body is not JSON as 502, so that the one policy retries it;
  * paces every request (redirect hops and retries included) by the RateLimit headers (tracker.pacer);
  * counts requests and transient failures per job (`Hub.track`).
"""

from __future__ import annotations

import contextvars
import email.utils
import json
import math
import os
import platform
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import huggingface_hub
from huggingface_hub import constants, set_client_factory
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.utils import hf_raise_for_status, http_backoff, parse_ratelimit_headers

# private: tests/test_contracts.py fails loudly if huggingface_hub renames or changes it
from huggingface_hub.utils._http import hf_request_event_hook

from tracker import __version__
from tracker.config import Family, HubSettings
from tracker.pacer import Pacer, QuotaPastDeadline
from tracker.redact import redact, register

LISTING_EXPAND = ("downloads", "downloadsAllTime", "likes", "trendingScore", "createdAt", "lastModified",
                  "pipeline_tag", "library_name", "gated")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# the one retry policy (http_backoff's arguments): up to 6 attempts, waits 0.5, 1, 2, 4, 8 s unless the
# Hub says how long (RateLimit t=, Retry-After)
RETRY = {"max_retries": 5, "base_wait_time": 0.5, "max_wait_time": 8.0}
MAX_PAGE_BYTES = 64 * 1024 * 1024  # one answer; a page of 1000 expanded records is ~0.4 MB
TOO_SLOW = "the Hub answered too slowly"


class HubError(Exception):
    """A Hub request failed for good (after the retries); the message says what to do."""


class BudgetExceeded(HubError):
    """A family's listing (or a tree run) ran past its wall-clock budget (hub.budget_s)."""


class ListingLoop(HubError):
    """A listing repeated a page or a cursor, or went past hub.max_models: it would never end."""


class ForeignLink(HubError):
    """A listing page's next link points at another origin than the endpoint's."""


class HubUnreachable(HubError):
    """Nothing answers at the endpoint (refused, no route, DNS)."""


@dataclass
class RequestStats:
    """Counted by the transport for everything done inside `Hub.track()`, including threads that run
    in a copy of its context (as the tree's workers do)."""

    requests: int = 0
    transient: int = 0  # retryable answers (408/429/5xx, bodies that are not JSON) and requests with no answer
    rate_limited: int = 0  # 429s
    answered: int = 0
    quota_wait_s: float = 0.0  # time spent waiting for the rate-limit window to reset
    connect_failures: int = 0  # requests that found nothing listening at the endpoint
    deadline: float | None = None  # time.monotonic() after which no request may start or go on
    timeout_s: float = 30.0
    budget_s: float | None = None

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bump(self, name: str, n: float = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    @property
    def retries(self) -> int:
        """Requests that failed transiently: a retryable status, or no answer at all (timeout, reset)."""
        return self.transient + (self.requests - self.answered)


@dataclass
class _Call:
    """One logical Hub call (a listing page, a model_info) with its retries."""

    origin: str
    timeout_s: float
    stats: RequestStats | None
    attempts: int = 0  # failed attempts so far (for the backoff schedule http_backoff follows)
    connect_failures: int = 0

    @property
    def deadline(self) -> float | None:
        return self.stats.deadline if self.stats is not None else None

    def too_slow(self, what: str) -> BudgetExceeded:
        budget = f" ({self.stats.budget_s:g} s)" if self.stats is not None and self.stats.budget_s else ""
        return BudgetExceeded(f"{TOO_SLOW}: {what}, past the time budget hub.budget_s{budget}. "
                              "The next run will try again.")


_STATS: contextvars.ContextVar[RequestStats | None] = contextvars.ContextVar("tracker_hub_stats", default=None)
_CALL: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("tracker_hub_call", default=None)


def origin_of(url: str | httpx2.URL) -> str:
    u = httpx2.URL(str(url))
    port = u.port or {"http": 80, "https": 443}.get(u.scheme)
    return f"{u.scheme}://{u.host}:{port}".lower()


_PACERS: dict[str, Pacer] = {}
_PACERS_LOCK = threading.Lock()


def _pacer_for(request: httpx2.Request) -> Pacer:
    auth = request.headers.get("authorization") or ""
    key = f"{origin_of(request.url)}|{hash(auth)}"
    with _PACERS_LOCK:
        return _PACERS.setdefault(key, Pacer())


def retry_after_seconds(value: str | None, now: float | None = None) -> int | None:
    """Retry-After in either form (delay-seconds or an HTTP-date) as whole seconds from now."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0, math.ceil(when.timestamp() - (time.time() if now is None else now)))


def planned_wait(call_attempts: int, status: int, headers: httpx2.Headers) -> float:
    """How long http_backoff will sleep before retrying this answer (its own schedule, RETRY's values)."""
    if status == 429:
        info = parse_ratelimit_headers(headers)
        if info is not None and info.remaining == 0:
            return info.reset_in_seconds + 1
    ra = headers.get("retry-after")
    if ra is not None and ra.strip().isdigit():
        return int(ra) + 1
    return min(RETRY["max_wait_time"], RETRY["base_wait_time"] * 2 ** max(0, call_attempts - 1))


class _HubTransport(httpx2.BaseTransport):
    """See the module docstring: what happens to the Hub's own requests; others pass through."""

    def __init__(self) -> None:
        self._inner = httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        call = _CALL.get()
        if call is None:
            return self._inner.handle_request(request)
        if origin_of(request.url) != call.origin:
            request.headers.pop("authorization", None)  # e.g. a redirect to another host
        stats = call.stats
        deadline = call.deadline
        if deadline is not None and time.monotonic() >= deadline:
            raise call.too_slow(f"no time left for {request.url.path}")
        pacer = _pacer_for(request)
        try:
            waited = pacer.acquire(deadline)
        except QuotaPastDeadline as exc:
            raise call.too_slow(f"the rate-limit quota is spent ({exc})") from None
        if stats is not None:
            stats.bump("requests")
            if waited:
                stats.bump("quota_wait_s", waited)
        remaining = math.inf if deadline is None else deadline - time.monotonic()
        t = max(0.05, min(call.timeout_s, remaining))
        request.extensions["timeout"] = httpx2.Timeout(t, connect=min(10.0, t)).as_dict()
        headers_info = None
        try:
            response = self._inner.handle_request(request)
            try:
                headers_info = parse_ratelimit_headers(response.headers)
                body = self._read(request, response, call)
            finally:
                response.close()
        except BaseException as exc:
            pacer.release(*((headers_info.remaining, headers_info.reset_in_seconds) if headers_info else ()))
            call.attempts += 1
            if (isinstance(exc, httpx2.TimeoutException) and deadline is not None
                    and time.monotonic() + planned_wait(call.attempts, 0, httpx2.Headers()) > deadline):
                raise call.too_slow(f"{request.url.path} did not answer within hub.timeout_s") from exc
            if isinstance(exc, httpx2.ConnectError):
                call.connect_failures += 1
                if stats is not None:
                    stats.bump("connect_failures")
                if call.connect_failures >= 2:  # asked twice, nothing listens: stop retrying
                    raise HubUnreachable(f"cannot reach the Hub at {call.origin} ({exc}); check the network or "
                                         "hub.endpoint") from exc
            raise
        pacer.release(*((headers_info.remaining, headers_info.reset_in_seconds) if headers_info else ()))
        return self._answer(request, response, body, call)

    @staticmethod
    def _read(request: httpx2.Request, response: httpx2.Response, call: _Call) -> bytes:
        """The whole body, against the call's wall-clock deadline and MAX_PAGE_BYTES."""
        chunks, size = [], 0
        deadline = call.deadline
        for chunk in response.stream:
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_PAGE_BYTES:
                raise HubError(f"the Hub sent more than {MAX_PAGE_BYTES // 2**20} MB for one answer; not read further")
            if deadline is not None and time.monotonic() > deadline:
                raise call.too_slow(f"only {size} bytes of {request.url.path} had arrived")
        return b"".join(chunks)

    @staticmethod
    def _answer(request: httpx2.Request, response: httpx2.Response, body: bytes, call: _Call) -> httpx2.Response:
        stats = call.stats
        status = response.status_code
        headers = httpx2.Headers(response.headers)
        headers.pop("content-encoding", None)  # the body is already decoded
        headers.pop("transfer-encoding", None)
        ra = headers.get("retry-after")
        if ra is not None and not ra.strip().isdigit():
            secs = retry_after_seconds(ra)
            if secs is not None:  # an HTTP-date: http_backoff honours only seconds
                headers["retry-after"] = str(secs)
        extensions = dict(response.extensions)
        reason = f"HTTP {status}"
        if status == 200 and request.method == "GET":
            try:
                extensions["tracker_json"] = json.loads(body)
            except ValueError:
                start = body[:80].decode("utf-8", "replace")
                body = json.dumps({"error": f"the Hub answered 200 with a body that is not JSON "
                                            f"(starts {start!r})"}).encode()
                status = 502
                reason = f"a 200 whose body is not JSON (starts {start[:40]!r})"
                headers["content-type"] = "application/json"
        if stats is not None:
            stats.bump("answered")
            if status in RETRY_STATUSES:
                stats.bump("transient")
            if status == 429:
                stats.bump("rate_limited")
        if status in RETRY_STATUSES:
            call.attempts += 1
            wait = planned_wait(call.attempts, status, headers)
            if call.deadline is not None and time.monotonic() + wait > call.deadline:
                what = "rate limited" if status == 429 else reason
                raise call.too_slow(f"{what}, and the next try would start {wait:.0f} s later")
        headers["content-length"] = str(len(body))
        return httpx2.Response(status, headers=headers, content=body, request=request, extensions=extensions)

    def close(self) -> None:
        self._inner.close()


def _client_factory() -> httpx2.Client:
    return httpx2.Client(event_hooks={"request": [hf_request_event_hook]}, follow_redirects=True, timeout=None,
                         transport=_HubTransport())


_INSTALLED = False
_INSTALL_LOCK = threading.Lock()


def _install_client_factory() -> None:
    global _INSTALLED
    with _INSTALL_LOCK:
        if not _INSTALLED:
            set_client_factory(_client_factory)
            _INSTALLED = True


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
        hint = {401: "check HF_TOKEN", 403: "check HF_TOKEN's permissions",
                429: "rate limited; the next run will retry (a token raises the quota)"}.get(
            status, "the Hub failed; the next run will retry" if status >= 500 else "")
        return f"HTTP {status}: {msg}" + (f" ({hint})" if hint else "")
    if isinstance(exc, httpx2.TimeoutException):
        return "the Hub did not answer within hub.timeout_s (after the retries); the next run will retry"
    if isinstance(exc, httpx2.TransportError):
        return f"cannot reach the Hub ({type(exc).__name__}: {exc}); check the network or hub.endpoint"
    return f"{type(exc).__name__}: {exc}"


RELATIONS = {"finetune": "finetunes", "adapter": "adapters", "quantized": "quantizations", "merge": "merges"}


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
        out["derivatives"] = raw if 0 <= raw <= 2**53 else None
        return out
    if isinstance(raw, dict):
        for rel, col in RELATIONS.items():
            v = raw.get(rel, 0)
            out[col] = v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 2**53 else None
        vals = [out[c] for c in RELATIONS.values()]
        out["derivatives"] = None if any(v is None for v in vals) else sum(vals)
    return out


def _cursor(url: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get("cursor")
    return values[0] if values else None


class Hub:
    """A Hub endpoint plus credentials. Token from HF_TOKEN only; never logged, sent only to the endpoint."""

    def __init__(self, settings: HubSettings, token: str | None = None):
        _install_client_factory()
        self.settings = settings
        self.endpoint = (settings.endpoint or constants.ENDPOINT).rstrip("/")
        self.origin = origin_of(self.endpoint)
        self._token = token if token is not None else os.environ.get("HF_TOKEN") or None
        register(self._token)
        # built here rather than by build_hf_headers, whose agent detection may fetch a registry
        self._headers = {"user-agent": f"hub-tracker/{__version__}; hf_hub/{huggingface_hub.__version__}; "
                                       f"python/{platform.python_version()}"}
        if self._token:
            self._headers["authorization"] = f"Bearer {self._token}"

    def __repr__(self) -> str:  # never show the token
        return f"Hub(endpoint={self.endpoint!r}, token={'set' if self._token else 'none'})"

    def track(self, budget_s: float | None = None) -> "_Tracking":
        """Count requests (and enforce a wall-clock budget) for the calls made inside the with-block."""
        return _Tracking(self.settings.timeout_s, budget_s)

    def _get(self, url: str, params: dict[str, Any] | None = None) -> tuple[httpx2.Response, Any]:
        """One GET under the retry policy; raises the library's errors (hf_raise_for_status) or ours."""
        call = _Call(origin=self.origin, timeout_s=self.settings.timeout_s, stats=_STATS.get())
        token = _CALL.set(call)
        try:
            headers = self._headers if origin_of(url) == self.origin else {"user-agent": self._headers["user-agent"]}
            r = http_backoff("GET", url, params=params, headers=headers, **RETRY)
            hf_raise_for_status(r)
        finally:
            _CALL.reset(token)
        data = r.extensions.get("tracker_json", None)
        if data is None:
            data = r.json()
        return r, data

    def pages(self, params: dict[str, Any], cap: int | None = None) -> Iterator[list[Any]]:
        """The listing's pages, one at a time, checked (see the module docstring)."""
        cap = self.settings.max_models if cap is None else cap
        url: str | None = f"{self.endpoint}/api/models"
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
                raise ListingLoop("the Hub's listing sent the same page twice: it would never end, so the family "
                                  "fails now (the next run will try again)")
            seen_pages.add(ids)
            listed += len(page)
            if listed > cap:
                raise ListingLoop(f"the listing went past hub.max_models ({cap}) models; if the family really is "
                                  "that large, raise hub.max_models in config.yaml")
            yield page
            nxt = r.links.get("next", {}).get("url")
            if nxt is None:
                return
            if origin_of(nxt) != self.origin:
                raise ForeignLink(f"the Hub's next-page link points at another origin ({origin_of(nxt)}, not "
                                  f"{self.origin}); it was not followed and the token was not sent there")
            cur = _cursor(nxt)
            if nxt in seen_urls or (cur is not None and cur in seen_cursors):
                raise ListingLoop("the Hub's listing repeated a cursor: it would never end, so the family fails "
                                  "now (the next run will try again)")
            seen_urls.add(nxt)
            if cur is not None:
                seen_cursors.add(cur)
            url = nxt

    def list_records(self, author: str | None, search: str | None = None, *, sort: str = "createdAt",
                     expand: tuple[str, ...] = LISTING_EXPAND, filter: str | None = None,
                     cap: int | None = None) -> Iterator[Any]:
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
            for rec in self.list_records(author, family.search, cap=cap - listed):
                listed += 1
                if progress is not None and listed % 1000 == 0:
                    progress(1000)
                mid = rec.get("id") if isinstance(rec, dict) else None
                if not isinstance(mid, str) or family.matches(mid):
                    out.append(rec)
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
        base = info.get("baseModels") if isinstance(info.get("baseModels"), dict) else {}
        parents = tuple(m.get("id") for m in base.get("models", []) if isinstance(m, dict) and m.get("id"))
        return TreeInfo(model_id=model_id, status="ok", current_id=info.get("id"),
                        base_relation=base.get("relation"), base_models=parents, **kids)

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
