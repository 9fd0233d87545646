"""JSON bodies of the Hub: key sets and key order of listing items, model-info bodies and ``expand``."""

from __future__ import annotations

from . import catalog as cat
from .generate import GATED, RELATIONS
from .timefmt import hub_time
from .world import World

# the last keys of every listing item, default or full=true, in the order the Hub sends them
ITEM_TAIL = [
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
    "modelId",
]
# the live Hub's default listing item and full=true item: keys in the order it sends them
LIST_DEFAULT = [
    "_id",
    "id",
    "likes",
    "trendingScore",
    "private",
    *ITEM_TAIL,
]
LIST_FULL = [
    "_id",
    "id",
    "author",
    "gated",
    "lastModified",
    "likes",
    "trendingScore",
    "private",
    "sha",
    *ITEM_TAIL,
    "siblings",
]
# a run of keys in the order the Hub sends them both in a model-info body and in an expand body
REPO_DETAIL = [
    "gated",
    "disabled",
    "mask_token",
    "widgetData",
    "model-index",
    "config",
    "cardData",
    "transformersInfo",
    "siblings",
    "spaces",
]
# the live Hub's default model-info body (no expand): keys in the order it sends them
INFO_DEFAULT = [
    "_id",
    "id",
    "private",
    "pipeline_tag",
    "library_name",
    "tags",
    "downloads",
    "likes",
    "modelId",
    "author",
    "sha",
    "lastModified",
    *REPO_DETAIL,
    "createdAt",
    "safetensors",
    "inference",
    "usedStorage",
]
# Every value the server accepts for expand, in the order its 400 message lists them.
EXPAND_ALL = [
    "author",
    "baseModels",
    "cardData",
    "childrenModelCount",
    "config",
    "createdAt",
    "disabled",
    "downloads",
    "downloadsAllTime",
    "evalResults",
    "gated",
    "gguf",
    "inference",
    "inferenceProviderMapping",
    "lastModified",
    "library_name",
    "likes",
    "mask_token",
    "model-index",
    "pipeline_tag",
    "private",
    "resourceGroup",
    "safetensors",
    "sha",
    "siblings",
    "spaces",
    "tags",
    "transformersInfo",
    "trendingScore",
    "usedStorage",
    "widgetData",
    "gitalyUid",
    "xetEnabled",
]
DETAIL_ONLY = ("childrenModelCount", "usedStorage")
# Order of the properties in an expand body (after _id, id): the info-body order, then the extras.
EXPAND_ORDER = [
    "author",
    "private",
    "pipeline_tag",
    "library_name",
    "tags",
    "downloads",
    "downloadsAllTime",
    "likes",
    "trendingScore",
    "sha",
    "lastModified",
    "createdAt",
    *REPO_DETAIL,
    "safetensors",
    "gguf",
    "inference",
    "inferenceProviderMapping",
    "evalResults",
    "resourceGroup",
    "usedStorage",
    "baseModels",
    "childrenModelCount",
    "gitalyUid",
    "xetEnabled",
]
_RANK = {k: n for n, k in enumerate(EXPAND_ORDER)}

ABSENT = object()
# fields an injected model serves only when its record has them
_RAW_ONLY = {
    "mask_token",
    "widgetData",
    "model-index",
    "evalResults",
    "inferenceProviderMapping",
    "resourceGroup",
    "gitalyUid",
    "config",
    "cardData",
    "transformersInfo",
    "safetensors",
    "gguf",
    "inference",
    "usedStorage",
}


def expand_error(allowed: list[str]) -> dict:
    return {"error": '"expand" must be one of [' + ", ".join(allowed) + "]"}


def order_expand(props: list[str]) -> list[str]:
    seen = []
    for p in props:
        if p not in seen:
            seen.append(p)
    return ["_id", "id", *sorted(seen, key=lambda p: _RANK.get(p, 999))]


