"""The emulator's HTTP front: ``HubSim`` serves a World as the Hub's API (routes, rate limits, faults,
the request log) on a loopback port.

Stdlib only (``ThreadingHTTPServer``, HTTP/1.1 keep-alive, daemon threads). One module per part:
wire.py (server, handler, sending), limits.py (stats, rate limiter), listing.py and info.py (the two
API routes), fault_answers.py (what a fault rule answers). See ``docs/hubsim.md``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from urllib.parse import parse_qsl, unquote, urlsplit

from .fault_answers import fault_response
from .faults import FaultPlan
from .info import info
from .limits import RateLimiter, Stats, fmt_window
from .listing import Listings, cursor_page, listing
from .wire import Handler, HubServer, Response, first, send, to_json
from .world import World

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
CLOCK_PATH = "/_hubsim/clock"


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
        self._server: HubServer | None = None
        self._thread: threading.Thread | None = None
        self._ticker: threading.Thread | None = None
        self.listings = Listings()  # listing orders (bench/hubsim.py clears them between rounds)

    # ------------------------------------------------------------------ lifecycle
    @property
    def endpoint(self) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}"

    def start(self) -> HubSim:
        self._stop.clear()
        self._server = HubServer((self.host, self.port), Handler, self)
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

    def track(self, conn, add: bool) -> None:
        """Remember an open connection (so that ``stop`` can shut it), or forget a closed one."""
        with self._conn_lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def set_quota(self, anonymous: int | None = None, token: int | None = None, window_s: float | None = None):
        """Change quotas / window length (also resets every client's window)."""
        self.limiter.configure(anonymous, token, window_s)

    # ------------------------------------------------------------------ request handling
    def handle(self, h: Handler, head: bool) -> None:
        """Answer one request: route, rate limit, fault, dispatch, record, send."""
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
            send(h, self.clock(h.command, query), head, self._stop)
            return
        kind, model_id, rev = self._route(path)
        if kind == "listing":
            req["route"] = "listing"
            req["author"] = first(query, "author")
            req["page"] = cursor_page(first(query, "cursor"))
        elif kind == "info":
            req["route"] = "info"
            req["model"] = model_id
            req["author"] = model_id.split("/", 1)[0] if "/" in model_id else None

        allowed, remaining, reset, quota, window = self.limiter.hit(client, token is not None)
        rl = [
            ("RateLimit", f'"api";r={remaining};t={reset}'),
            ("RateLimit-Policy", f'"fixed window";"api";q={quota};w={fmt_window(window)}'),
        ]
        delay, fault = self.faults.decide(req)
        if delay > 0:
            self._stop.wait(delay)
        try:
            if fault is not None:
                req["fault"] = fault.kind
                resp = fault_response(self, fault, rl, kind, model_id, rev, parts, query, token)
            elif not allowed:
                resp = Response(
                    429, to_json({"error": f"You have exceeded our API rate limit, retry in {reset} seconds"}), rl
                )
            else:
                resp = self.dispatch(kind, model_id, rev, parts, query, token, head, h.command)
                resp.headers = rl + resp.headers
        except Exception as exc:  # noqa: BLE001 - a bug in the emulator must not kill the connection silently
            resp = Response(500, to_json({"error": f"hubsim internal error: {exc!r}"}), rl)
        req["status"] = resp.status if not resp.hang else None
        self.stats.record(req)
        if resp.hang:
            self._stop.wait()
            h.close_connection = True
            return
        send(h, resp, head, self._stop)

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

    def clock(self, method: str, query: dict[str, list[str]]) -> Response:
        """GET /_hubsim/clock tells the simulated time; POST /_hubsim/clock?now=ISO sets it (a replay moves
        one emulator's clock day by day instead of restarting it)."""
        if method == "POST":
            value = (query.get("now") or [""])[0]
            try:
                self.world.set_time(value)
            except (TypeError, ValueError):
                return Response(
                    400, to_json({"error": f"now must be an ISO time such as 2026-08-17T06:00:00Z (got {value!r})"})
                )
        elif method not in ("GET", "HEAD"):
            return Response(405, to_json({"error": "GET or POST"}))
        return Response(200, to_json({"now": self.world.now.strftime("%Y-%m-%dT%H:%M:%SZ")}))

    def dispatch(self, kind, model_id, rev, parts, query, token, head, method) -> Response:
        """The normal answer to a request (no fault, within quota)."""
        serve = getattr(self.world, "serve", None)  # a world that renders its own pages (hubsim/tree.py)
        if serve is not None and kind in ("listing", "info"):
            status, body, headers = serve(kind, model_id, query, parts.query, self.endpoint, self.page_size)
            return Response(status, body, headers)
        if kind == "listing":
            return listing(self, parts, query)
        if kind == "info":
            return info(self, model_id, rev, parts, query, token)
        path = parts.path
        if path == "/api/agent-harnesses":
            return Response(200, to_json(AGENT_HARNESSES))
        if path.startswith("/api/telemetry"):
            return Response(200, b"")
        if path == "/api/whoami-v2":
            if not token:
                return Response(
                    401,
                    to_json({"error": "Invalid credentials in Authorization header"}),
                    [("X-Error-Message", "Invalid credentials in Authorization header")],
                )
            return Response(
                200,
                to_json(
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
        return Response(404, to_json(NOT_FOUND_BODY))
