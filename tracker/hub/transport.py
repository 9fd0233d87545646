"""The tracker's HTTP transport under huggingface_hub, for the Hub's own requests only.

`Hub` installs `client_factory` (once, when the first Hub is made; never on import). Its transport
acts only on requests made inside a Hub call (the `_CALL` context variable marks them); every other
HfApi in the process goes straight through to httpx2. For the Hub's own requests it:
  * strips `Authorization` from a request to any origin but the endpoint's;
  * gives the request `timeout_s` (the client has none), capped by the job's remaining time budget,
    refuses to start one past the budget, and reads the body against the same wall-clock deadline
    (a Hub trickling a byte a second fails "the Hub answered too slowly"), at most MAX_PAGE_BYTES;
  * fails at once, rather than sleeping past the budget, when a retry's wait would end after it;
  * answers a 200 whose body is not JSON as 502, so that the one retry policy (`http_backoff`) retries it,
    and turns an HTTP-date `Retry-After` (which http_backoff ignores) into seconds;
  * paces every request (redirect hops and retries included) by the RateLimit headers (tracker.pacer);
  * counts requests and transient failures per job (`RequestStats`, set by `Hub.track`).
"""

from __future__ import annotations

import contextvars
import email.utils
import functools
import json
import math
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypedDict

import httpx2
from huggingface_hub import set_client_factory
from huggingface_hub.utils import parse_ratelimit_headers

# private: tests/test_contracts.py fails loudly if huggingface_hub renames or changes it
from huggingface_hub.utils._http import hf_request_event_hook

from tracker.config.settings import MAX_RETRY_WAIT_S, RETRY_WAIT_S
from tracker.pacer import Pacer, QuotaPastDeadline

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# the one retry policy (http_backoff's arguments): up to 6 attempts, waits 0.5, 1, 2, 4, 8 s unless the
# Hub says how long (RateLimit t=, Retry-After); hub.retry_wait_s sets the first wait (retry_policy)


class RetryPolicy(TypedDict):
    """http_backoff's keyword arguments."""

    max_retries: int
    base_wait_time: float
    max_wait_time: float


RETRY: RetryPolicy = {"max_retries": 5, "base_wait_time": RETRY_WAIT_S, "max_wait_time": MAX_RETRY_WAIT_S}
MAX_PAGE_BYTES = 64 * 1024 * 1024  # one answer; a page of 1000 expanded records is ~0.4 MB
TOO_SLOW = "the Hub answered too slowly"


