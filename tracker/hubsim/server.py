"""HTTP front of the emulator: routes, pagination, rate limits, errors and fault injection.

Stdlib only (``ThreadingHTTPServer``, HTTP/1.1 keep-alive, daemon threads). See ``docs/hubsim.md``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import socket
import threading
import time
from collections import Counter, OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import numpy as np

from .faults import FaultPlan
from .render import DETAIL_ONLY, EXPAND_ALL, INFO_DEFAULT, LIST_DEFAULT, LIST_FULL, Renderer, expand_error, order_expand
from .world import World

SORTS = ("downloads", "likes", "lastModified", "createdAt", "trendingScore")
TRUE = ("true", "1", "yes", "True")
AGENT_HARNESSES = {
    "standardEnvVars": ["AI_AGENT", "AGENT"],
    "harnesses": {
        "claude-code": {"envVars": {"CLAUDECODE": "1"}},
        "codex": {"envVars": {"CODEX_SANDBOX": "*"}},
        "cursor": {"envVars": {"CURSOR_AGENT": "1"}},
        "gemini-cli": {"envVars": {"GEMINI_CLI": "1"}},
    },
}
NOT_FOUND_BODY = {"error": "Sorry, we can't find the page you are looking for."}
HTML_ERROR = (
    b'<!DOCTYPE html>\n<html class="" lang="en"><head><meta charset="utf-8" />'
    b"<title>Hugging Face - The AI community building the future.</title></head><body>"
    b"<h1>500</h1><p>Internal Error - We're working hard to fix this as soon as possible!</p>"
    b"</body></html>\n"
)


class Stats:
    """Request log and counters (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "_lock", threading.Lock()):
            self.requests: list[dict] = []
            self.by_route: Counter = Counter()
            self.by_status: Counter = Counter()

    def record(self, rec: dict) -> None:
        with self._lock:
            self.requests.append(rec)
            self.by_route[rec["route"]] += 1
            self.by_status[rec["status"]] += 1

    @property
    def count_429(self) -> int:
        return self.by_status.get(429, 0)

    @property
    def total(self) -> int:
        return len(self.requests)

    def of(self, route: str | None = None, status: int | None = None) -> list[dict]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (route is None or r["route"] == route) and (status is None or r["status"] == status)
            ]

    def summary(self) -> dict:
        with self._lock:
            return {
                "total": len(self.requests),
                "by_route": dict(self.by_route),
                "by_status": dict(self.by_status),
                "429": self.by_status.get(429, 0),
            }


class RateLimiter:
    """Fixed-window quota per client key (bearer token, else client address)."""

    def __init__(self, anonymous: int, token: int, window_s: float):
        self._lock = threading.Lock()
        self.anonymous, self.token, self.window_s = anonymous, token, window_s
        self._windows: dict[str, list] = {}

    def configure(self, anonymous=None, token=None, window_s=None) -> None:
        with self._lock:
            if anonymous is not None:
                self.anonymous = int(anonymous)
            if token is not None:
                self.token = int(token)
            if window_s is not None:
                self.window_s = float(window_s)
            self._windows.clear()

    def hit(self, key: str, is_token: bool) -> tuple[bool, int, int, int, float]:
        """Count one request: (allowed, remaining, seconds to reset, quota, window)."""
        now = time.monotonic()
        with self._lock:
            quota = self.token if is_token else self.anonymous
            w = self._windows.get(key)
            if w is None or now >= w[0] + self.window_s:
                w = [now, 0]
                self._windows[key] = w
            w[1] += 1
            remaining = max(0, quota - w[1])
            reset = max(0, math.ceil(w[0] + self.window_s - now))
            return w[1] <= quota, remaining, reset, quota, self.window_s


