"""What the emulator answers when a fault rule fires: 429s, error statuses, hangs, HTML, corrupt or
truncated bodies, and the hostile Hubs (trickle, loop, foreign link, huge number, echoed token)."""

from __future__ import annotations

import base64
import json
import time
from email.utils import formatdate
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlsplit

from .faults import DROP
from .wire import Response, to_json

if TYPE_CHECKING:
    from .server import HubSim

HTML_ERROR = (
    b'<!DOCTYPE html>\n<html class="" lang="en"><head><meta charset="utf-8" />'
    b"<title>Hugging Face - The AI community building the future.</title></head><body>"
    b"<h1>500</h1><p>Internal Error - We're working hard to fix this as soon as possible!</p>"
    b"</body></html>\n"
)


def fault_response(hub: HubSim, fault, rl, kind, model_id, rev, parts, query, token) -> Response:
    """The answer a fault rule gives instead of the normal one (see faults.py for the kinds)."""
    if fault.kind == "429":
        body = to_json({"error": "You have exceeded our API rate limit"})
        if fault.mode == "ratelimit":
            policy = rl[1]
            return Response(429, body, [("RateLimit", f'"api";r=0;t={fault.t}'), policy])
        if fault.mode == "retry-after":
            return Response(429, body, [("Retry-After", str(fault.t))])
        if fault.mode == "retry-after-date":
            return Response(429, body, [("Retry-After", formatdate(time.time() + fault.t, usegmt=True))])
        return Response(429, body, [])
    if fault.kind == "status":
        return Response(fault.status, to_json({"error": f"hubsim injected fault: HTTP {fault.status}"}), rl)
    if fault.kind == "hang":
        return Response(hang=True)
    if fault.kind == "html":
        return Response(200, HTML_ERROR, [*rl, ("Content-Type", "text/html; charset=utf-8")])
    if fault.kind in ("trickle", "loop", "foreign", "huge", "echo"):
        return hostile(hub, fault, rl, kind, model_id, rev, parts, query, token)
    if fault.kind == "corrupt":
        full = hub.dispatch(kind, model_id, rev, parts, query, token, False, "GET")
        try:
            data = json.loads(full.body)
        except ValueError:
            return Response(full.status, full.body, rl + full.headers)
        targets = data if isinstance(data, list) else [data]
        if fault.items > 0:
            targets = targets[: fault.items]
        for item in targets:
            if isinstance(item, dict):
                if fault.value is DROP:
                    item.pop(fault.field, None)
                else:
                    item[fault.field] = fault.value
        return Response(full.status, to_json(data), rl + full.headers)
    if fault.kind == "truncate":
        full = hub.dispatch(kind, model_id, rev, parts, query, token, False, "GET")
        body = full.body[: max(1, len(full.body) // 2)]
        hdrs = [(k, v) for k, v in full.headers if k.lower() != "link"]
        return Response(200, body, rl + hdrs)
    raise ValueError(fault.kind)


def hostile(hub: HubSim, fault, rl, kind, model_id, rev, parts, query, token) -> Response:
    """The answers of a hostile or broken Hub (see faults.py): trickle, loop, foreign, huge, echo."""
    if fault.kind == "echo":
        said = f"Bearer {token}" if token else "(no Authorization header)"
        msg = f"Invalid credentials in Authorization header: {said}"
        return Response(fault.status, to_json({"error": msg}), [*rl, ("X-Error-Message", msg)])
    if fault.kind == "loop" and fault.mode == "fresh" and kind == "listing":
        base = {k: v for k, v in query.items() if k != "cursor"}
        full = hub.dispatch(
            kind, model_id, rev, urlsplit("/api/models?" + urlencode(base, doseq=True)), base, token, False, "GET"
        )
        cursor = base64.b64encode(to_json({"loop": fault.fired, "p": fault.fired + 1})).decode()
        url = f"{hub.endpoint}/api/models?" + urlencode(base, doseq=True) + "&cursor=" + quote(cursor, safe="")
        hdrs = [(k, v) for k, v in full.headers if k.lower() != "link"] + [("Link", f'<{url}>; rel="next"')]
        return Response(full.status, full.body, rl + hdrs)
    full = hub.dispatch(kind, model_id, rev, parts, query, token, False, "GET")
    hdrs = [(k, v) for k, v in full.headers if k.lower() != "link"]
    link = next((v for k, v in full.headers if k.lower() == "link"), None)
    if fault.kind == "trickle":
        return Response(full.status, full.body, rl + full.headers, trickle=fault.seconds)
    if fault.kind == "loop":  # this very URL again
        url = f"{hub.endpoint}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        return Response(full.status, full.body, rl + hdrs + [("Link", f'<{url}>; rel="next"')])
    if fault.kind == "foreign":
        there = (fault.url or "http://127.0.0.1:9").rstrip("/")
        target = link[link.index("<") + 1 : link.index(">")] if link else f"{hub.endpoint}{parts.path}?{parts.query}"
        tail = urlsplit(target)
        url = f"{there}{tail.path}" + (f"?{tail.query}" if tail.query else "")
        return Response(full.status, full.body, rl + hdrs + [("Link", f'<{url}>; rel="next"')])
    # huge: a JSON number no count can be
    try:
        data = json.loads(full.body)
    except ValueError:
        return Response(full.status, full.body, rl + full.headers)
    value = fault.value
    value = 2**63 if value is DROP else json.loads(value) if isinstance(value, str) else value
    targets = data if isinstance(data, list) else [data]
    for item in targets[: fault.items] if fault.items > 0 else targets:
        if isinstance(item, dict):
            item[fault.field] = value
    return Response(full.status, to_json(data), rl + full.headers)
