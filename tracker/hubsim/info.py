"""``GET /api/models/{id}``: the model-info body of a World."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING
from urllib.parse import quote

from .listing import TRUE, expand_list
from .render import EXPAND_ALL, INFO_DEFAULT, Renderer, expand_error, order_expand
from .wire import Response, first, to_json

if TYPE_CHECKING:
    from .server import HubSim


def info(hub: HubSim, model_id, rev, parts, query, token) -> Response:
    """``GET /api/models/{id}[/revision/{rev}]``: a body, a 307 to a renamed repo, or the Hub's errors."""
    w = hub.world
    st = w.state()
    status, i = w.lookup(model_id, st.t)
    if status == "moved" and i is not None:
        new = st.ids[i]
        loc = f"/api/models/{new}" + (f"/revision/{quote(rev, safe='')}" if rev else "")
        if parts.query:
            loc += "?" + parts.query
        return Response(
            307,
            f"Temporary Redirect. Redirecting to {loc}".encode(),
            [("Location", loc), ("Content-Type", "text/plain; charset=utf-8")],
        )
    if i is None:  # status "missing"
        if hub.anonymous_401 and not token:
            msg = "Invalid username or password."
            return Response(401, to_json({"error": msg}), [("X-Error-Message", msg)])
        msg = "Repository not found"
        return Response(404, to_json({"error": msg}), [("X-Error-Code", "RepoNotFound"), ("X-Error-Message", msg)])
    expand = expand_list(query)
    bad = [p for p in expand if p not in EXPAND_ALL]
    if bad:
        return Response(400, to_json(expand_error(EXPAND_ALL)))
    if rev not in (None, "main", "HEAD") and rev != w.sha(i, st):
        msg = f"Invalid rev id: {rev}"
        return Response(404, to_json({"error": msg}), [("X-Error-Code", "RevisionNotFound"), ("X-Error-Message", msg)])
    r = Renderer(w, st)
    if expand:
        body = r.item(i, order_expand(expand))
    else:
        body = r.item(i, INFO_DEFAULT)
        if first(query, "securityStatus") in TRUE:
            body["securityRepoStatus"] = {"scansDone": True, "filesWithIssues": []}
        if first(query, "blobs") in TRUE and isinstance(body.get("siblings"), list):
            body["siblings"] = [blob(s["rfilename"], body["_id"]) for s in body["siblings"]]
    return Response(200, to_json(body))


def blob(name: str, oid: str) -> dict:
    """A sibling with ``blobs=true``: blob id, size, and LFS facts for weights (derived from the oid)."""
    h = hashlib.sha1(f"{oid}/{name}".encode()).hexdigest()
    big = name.endswith((".safetensors", ".gguf", ".bin"))
    size = (int(h[:6], 16) * 4096) if big else int(h[:3], 16) + 100
    out = {"rfilename": name, "blobId": h, "size": size}
    if big:
        out["lfs"] = {"size": size, "sha256": hashlib.sha256(h.encode()).hexdigest(), "pointerSize": 135}
    return out