def _fmt_window(w: float) -> str:
    return str(int(w)) if float(w).is_integer() else f"{w:g}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr, handler, hub: HubSim):
        self.hub = hub
        super().__init__(addr, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hubsim"
    sys_version = ""
    server: _Server  # the handler only ever runs under _Server (it reaches the HubSim through it)

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        # headers and body go out in separate writes: avoid Nagle + delayed-ACK stalls
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.hub._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.hub._track(self.connection, False)

    def do_GET(self):
        self.server.hub._handle(self, head=False)

    def do_HEAD(self):
        self.server.hub._handle(self, head=True)

    def do_POST(self):  # only the emulator's own clock route takes POST (see HubSim._clock)
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(min(length, 1 << 16))  # a body is not used; read it to keep the connection usable
        self.server.hub._handle(self, head=False)


CLOCK_PATH = "/_hubsim/clock"


class _Response:
    __slots__ = ("body", "hang", "headers", "status", "trickle")

    def __init__(self, status=200, body=b"", headers=None, hang=False, trickle=0.0):
        self.status, self.body, self.headers, self.hang = status, body, headers or [], hang
        self.trickle = trickle  # seconds between body bytes (a slow-loris Hub)


def _json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


class HubSim:
    """Serve a ``World`` as the Hugging Face Hub HTTP API on ``host:port`` (port 0 = a free port)."""

    def __init__(
        self,
        world: World,
        host: str = "127.0.0.1",
        port: int = 0,
        page_size: int = 1000,
        quota_anonymous: int = 500,
        quota_token: int = 1000,
        window_s: float = 300,
        base_models_on_listing: bool = True,
        anonymous_401: bool = False,
        faults=None,
        speed: float = 0.0,
    ):
        self.world = world
        self.host, self.port = host, port
        self.page_size = int(page_size)
        self.base_models_on_listing = base_models_on_listing
        self.anonymous_401 = anonymous_401
        self.speed = float(speed)
        if faults is None:
            faults = FaultPlan(seed=world.seed)
        elif isinstance(faults, str):
            faults = FaultPlan.parse(faults, seed=world.seed)
        elif not isinstance(faults, FaultPlan):
            faults = FaultPlan(faults, seed=world.seed)
        self.faults = faults
        self.stats = Stats()
        self.limiter = RateLimiter(quota_anonymous, quota_token, window_s)
        self._stop = threading.Event()
        self._conns: set = set()
        self._conn_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self._listing_cache: OrderedDict = OrderedDict()
        self._cache_lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    @property
    def endpoint(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> HubSim:
        self._stop.clear()
        self._server = _Server((self.host, self.port), _Handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="hubsim", daemon=True
        )
        self._thread.start()
        if self.speed > 0:
            self._ticker = threading.Thread(target=self._tick, name="hubsim-clock", daemon=True)
            self._ticker.start()
        return self

    def _tick(self) -> None:
        t0_real, t0_sim = time.monotonic(), self.world.now_epoch
        while not self._stop.wait(0.5):
            self.world.set_time(t0_sim + int(self.speed * (time.monotonic() - t0_real)))

    def stop(self) -> None:
        self._stop.set()  # releases hung responses
        if self._server is not None:
            self._server.shutdown()
            with self._conn_lock:
                conns = list(self._conns)
            for c in conns:
                with contextlib.suppress(OSError):
                    c.shutdown(socket.SHUT_RDWR)
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Start (if needed) and block until ``stop()`` is called from another thread or a signal."""
        if self._server is None:
            self.start()
        while not self._stop.wait(0.5):
            pass

    def __enter__(self) -> HubSim:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _track(self, conn, add: bool) -> None:
        with self._conn_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def set_quota(self, anonymous: int | None = None, token: int | None = None, window_s: float | None = None):
        """Change quotas / window length (also resets every client's window)."""
        self.limiter.configure(anonymous, token, window_s)

    # ------------------------------------------------------------------ request handling
    def _handle(self, h: _Handler, head: bool) -> None:
        parts = urlsplit(h.path)
        path = parts.path
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query: dict[str, list[str]] = {}
        for k, v in pairs:
            query.setdefault(k, []).append(v)
        auth = h.headers.get("authorization") or ""
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        client = f"token:{token}" if token else f"ip:{h.client_address[0]}"
        req = {
            "route": "other",
            "path": path,
            "query": query,
            "status": None,
            "author": None,
            "page": None,
            "model": None,
            "client": client,
            "fault": None,
            "time": time.time(),
        }
        if path == CLOCK_PATH:  # the emulator's control route: not the Hub's API, never rate limited
            self._send(h, self._clock(h.command, query), head, req)
            return
        kind, model_id, rev = self._route(path)
        if kind == "listing":
            req["route"] = "listing"
            req["author"] = _first(query, "author")
            req["page"] = _cursor_page(_first(query, "cursor"))
        elif kind == "info":
            req["route"] = "info"
            req["model"] = model_id
            req["author"] = model_id.split("/", 1)[0] if "/" in model_id else None

        allowed, remaining, reset, quota, window = self.limiter.hit(client, token is not None)
        rl = [
            ("RateLimit", f'"api";r={remaining};t={reset}'),
            ("RateLimit-Policy", f'"fixed window";"api";q={quota};w={_fmt_window(window)}'),
        ]
        delay, fault = self.faults.decide(req)
        if delay > 0:
            self._stop.wait(delay)
        try:
            if fault is not None:
                req["fault"] = fault.kind
                resp = self._fault_response(fault, rl, kind, model_id, rev, parts, query, token)
            elif not allowed:
                resp = _Response(
                    429, _json({"error": f"You have exceeded our API rate limit, retry in {reset} seconds"}), rl
                )
            else:
                resp = self._dispatch(kind, model_id, rev, parts, query, token, head, h.command)
                resp.headers = rl + resp.headers
        except Exception as exc:  # noqa: BLE001 - a bug in the emulator must not kill the connection silently
            resp = _Response(500, _json({"error": f"hubsim internal error: {exc!r}"}), rl)
        req["status"] = resp.status if not resp.hang else None
        self.stats.record(req)
        if resp.hang:
            self._stop.wait()
            h.close_connection = True
            return
        self._send(h, resp, head, req)

    def _send(self, h: _Handler, resp: _Response, head: bool, req: dict) -> None:
        trace = h.headers.get("X-Amzn-Trace-Id") or h.headers.get("X-Request-Id")
        rid = f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()}" + (f";{trace}" if trace else "")
        try:
            h.send_response(resp.status)
            has_ct = any(k.lower() == "content-type" for k, _ in resp.headers)
            if not has_ct:
                h.send_header("Content-Type", "application/json; charset=utf-8")
            for k, v in resp.headers:
                h.send_header(k, v)
            h.send_header("X-Request-Id", rid)
            h.send_header("X-Powered-By", "huggingface-moon")
            h.send_header(
                "Access-Control-Expose-Headers",
                "X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,"
                "Accept-Ranges,Content-Range,X-Linked-Size,X-Linked-ETag,X-Xet-Hash",
            )
            h.send_header("Content-Length", str(len(resp.body)))
            h.end_headers()
            if not head and resp.body and resp.trickle > 0:
                h.wfile.flush()
                for i in range(len(resp.body)):
                    if self._stop.wait(resp.trickle):
                        break
                    h.wfile.write(resp.body[i : i + 1])
                    h.wfile.flush()
            elif not head and resp.body:
                h.wfile.write(resp.body)
        except (BrokenPipeError, ConnectionResetError, OSError):
            h.close_connection = True

    @staticmethod
    def _route(path: str):
        if path in ("/api/models", "/api/models/"):
            return "listing", None, None
        if path.startswith("/api/models/"):
            segs = [unquote(s) for s in path[len("/api/models/") :].split("/")]
            if segs and segs[-1] == "":
                segs = segs[:-1]
            if len(segs) == 1:
                return "info", segs[0], None
            if len(segs) == 2:
                return "info", f"{segs[0]}/{segs[1]}", None
            if len(segs) >= 3 and segs[1] == "revision":
                return "info", segs[0], "/".join(segs[2:])
            if len(segs) >= 4 and segs[2] == "revision":
                return "info", f"{segs[0]}/{segs[1]}", "/".join(segs[3:])
        return "other", None, None

    def _clock(self, method: str, query: dict[str, list[str]]) -> _Response:
        """GET /_hubsim/clock tells the simulated time; POST /_hubsim/clock?now=ISO sets it (a replay moves
        one emulator's clock day by day instead of restarting it)."""
        if method == "POST":
            value = (query.get("now") or [""])[0]
            try:
                self.world.set_time(value)
            except (TypeError, ValueError):
                return _Response(
                    400, _json({"error": f"now must be an ISO time such as 2026-08-17T06:00:00Z (got {value!r})"})
                )
        elif method not in ("GET", "HEAD"):
            return _Response(405, _json({"error": "GET or POST"}))
        return _Response(200, _json({"now": self.world.now.strftime("%Y-%m-%dT%H:%M:%SZ")}))

    def _dispatch(self, kind, model_id, rev, parts, query, token, head, method) -> _Response:
        serve = getattr(self.world, "serve", None)  # a world that renders its own pages (hubsim/tree.py)
        if serve is not None and kind in ("listing", "info"):
            status, body, headers = serve(kind, model_id, query, parts.query, self.endpoint, self.page_size)
            return _Response(status, body, headers)
        if kind == "listing":
            return self._listing(parts, query)
        if kind == "info":
            return self._info(model_id, rev, parts, query, token)
        path = parts.path
        if path == "/api/agent-harnesses":
            return _Response(200, _json(AGENT_HARNESSES))
        if path.startswith("/api/telemetry"):
            return _Response(200, b"")
        if path == "/api/whoami-v2":
            if not token:
                return _Response(
                    401,
                    _json({"error": "Invalid credentials in Authorization header"}),
                    [("X-Error-Message", "Invalid credentials in Authorization header")],
                )
            return _Response(
                200,
                _json(
                    {
                        "type": "user",
                        "id": "0" * 24,
                        "name": "hubsim-user",
                        "fullname": "Hub Sim",
                        "isPro": False,
                        "orgs": [],
                        "auth": {"type": "access_token", "accessToken": {"displayName": "hubsim", "role": "read"}},
                    }
                ),
            )
        return _Response(404, _json(NOT_FOUND_BODY))

    # ------------------------------------------------------------------ faults
    def _fault_response(self, fault, rl, kind, model_id, rev, parts, query, token) -> _Response:
        if fault.kind == "429":
            body = _json({"error": "You have exceeded our API rate limit"})
            if fault.mode == "ratelimit":
                policy = rl[1]
                return _Response(429, body, [("RateLimit", f'"api";r=0;t={fault.t}'), policy])
            if fault.mode == "retry-after":
                return _Response(429, body, [("Retry-After", str(fault.t))])
            if fault.mode == "retry-after-date":
                from email.utils import formatdate

                return _Response(429, body, [("Retry-After", formatdate(time.time() + fault.t, usegmt=True))])
            return _Response(429, body, [])
        if fault.kind == "status":
            return _Response(fault.status, _json({"error": f"hubsim injected fault: HTTP {fault.status}"}), rl)
        if fault.kind == "hang":
            return _Response(hang=True)
        if fault.kind == "html":
            return _Response(200, HTML_ERROR, [*rl, ("Content-Type", "text/html; charset=utf-8")])
        if fault.kind in ("trickle", "loop", "foreign", "huge", "echo"):
            return self._hostile(fault, rl, kind, model_id, rev, parts, query, token)
        if fault.kind == "corrupt":
            from .faults import DROP

            full = self._dispatch(kind, model_id, rev, parts, query, token, False, "GET")
            try:
                data = json.loads(full.body)
            except ValueError:
                return _Response(full.status, full.body, rl + full.headers)
            targets = data if isinstance(data, list) else [data]
            if fault.items > 0:
                targets = targets[: fault.items]
            for item in targets:
                if isinstance(item, dict):
                    if fault.value is DROP:
                        item.pop(fault.field, None)
                    else:
                        item[fault.field] = fault.value
            return _Response(full.status, _json(data), rl + full.headers)
        if fault.kind == "truncate":
            full = self._dispatch(kind, model_id, rev, parts, query, token, False, "GET")
            body = full.body[: max(1, len(full.body) // 2)]
            hdrs = [(k, v) for k, v in full.headers if k.lower() != "link"]
            return _Response(200, body, rl + hdrs)
        raise ValueError(fault.kind)

    def _hostile(self, fault, rl, kind, model_id, rev, parts, query, token) -> _Response:
        """The answers of a hostile or broken Hub (see faults.py): trickle, loop, foreign, huge, echo."""
        if fault.kind == "echo":
            said = f"Bearer {token}" if token else "(no Authorization header)"
            msg = f"Invalid credentials in Authorization header: {said}"
            return _Response(fault.status, _json({"error": msg}), [*rl, ("X-Error-Message", msg)])
        if fault.kind == "loop" and fault.mode == "fresh" and kind == "listing":
            base = {k: v for k, v in query.items() if k != "cursor"}
            from urllib.parse import urlencode

            full = self._dispatch(
                kind, model_id, rev, urlsplit("/api/models?" + urlencode(base, doseq=True)), base, token, False, "GET"
            )
            cursor = base64.b64encode(_json({"loop": fault.fired, "p": fault.fired + 1})).decode()
            url = f"{self.endpoint}/api/models?" + urlencode(base, doseq=True) + "&cursor=" + quote(cursor, safe="")
            hdrs = [(k, v) for k, v in full.headers if k.lower() != "link"] + [("Link", f'<{url}>; rel="next"')]
            return _Response(full.status, full.body, rl + hdrs)
        full = self._dispatch(kind, model_id, rev, parts, query, token, False, "GET")
        hdrs = [(k, v) for k, v in full.headers if k.lower() != "link"]
        link = next((v for k, v in full.headers if k.lower() == "link"), None)
        if fault.kind == "trickle":
            return _Response(full.status, full.body, rl + full.headers, trickle=fault.seconds)
        if fault.kind == "loop":  # this very URL again
            url = f"{self.endpoint}{parts.path}" + (f"?{parts.query}" if parts.query else "")
            return _Response(full.status, full.body, rl + hdrs + [("Link", f'<{url}>; rel="next"')])
        if fault.kind == "foreign":
            there = (fault.url or "http://127.0.0.1:9").rstrip("/")
            target = (
                link[link.index("<") + 1 : link.index(">")] if link else f"{self.endpoint}{parts.path}?{parts.query}"
            )
            tail = urlsplit(target)
            url = f"{there}{tail.path}" + (f"?{tail.query}" if tail.query else "")
            return _Response(full.status, full.body, rl + hdrs + [("Link", f'<{url}>; rel="next"')])
        # huge: a JSON number no count can be
        try:
            data = json.loads(full.body)
        except ValueError:
            return _Response(full.status, full.body, rl + full.headers)
        value = fault.value
        from .faults import DROP

        value = 2**63 if value is DROP else json.loads(value) if isinstance(value, str) else value
        targets = data if isinstance(data, list) else [data]
        for item in targets[: fault.items] if fault.items > 0 else targets:
            if isinstance(item, dict):
                item[fault.field] = value
        return _Response(full.status, _json(data), rl + full.headers)

    # ------------------------------------------------------------------ listing
    def _expand_list(self, query) -> list[str]:
        out = []
        for key in ("expand", "expand[]"):
            for v in query.get(key, []):
                out += [p.strip() for p in v.split(",") if p.strip()]
        return out

    def _listing(self, parts, query) -> _Response:
        w = self.world
        expand = self._expand_list(query)
        allowed = [p for p in EXPAND_ALL if p not in DETAIL_ONLY and (self.base_models_on_listing or p != "baseModels")]
        bad = [p for p in expand if p not in allowed]
        if bad:
            return _Response(400, _json(expand_error(allowed)))
        one = lambda k: (query.get(k) or [None])[0]  # noqa: E731
        sort = one("sort") or "trendingScore"
        if sort not in SORTS:
            return _Response(400, _json({"error": '"sort" must be one of [' + ", ".join(SORTS) + "]"}))
        limit = one("limit")
        try:
            size = self.page_size if limit in (None, "") else int(limit)
        except ValueError:
            return _Response(400, _json({"error": '"limit" must be a number'}))
        size = max(1, min(size, self.page_size))
        filters = []
        for v in query.get("filter", []):
            filters += [p.strip() for p in v.split(",") if p.strip()]
        for param, fmt in (("library", "{}"), ("language", "{}"), ("license", "license:{}"), ("dataset", "dataset:{}")):
            for v in query.get(param, []):
                filters += [fmt.format(p.strip()) for p in v.split(",") if p.strip()]
        gated = one("gated")
        key = (
            one("author"),
            one("search"),
            tuple(filters),
            one("pipeline_tag"),
            None if gated is None else gated in TRUE,
            one("inference"),
            sort,
        )
        st = w.state()
        ordered, keys, hi, lo = self._ordered(st, key)
        start = 0
        page = 1
        cur = one("cursor")
        if cur:
            try:
                c = json.loads(base64.b64decode(cur.encode()).decode())
                ck, ch, cl, page = int(c["k"]), int(c["h"]), int(c["l"]), int(c["p"])
            except Exception:  # noqa: BLE001 - whatever a client sends as a cursor, a bad one is its 400, not our 500
                return _Response(400, _json({"error": "Invalid cursor"}))
            after = (keys < ck) | ((keys == ck) & ((hi > ch) | ((hi == ch) & (lo > cl))))
            start = int(np.argmax(after)) if after.any() else len(ordered)
        chunk = ordered[start : start + size]
        if expand:
            fields = order_expand(expand)
        elif one("full") in TRUE:
            fields = list(LIST_FULL)
        else:
            fields = list(LIST_DEFAULT)
        if not expand:
            if one("config") in TRUE:
                fields.append("config")
            if one("cardData") in TRUE:
                fields.append("cardData")
        r = Renderer(w, st)
        items = [r.item(i, fields) for i in chunk.tolist()]
        headers = []
        if start + size < len(ordered):
            last = start + size - 1
            cursor = base64.b64encode(
                _json({"k": int(keys[last]), "h": int(hi[last]), "l": int(lo[last]), "p": page + 1})
            ).decode()
            kept = "&".join(p for p in parts.query.split("&") if p and not p.startswith("cursor="))
            url = f"{self.endpoint}/api/models?" + (kept + "&" if kept else "") + "cursor=" + quote(cursor, safe="")
            headers.append(("Link", f'<{url}>; rel="next"'))
        return _Response(200, _json(items), headers)

    def _ordered(self, st, key):
        ck = (st.t, st.world_version, key)
        with self._cache_lock:
            hit = self._listing_cache.get(ck)
            if hit is not None:
                self._listing_cache.move_to_end(ck)
                return hit
        w = self.world
        author, search, filters, pipeline, gated, inference, sort = key
        mask = st.vis.copy()
        if author:
            code = w.author_code(author)
            if code < 0:
                low = author.lower()
                code = next((c for n, c in w._author_code.items() if n.lower() == low), -1)
            mask &= st.author == code
        if search:
            mask &= st.lower_ids().str.contains(search.lower(), regex=False).to_numpy(dtype=bool)
        for f in filters:
            mask &= w.tag_mask(f, st)
        if pipeline:
            mask &= w.pipeline_codes() == pipeline
        if gated is not None:
            mask &= (w._gated > 0) if gated else (w._gated == 0)
        if inference == "warm":
            mask &= w._warm
        idx = np.flatnonzero(mask)
        vals = {
            "downloads": st.d30,
            "likes": st.likes,
            "trendingScore": st.trending,
            "lastModified": st.lm,
            "createdAt": w._created,
        }[sort][idx]
        order = np.lexsort((w._oid_rank[idx], -vals))
        idx = idx[order]
        res = (idx, vals[order], w._oid_hi[idx], w._oid_lo[idx])
        with self._cache_lock:
            self._listing_cache[ck] = res
            while len(self._listing_cache) > 32:
                self._listing_cache.popitem(last=False)
        return res

    # ------------------------------------------------------------------ model info
    def _info(self, model_id, rev, parts, query, token) -> _Response:
        w = self.world
        st = w.state()
        status, i = w.lookup(model_id, st.t)
        if status == "moved" and i is not None:
            new = st.ids[i]
            loc = f"/api/models/{new}" + (f"/revision/{quote(rev, safe='')}" if rev else "")
            if parts.query:
                loc += "?" + parts.query
            return _Response(
                307,
                f"Temporary Redirect. Redirecting to {loc}".encode(),
                [("Location", loc), ("Content-Type", "text/plain; charset=utf-8")],
            )
        if i is None:  # status "missing"
            if self.anonymous_401 and not token:
                msg = "Invalid username or password."
                return _Response(401, _json({"error": msg}), [("X-Error-Message", msg)])
            msg = "Repository not found"
            return _Response(404, _json({"error": msg}), [("X-Error-Code", "RepoNotFound"), ("X-Error-Message", msg)])
        expand = self._expand_list(query)
        bad = [p for p in expand if p not in EXPAND_ALL]
        if bad:
            return _Response(400, _json(expand_error(EXPAND_ALL)))
        if rev not in (None, "main", "HEAD") and rev != w.sha(i, st):
            msg = f"Invalid rev id: {rev}"
            return _Response(
                404, _json({"error": msg}), [("X-Error-Code", "RevisionNotFound"), ("X-Error-Message", msg)]
            )
        r = Renderer(w, st)
        if expand:
            body = r.item(i, order_expand(expand))
        else:
            body = r.item(i, INFO_DEFAULT)
            if (query.get("securityStatus") or [""])[0] in TRUE:
                body["securityRepoStatus"] = {"scansDone": True, "filesWithIssues": []}
            if (query.get("blobs") or [""])[0] in TRUE and isinstance(body.get("siblings"), list):
                body["siblings"] = [_blob(s["rfilename"], body["_id"]) for s in body["siblings"]]
        return _Response(200, _json(body))


def _blob(name: str, oid: str) -> dict:
    import hashlib

    h = hashlib.sha1(f"{oid}/{name}".encode()).hexdigest()
    big = name.endswith((".safetensors", ".gguf", ".bin"))
    size = (int(h[:6], 16) * 4096) if big else int(h[:3], 16) + 100
    out = {"rfilename": name, "blobId": h, "size": size}
    if big:
        out["lfs"] = {"size": size, "sha256": hashlib.sha256(h.encode()).hexdigest(), "pointerSize": 135}
    return out


def _first(query: dict[str, list[str]], key: str) -> str | None:
    """The first value of a query parameter, None when it is absent."""
    values = query.get(key)
    return values[0] if values else None


def _cursor_page(cur: str | None) -> int:
    if not cur:
        return 1
    try:
        return int(json.loads(base64.b64decode(cur.encode()).decode())["p"])
    except Exception:  # noqa: BLE001 - an undecodable cursor is recorded as page 0; the listing answers it 400
        return 0