class Renderer:
    """Builds Hub JSON objects for models of a world at one state (time)."""

    def __init__(self, world: World, st):
        self.w = world
        self.st = st
        self.cstr = world.created_str()

    def item(self, i: int, keys: list[str], extra: dict | None = None) -> dict:
        w, _st = self.w, self.st
        raw = w.raw.get(i)
        prof = w.profile(i)
        d = {}
        for k in keys:
            if (
                raw is not None
                and k in raw
                and k
                not in (
                    "id",
                    "modelId",
                    "downloads",
                    "likes",
                    "trendingScore",
                    "downloadsAllTime",
                    "tags",
                    "lastModified",
                )
            ):
                d[k] = raw[k]
                continue
            v = self._value(k, i, raw, prof)
            if v is not ABSENT:
                d[k] = v
        if extra:
            d.update(extra)
        return d

    def _value(self, k, i, raw, prof):
        w, st = self.w, self.st
        if raw is not None and k in _RAW_ONLY:
            return ABSENT
        if k == "_id":
            return w.oid(i)
        if k in ("id", "modelId"):
            return st.ids[i]
        if k == "author":
            return w.authors[st.author[i]]
        if k == "private":
            return False
        if k == "pipeline_tag":
            return prof["pipeline"] if prof["pipeline"] is not None else ABSENT
        if k == "library_name":
            return prof["library"] if prof["library"] is not None else ABSENT
        if k == "tags":
            return w.tags(i, st)
        if k == "downloads":
            return int(st.d30[i])
        if k == "downloadsAllTime":
            return int(st.at[i])
        if k == "likes":
            return int(st.likes[i])
        if k == "trendingScore":
            return int(st.trending[i])
        if k == "sha":
            return w.sha(i, st)
        if k == "lastModified":
            return hub_time(st.lm[i])
        if k == "createdAt":
            return self.cstr[i]
        if k == "gated":
            return GATED[w.gated[i]]
        if k == "disabled":
            return bool(w.disabled[i])
        if k == "siblings":
            return [{"rfilename": f} for f in prof["files"]]
        if k == "spaces":
            return []
        if k == "xetEnabled":
            return True
        if k == "baseModels":
            rel, ps = w.base_models(i, st)
            if not ps:
                return ABSENT
            return {"relation": rel, "models": [{"_id": w.oid(p), "id": st.ids[p]} for p in ps]}
        if k == "childrenModelCount":
            return {r: int(st.children[n][i]) for n, r in enumerate(RELATIONS)}
        n_params = int(w.params[i])
        lib, pipe, mt = prof["library"], prof["pipeline"], prof["model_type"]
        if k == "config":
            if lib not in ("transformers", "peft", "mlx") or not mt:
                return ABSENT
            arch = "".join(p.capitalize() for p in mt.split("_")) + "ForCausalLM"
            return {"architectures": [arch], "model_type": mt}
        if k == "cardData":
            card = {"license": w.licenses[w.license[i]]}
            rel, ps = w.base_models(i, st)
            if ps:
                card["base_model"] = st.ids[ps[0]] if len(ps) == 1 else [st.ids[p] for p in ps]
            if lib:
                card["library_name"] = lib
            if pipe:
                card["pipeline_tag"] = pipe
            return card
        if k == "transformersInfo":
            if lib != "transformers" or pipe not in cat.AUTO_MODEL:
                return ABSENT
            return {"auto_model": cat.AUTO_MODEL[pipe], "pipeline_tag": pipe, "processor": "AutoTokenizer"}
        if k == "safetensors":
            if "safetensors" not in prof["prefix"]:
                return ABSENT
            return {"parameters": {"BF16": n_params}, "total": n_params}
        if k == "gguf":
            if prof["flavor"] != "gguf":
                return ABSENT
            return {"total": n_params, "architecture": mt or "llama", "context_length": 32768}
        if k == "inference":
            return "warm" if w.warm[i] else ABSENT
        if k == "usedStorage":
            return n_params * 2 + 25_000
        return ABSENT
