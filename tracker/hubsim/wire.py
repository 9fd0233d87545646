"""HTTP plumbing of the emulator: the threaded server, its request handler, a response and how it is sent."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .server import HubSim


class HubServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, addr, handler, hub: HubSim):
        self.hub = hub
        super().__init__(addr, handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hubsim"
    sys_version = ""
    server: HubServer  # the handler only ever runs under HubServer (it reaches the HubSim through it)

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        # headers and body go out in separate writes: avoid Nagle + delayed-ACK stalls
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.hub.track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.hub.track(self.connection, False)

    def do_GET(self):
        self.server.hub.handle(self, head=False)

    def do_HEAD(self):
        self.server.hub.handle(self, head=True)

    def do_POST(self):  # only the emulator's own clock route takes POST (see HubSim.clock)
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(min(length, 1 << 16))  # a body is not used; read it to keep the connection usable
        self.server.hub.handle(self, head=False)


class Response:
    __slots__ = ("body", "hang", "headers", "status", "trickle")

    def __init__(self, status=200, body=b"", headers=None, hang=False, trickle=0.0):
        self.status, self.body, self.headers, self.hang = status, body, headers or [], hang
        self.trickle = trickle  # seconds between body bytes (a slow-loris Hub)


def to_json(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def send(h: Handler, resp: Response, head: bool, stop: threading.Event) -> None:
    """Write a response the way the Hub does (its headers; trickled a byte at a time when asked)."""
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
                if stop.wait(resp.trickle):
                    break
                h.wfile.write(resp.body[i : i + 1])
                h.wfile.flush()
        elif not head and resp.body:
            h.wfile.write(resp.body)
    except (BrokenPipeError, ConnectionResetError, OSError):
        h.close_connection = True


def first(query: dict[str, list[str]], key: str) -> str | None:
    """The first value of a query parameter, None when it is absent."""
    values = query.get(key)
    return values[0] if values else None
