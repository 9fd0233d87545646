"""``GET /api/models``: the listing of a World (filters, sort order, cursor pages) and what a listing of
any world shares (sort names, expand parsing, the next-page link)."""

from __future__ import annotations

import base64
import json
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING
from urllib.parse import quote

import numpy as np

from .render import DETAIL_ONLY, EXPAND_ALL, LIST_DEFAULT, LIST_FULL, Renderer, expand_error, order_expand
from .wire import Response, first, to_json

if TYPE_CHECKING:
    from .server import HubSim
    from .timeline import State
    from .world import World

SORTS = ("downloads", "likes", "lastModified", "createdAt", "trendingScore")
TRUE = ("true", "1", "yes", "True")


def expand_list(query: dict[str, list[str]]) -> list[str]:
    """The fields asked for with ``expand=a,b``, ``expand=a&expand=b`` or ``expand[]=a``."""
    out = []
    for key in ("expand", "expand[]"):
        for v in query.get(key, []):
            out += [p.strip() for p in v.split(",") if p.strip()]
    return out


def sort_error() -> dict:
    """The Hub's 400 body for a ``sort=`` it does not know."""
    return {"error": '"sort" must be one of [' + ", ".join(SORTS) + "]"}


def cursor_page(cur: str | None) -> int:
    """The page number a listing cursor carries (1 without one), for the request log and fault rules."""
    if not cur:
        return 1
    try:
        return int(json.loads(base64.b64decode(cur.encode()).decode())["p"])
    except Exception:  # noqa: BLE001 - an undecodable cursor is recorded as page 0; the listing answers it 400
        return 0


def next_link(endpoint: str, raw_query: str, token: str) -> tuple[str, str]:
    """The ``Link`` header to the next page: the same query with its cursor replaced by ``token``."""
    kept = "&".join(p for p in raw_query.split("&") if p and not p.startswith("cursor="))
    url = f"{endpoint}/api/models?" + (kept + "&" if kept else "") + "cursor=" + quote(token, safe="")
    return "Link", f'<{url}>; rel="next"'


class Listings:
    """Listing orders of a World by (time, world version, filters, sort): the last 32, thread-safe."""

    def __init__(self):
        self._cache: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def ordered(self, w: World, st: State, key: tuple):
        """The listing's models in sort order, with their sort keys and oids (for the cursor); cached."""
        ck = (st.t, st.world_version, key)
        with self._lock:
            hit = self._cache.get(ck)
            if hit is not None:
                self._cache.move_to_end(ck)
                return hit
        author, search, filters, pipeline, gated, inference, sort = key
        mask = st.vis.copy()
        if author:
            mask &= st.author == w.author_code(author, any_case=True)
        if search:
            mask &= st.lower_ids().str.contains(search.lower(), regex=False).to_numpy(dtype=bool)
        for f in filters:
            mask &= w.tag_mask(f, st)
        if pipeline:
            mask &= w.pipeline_codes() == pipeline
        if gated is not None:
            mask &= (w.gated > 0) if gated else (w.gated == 0)
        if inference == "warm":
            mask &= w.warm
        idx = np.flatnonzero(mask)
        vals = {
            "downloads": st.d30,
            "likes": st.likes,
            "trendingScore": st.trending,
            "lastModified": st.lm,
            "createdAt": w.created,
        }[sort][idx]
        order = np.lexsort((w.oid_rank[idx], -vals))
        idx = idx[order]
        res = (idx, vals[order], w.oid_hi[idx], w.oid_lo[idx])
        with self._lock:
            self._cache[ck] = res
            while len(self._cache) > 32:
                self._cache.popitem(last=False)
        return res


def listing(hub: HubSim, parts, query) -> Response:
    """A page of ``GET /api/models``: filters, sort, cursor, item fields and the next-page link."""
    w = hub.world
    expand = expand_list(query)
    allowed = [p for p in EXPAND_ALL if p not in DETAIL_ONLY and (hub.base_models_on_listing or p != "baseModels")]
    bad = [p for p in expand if p not in allowed]
    if bad:
        return Response(400, to_json(expand_error(allowed)))
    sort = first(query, "sort") or "trendingScore"
    if sort not in SORTS:
        return Response(400, to_json(sort_error()))
    limit = first(query, "limit")
    try:
        size = hub.page_size if limit in (None, "") else int(limit)
    except ValueError:
        return Response(400, to_json({"error": '"limit" must be a number'}))
    size = max(1, min(size, hub.page_size))
    filters = []
    for v in query.get("filter", []):
        filters += [p.strip() for p in v.split(",") if p.strip()]
    for param, fmt in (("library", "{}"), ("language", "{}"), ("license", "license:{}"), ("dataset", "dataset:{}")):
        for v in query.get(param, []):
            filters += [fmt.format(p.strip()) for p in v.split(",") if p.strip()]
    gated = first(query, "gated")
    key = (
        first(query, "author"),
        first(query, "search"),
        tuple(filters),
        first(query, "pipeline_tag"),
        None if gated is None else gated in TRUE,
        first(query, "inference"),
        sort,
    )
    st = w.state()
    ordered, keys, hi, lo = hub.listings.ordered(w, st, key)
    start = 0
    page = 1
    cur = first(query, "cursor")
    if cur:
        try:
            c = json.loads(base64.b64decode(cur.encode()).decode())
            ck, ch, cl, page = int(c["k"]), int(c["h"]), int(c["l"]), int(c["p"])
        except Exception:  # noqa: BLE001 - whatever a client sends as a cursor, a bad one is its 400, not our 500
            return Response(400, to_json({"error": "Invalid cursor"}))
        after = (keys < ck) | ((keys == ck) & ((hi > ch) | ((hi == ch) & (lo > cl))))
        start = int(np.argmax(after)) if after.any() else len(ordered)
    chunk = ordered[start : start + size]
    if expand:
        fields = order_expand(expand)
    elif first(query, "full") in TRUE:
        fields = list(LIST_FULL)
    else:
        fields = list(LIST_DEFAULT)
    if not expand:
        if first(query, "config") in TRUE:
            fields.append("config")
        if first(query, "cardData") in TRUE:
            fields.append("cardData")
    r = Renderer(w, st)
    items = [r.item(i, fields) for i in chunk.tolist()]
    headers = []
    if start + size < len(ordered):
        last = start + size - 1
        cursor = base64.b64encode(
            to_json({"k": int(keys[last]), "h": int(hi[last]), "l": int(lo[last]), "p": page + 1})
        ).decode()
        headers.append(next_link(hub.endpoint, parts.query, cursor))
    return Response(200, to_json(items), headers)
