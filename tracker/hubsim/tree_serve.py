"""Serving a TreeWorld over HubSim: listing orders, page rendering from string templates, model info.

Kept apart from tree.py (which generates the world and its truth). Pages are rendered from the
world's arrays with f-string templates (about 5 ms per 1,000-item page), so that the emulator is not
what a listing benchmark measures.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd

from .listing import SORTS, expand_list, next_link, sort_error
from .render import EXPAND_ALL, LIST_DEFAULT, expand_error, order_expand
from .timefmt import format_oid, hub_times
from .tree import TreeWorld
from .tree_catalog import GATED, LICENSES, PREFIX_JSON, PROFILES, RELATIONS, SUFFIX_JSON
from .wire import first


def order(w: TreeWorld, sort: str, author: str | None, search: str | None) -> np.ndarray:
    """The served models of a listing (whole Hub, or an author / search), in the sort's order (cached)."""
    key = (sort, author, search)
    hit = w.listing_orders.get(key)
    if hit is not None:
        return hit
    mask = w.served.copy()
    if author:
        mask &= np.char.lower(w.author_of.astype(str)) == author.lower()
    if search:
        mask &= pd.Series(w.ids).str.lower().str.contains(search.lower(), regex=False).to_numpy()
    idx = np.flatnonzero(mask)
    vals = {
        "createdAt": w.created,
        "lastModified": w.created,
        "downloads": w.d30,
        "likes": w.likes,
        "trendingScore": w.trending,
    }[sort][idx]
    out = idx[np.lexsort((w.created[idx], w.oid_lo[idx], -vals))]
    if len(w.listing_orders) > 16:
        w.listing_orders.clear()
    w.listing_orders[key] = out
    return out


def created_str(w) -> np.ndarray:
    if w.created_strs is None:
        w.created_strs = np.array(hub_times(w.created), dtype=object)
    return w.created_strs


def oid(w, i: int) -> str:
    return format_oid(w.created[i], w.oid_lo[i])


# the count fields of an item -> the column of ``render`` they come from
COUNTS = {"downloads": "d30", "downloadsAllTime": "at", "likes": "likes", "trendingScore": "tr"}


def render(w: TreeWorld, idx: np.ndarray, fields: list[str]) -> bytes:
    """A JSON array of listing items with the given keys (in order), from string templates."""
    cstr = created_str(w)
    ids = w.ids
    rows = []
    il = idx.tolist()
    cols = {
        "created": cstr[idx].tolist(),
        "d30": w.d30[idx].tolist(),
        "at": w.at[idx].tolist(),
        "likes": w.likes[idx].tolist(),
        "tr": w.trending[idx].tolist(),
        "prof": w.prof[idx].tolist(),
        "rel": w.rel[idx].tolist(),
        "gated": w.gated[idx].tolist(),
        "params": w.params[idx].tolist(),
        "lic": w.license[idx].tolist(),
        "lo": w.oid_lo[idx].tolist(),
        "hi": w.created[idx].tolist(),
    }
    pptr, ep = w.pptr, w.ep
    for n, i in enumerate(il):
        parts = [f'"_id":"{format_oid(cols["hi"][n], cols["lo"][n])}"', f'"id":"{ids[i]}"']
        p = cols["prof"][n]
        prof = PROFILES[p]
        for k in fields:
            if k in ("_id", "id"):
                continue
            if k == "author":
                parts.append(f'"author":"{w.author_of[i]}"')
            elif k in COUNTS:
                parts.append(f'"{k}":{cols[COUNTS[k]][n]}')
            elif k in ("createdAt", "lastModified"):
                parts.append(f'"{k}":"{cols["created"][n]}"')
            elif k == "private":
                parts.append('"private":false')
            elif k == "pipeline_tag" and prof[2] is not None:
                parts.append(f'"pipeline_tag":"{prof[2]}"')
            elif k == "library_name" and prof[3] is not None:
                parts.append(f'"library_name":"{prof[3]}"')
            elif k == "gated":
                parts.append(f'"gated":{GATED[cols["gated"][n]]}')
            elif k == "safetensors" and prof[4]:
                v = cols["params"][n]
                parts.append(f'"safetensors":{{"parameters":{{"BF16":{v}}},"total":{v}}}')
            elif k == "tags":
                r = cols["rel"][n]
                mid = ""
                if r >= 0:
                    rn = RELATIONS[r]
                    mid = "".join(
                        f',"base_model:{ids[q]}","base_model:{rn}:{ids[q]}"' for q in ep[pptr[i] : pptr[i + 1]].tolist()
                    )
                parts.append(f'"tags":[{PREFIX_JSON[p]}{mid},"license:{LICENSES[cols["lic"][n]]}",{SUFFIX_JSON[p]}]')
            elif k == "baseModels" and cols["rel"][n] >= 0:
                ms = ",".join(f'{{"_id":"{oid(w, q)}","id":"{ids[q]}"}}' for q in ep[pptr[i] : pptr[i + 1]].tolist())
                parts.append(f'"baseModels":{{"relation":"{RELATIONS[cols["rel"][n]]}","models":[{ms}]}}')
        rows.append("{" + ",".join(parts) + "}")
    return ("[" + ",".join(rows) + "]").encode()