def retry_policy(first_wait_s: float) -> RetryPolicy:
    """RETRY with its first wait (hub.retry_wait_s) doubling from `first_wait_s`, still capped at max_wait_time."""
    return {**RETRY, "base_wait_time": first_wait_s}


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
    # called once when a wait for the rate-limit window starts: (seconds, quota, window_s, with_token)
    on_quota_wait: Callable[[float, int | None, float | None, bool], Any] | None = None
    endpoint_source: str = "hub.endpoint or HF_ENDPOINT"  # what to check when nothing answers

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bump(self, name: str, n: float = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    @property
    def retries(self) -> int:
        """Requests that failed transiently: a retryable status, or no answer at all (timeout, reset)."""
        return self.transient + (self.requests - self.answered)


@dataclass
class HubCall:
    """One logical Hub call (a listing page, a model_info) with its retries."""

    origin: str
    timeout_s: float
    stats: RequestStats | None
    retry: RetryPolicy = field(default_factory=lambda: RETRY)  # the schedule http_backoff follows for it
    attempts: int = 0  # failed attempts so far (for the backoff schedule http_backoff follows)
    connect_failures: int = 0

    @property
    def deadline(self) -> float | None:
        return self.stats.deadline if self.stats is not None else None

    def too_slow(self, what: str) -> BudgetExceeded:
        budget = f" ({self.stats.budget_s:g} s)" if self.stats is not None and self.stats.budget_s else ""
        return BudgetExceeded(
            f"{TOO_SLOW}: {what}, past the time budget hub.budget_s{budget}. The next run will try again."
        )


_STATS: contextvars.ContextVar[RequestStats | None] = contextvars.ContextVar("tracker_hub_stats", default=None)
_CALL: contextvars.ContextVar[HubCall | None] = contextvars.ContextVar("tracker_hub_call", default=None)


def origin_of(url: str | httpx2.URL) -> str:
    u = httpx2.URL(str(url))
    port = u.port or {"http": 80, "https": 443}.get(u.scheme)
    return f"{u.scheme}://{u.host}:{port}".lower()


_POLICY_RE = re.compile(r"q=(\d+);\s*w=(\d+(?:\.\d+)?)")
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


def planned_wait(call_attempts: int, status: int, headers: httpx2.Headers, retry: RetryPolicy = RETRY) -> float:
    """How long http_backoff will sleep before retrying this answer (its own schedule, `retry`'s values)."""
    if status == 429:
        info = parse_ratelimit_headers(headers)
        if info is not None and info.remaining == 0:
            return info.reset_in_seconds + 1
    ra = headers.get("retry-after")
    if ra is not None and ra.strip().isdigit():
        return int(ra) + 1
    return min(retry["max_wait_time"], retry["base_wait_time"] * 2 ** max(0, call_attempts - 1))


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default verifying context (certifi's CAs, or SSL_CERT_FILE / SSL_CERT_DIR), built once per
    process: building one reads the whole CA bundle (~20 ms of CPU), and every client the factory makes
    would otherwise build its own. A context may be shared by the clients of many threads."""
    return httpx2.create_ssl_context()


class _HubTransport(httpx2.BaseTransport):
    """See the module docstring: what happens to the Hub's own requests; others pass through."""

    def __init__(self) -> None:
        self._inner = httpx2.HTTPTransport(verify=_ssl_context())

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
        hook = stats.on_quota_wait if stats is not None else None
        with_token = bool(request.headers.get("authorization"))
        try:
            waited = pacer.acquire(
                deadline, None if hook is None else lambda s: hook(s, pacer.quota, pacer.window_s, with_token)
            )
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
                policy = _POLICY_RE.search(response.headers.get("ratelimit-policy") or "")
                if policy is not None:
                    pacer.quota, pacer.window_s = int(policy.group(1)), float(policy.group(2))
                body = self._read(request, response, call)
            finally:
                response.close()
        except BaseException as exc:
            pacer.release(*((headers_info.remaining, headers_info.reset_in_seconds) if headers_info else ()))
            call.attempts += 1
            if (
                isinstance(exc, httpx2.TimeoutException)
                and deadline is not None
                and time.monotonic() + planned_wait(call.attempts, 0, httpx2.Headers(), call.retry) > deadline
            ):
                raise call.too_slow(f"{request.url.path} did not answer within hub.timeout_s") from exc
            if isinstance(exc, httpx2.ConnectError):
                call.connect_failures += 1
                if stats is not None:
                    stats.bump("connect_failures")
                if call.connect_failures >= 2:  # asked twice, nothing listens: stop retrying
                    where = stats.endpoint_source if stats is not None else "the network or hub.endpoint"
                    raise HubUnreachable(f"cannot reach the Hub at {call.origin} ({exc}); check {where}") from exc
            raise
        pacer.release(*((headers_info.remaining, headers_info.reset_in_seconds) if headers_info else ()))
        return self._answer(request, response, body, call)

    @staticmethod
    def _read(request: httpx2.Request, response: httpx2.Response, call: HubCall) -> bytes:
        """The whole body, against the call's wall-clock deadline and MAX_PAGE_BYTES."""
        chunks, size = [], 0
        deadline = call.deadline
        assert isinstance(response.stream, httpx2.SyncByteStream)  # the inner transport is HTTPTransport: sync
        for chunk in response.stream:
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_PAGE_BYTES:
                raise HubError(f"the Hub sent more than {MAX_PAGE_BYTES // 2**20} MB for one answer; not read further")
            if deadline is not None and time.monotonic() > deadline:
                raise call.too_slow(f"only {size} bytes of {request.url.path} had arrived")
        return b"".join(chunks)

    @staticmethod
    def _answer(request: httpx2.Request, response: httpx2.Response, body: bytes, call: HubCall) -> httpx2.Response:
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
                body = json.dumps(
                    {"error": f"the Hub answered 200 with a body that is not JSON (starts {start!r})"}
                ).encode()
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
            wait = planned_wait(call.attempts, status, headers, call.retry)
            if call.deadline is not None and time.monotonic() + wait > call.deadline:
                what = "rate limited" if status == 429 else reason
                raise call.too_slow(f"{what}, and the next try would start {wait:.0f} s later")
        headers["content-length"] = str(len(body))
        return httpx2.Response(status, headers=headers, content=body, request=request, extensions=extensions)

    def close(self) -> None:
        self._inner.close()


def client_factory() -> httpx2.Client:
    return httpx2.Client(
        event_hooks={"request": [hf_request_event_hook]}, follow_redirects=True, timeout=None, transport=_HubTransport()
    )


_INSTALLED = threading.Event()
_INSTALL_LOCK = threading.Lock()


def install_client_factory() -> None:
    with _INSTALL_LOCK:
        if not _INSTALLED.is_set():
            set_client_factory(client_factory)
            _INSTALLED.set()