def serve(w: TreeWorld, kind: str, model_id: str | None, query: dict, raw_query: str, endpoint: str, page_size: int):
    """Answer a listing (or model-info) request: (status, body bytes, extra headers)."""
    expand = expand_list(query)
    bad = [p for p in expand if p not in EXPAND_ALL]
    if bad:
        return 400, json.dumps(expand_error(EXPAND_ALL)).encode(), []
    fields = (
        order_expand(expand)
        if expand
        else [k for k in LIST_DEFAULT if k != "modelId"]  # the tree world's templates render no modelId
    )
    if kind == "info":
        hit = np.flatnonzero((w.ids == model_id) & w.served)
        if not len(hit):
            msg = "Repository not found"
            return (
                404,
                json.dumps({"error": msg}).encode(),
                [("X-Error-Code", "RepoNotFound"), ("X-Error-Message", msg)],
            )
        body = render(w, hit[:1], fields if expand else [*fields, "author", "baseModels"])
        return 200, body[1:-1], []
    if query.get("filter"):
        return 400, b'{"error":"hubsim tree world: filter= is not served (list the whole Hub or an author)"}', []
    sort = first(query, "sort") or "trendingScore"
    if sort not in SORTS:
        return 400, json.dumps(sort_error()).encode(), []
    try:
        size = max(1, min(int(first(query, "limit") or page_size), page_size))
    except ValueError:
        return 400, b'{"error":"\\"limit\\" must be a number"}', []
    ordered = order(w, sort, first(query, "author"), first(query, "search"))
    start, page = 0, 1
    cur = first(query, "cursor")
    if cur:
        try:
            c = json.loads(base64.b64decode(cur.encode()).decode())
            start, page = int(c["o"]), int(c["p"])
        except Exception:  # noqa: BLE001
            return 400, b'{"error":"Invalid cursor"}', []
    body = render(w, ordered[start : start + size], fields)
    headers = []
    if start + size < len(ordered):
        token = base64.b64encode(json.dumps({"o": start + size, "p": page + 1}).encode()).decode()
        headers.append(next_link(endpoint, raw_query, token))
    return 200, body, headers


def main(argv=None) -> None:
    import argparse
    import sys
    import time
    from typing import cast

    from .server import HubSim
    from .world import World

    ap = argparse.ArgumentParser(description="Serve a whole-Hub tree world (tracker.hubsim.tree).")
    ap.add_argument("--models", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--quota", type=int, default=1000, help="requests per window, with or without a token")
    ap.add_argument("--window", type=float, default=300)
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    world = TreeWorld(models=args.models, seed=args.seed)
    # HubSim is annotated with World; a world with its own serve() (this one) is served as well
    hub = HubSim(
        cast(World, world), port=args.port, quota_anonymous=args.quota, quota_token=args.quota, window_s=args.window
    )
    hub.start()
    print(
        json.dumps(
            {"endpoint": hub.endpoint, "models": int(world.served.sum()), "build_s": round(time.monotonic() - t0, 2)}
        ),
        flush=True,
    )
    try:
        hub.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()
        sys.exit(0)
