"""The emulator against the real huggingface_hub client over HTTP: listing keys and order, pagination, sorts,
filters, expand, model info, renames and errors, as the live Hub answers them."""

import itertools
import os

os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.pop("HF_HUB_OFFLINE", None)

import json

import httpx2
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import (
    BadRequestError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from tracker.hubsim import HubSim, World
from tracker.hubsim.testing import quiet_client, reset_hub

quiet_client()

# Real bodies of the live Hub, key order preserved: a default listing item (KIMI), a full=true listing
# item (MELLUM) and a model-info body without expand (BERT; two lists cut short with "...").
KIMI = json.loads(
    '{"_id":"6909b87b734dd24dd19da3ef","id":"moonshotai/Kimi-K2-Thinking","likes":578,"trendingScore":580,"private":false,"downloads":5119,"tags":["transformers","safetensors","kimi_k2","text-generation","conversational","custom_code","license:other","autotrain_compatible","endpoints_compatible","compressed-tensors","region:us"],"pipeline_tag":"text-generation","library_name":"transformers","createdAt":"2025-11-04T08:25:31.000Z","modelId":"moonshotai/Kimi-K2-Thinking"}'
)
MELLUM = json.loads(
    '{"_id":"6a1563f96ea5882878c82ed4","id":"JetBrains/Mellum2-12B-A2.5B-Thinking","author":"JetBrains","gated":false,"lastModified":"2026-06-12T10:46:19.000Z","likes":288,"trendingScore":36,"private":false,"sha":"ba4838faad89e968c36f39e76e95319d756714fe","downloads":3516,"tags":["transformers","safetensors","mellum","text-generation","conversational","en","arxiv:2605.31268","license:apache-2.0","model-index","eval-results","endpoints_compatible","region:us"],"pipeline_tag":"text-generation","library_name":"transformers","createdAt":"2026-05-26T09:12:25.000Z","modelId":"JetBrains/Mellum2-12B-A2.5B-Thinking","siblings":[{"rfilename":".gitattributes"},{"rfilename":"model-00001-of-00005.safetensors"}]}'
)
BERT = json.loads(
    '{"_id":"621ffdc036468d709f174338","id":"google-bert/bert-base-uncased","private":false,"pipeline_tag":"fill-mask","library_name":"transformers","tags":["transformers","pytorch","...","license:apache-2.0","endpoints_compatible","region:us"],"downloads":60478923,"likes":2498,"modelId":"google-bert/bert-base-uncased","author":"google-bert","sha":"86b5e0934494bd15c9632b12f734a8a67f723594","lastModified":"2024-02-19T11:06:12.000Z","gated":false,"disabled":false,"mask_token":"[MASK]","widgetData":[{"text":"Paris is the [MASK] of France."}],"model-index":null,"config":{"architectures":["BertForMaskedLM"],"model_type":"bert","tokenizer_config":{}},"cardData":{"language":"en","tags":["exbert"],"license":"apache-2.0","datasets":["bookcorpus","wikipedia"]},"transformersInfo":{"auto_model":"AutoModelForMaskedLM","pipeline_tag":"fill-mask","processor":"AutoTokenizer"},"siblings":[{"rfilename":".gitattributes"},{"rfilename":"config.json"}],"spaces":["jiani-huang/LASER","..."],"createdAt":"2022-03-02T23:29:04.000Z","safetensors":{"parameters":{"F32":110106428},"total":110106428},"inference":"warm","usedStorage":13397387509}'  # noqa: E501 - a real body, quoted verbatim
)


pytestmark = pytest.mark.usefixtures("stock_hf_client")


@pytest.fixture(scope="module")
def world():
    w = World(seed=3, models=1500)
    for rec in (KIMI, MELLUM, BERT):
        w.add_model(rec)
    return w


@pytest.fixture(scope="module")
def _hub(world):
    with HubSim(world, page_size=100, quota_anonymous=100_000, quota_token=100_000) as hub:
        yield hub


@pytest.fixture
def hub(_hub):
    return reset_hub(_hub, quota=100_000, page_size=100)


@pytest.fixture
def api(hub):
    return HfApi(endpoint=hub.endpoint, token=False)


_CLIENT = httpx2.Client(follow_redirects=False, timeout=10)


def raw(hub, path, **kw):
    return _CLIENT.get(hub.endpoint + path, **kw)


def test_pagination_yields_every_model_once(hub, api, world):
    truth = world.snapshot()
    author = truth.author.value_counts().idxmax()  # the largest author (an org with hundreds of models)
    expected = set(truth.id[truth.author == author])
    assert len(expected) > 250
    got = [m.id for m in api.list_models(author=author)]
    assert len(got) == len(expected) and set(got) == expected
    pages = [r["page"] for r in hub.stats.of("listing")]
    assert pages == list(range(1, -(-len(expected) // 100) + 1))


def test_link_is_absolute_and_carries_every_param(hub):
    q = "author=Qwen&sort=likes&limit=5&filter=conversational&expand=downloads&expand[]=likes&direction=-1"
    r = raw(hub, "/api/models?" + q)
    assert r.status_code == 200 and len(r.json()) == 5
    assert "x-total-count" not in r.headers
    nxt = r.links["next"]["url"]
    assert nxt.startswith(hub.endpoint + "/api/models?") and "huggingface.co" not in nxt
    for part in q.split("&"):
        assert part in nxt
    assert "cursor=" in nxt
    # follow to the end: the last page has no Link
    seen = [m["id"] for m in r.json()]
    while "next" in r.links:
        r = _CLIENT.get(r.links["next"]["url"])
        seen += [m["id"] for m in r.json()]
    assert len(seen) == len(set(seen))
    assert set(r.json()[0]) == {"_id", "id", "downloads", "likes"}


def test_limit_clamped_to_page_size_and_client_limit(hub, api):
    r = raw(hub, "/api/models?limit=5000")
    assert len(r.json()) == 100 and "next" in r.links
    assert len(list(api.list_models(limit=7))) == 7


def test_sort_descending_ties_by_id(hub, api):
    for sort in ("downloads", "likes", "created_at", "last_modified", "trending_score"):
        attr = {"created_at": "created_at", "last_modified": "last_modified", "trending_score": "trending_score"}.get(
            sort, sort
        )
        ms = list(
            api.list_models(
                sort=sort, limit=300, expand=["downloads", "likes", "createdAt", "lastModified", "trendingScore"]
            )
        )
        keys = [(getattr(m, attr), m._id) for m in ms]
        for (a, ia), (b, ib) in itertools.pairwise(keys):
            assert a > b or (a == b and ia < ib), sort
    r = raw(hub, "/api/models?sort=bogus")
    assert r.status_code == 400


def test_default_item_keys_and_absent_unknowns(hub, world):
    items = raw(hub, "/api/models?limit=100&sort=createdAt").json()
    for it in items:
        # the real Hub's default item (KIMI, quoted above) gives the keys and their order
        assert list(it) == [k for k in KIMI if k in it]
        assert it["id"] == it["modelId"] and len(it["_id"]) == 24
        assert it["createdAt"].endswith(".000Z")
        assert None not in it.values()
    # some model without a pipeline tag omits the key entirely
    snap = world.snapshot()
    nopipe = snap[snap.pipeline_tag.isna()].id.iloc[0]
    item = raw(hub, "/api/models?search=" + nopipe).json()
    assert any(i["id"] == nopipe and "pipeline_tag" not in i for i in item)


def test_section_1_4_examples_match_key_for_key(hub):
    got = raw(hub, "/api/models?author=moonshotai").json()
    assert got == [KIMI] and list(got[0]) == list(KIMI)
    got = raw(hub, "/api/models?author=JetBrains&full=true").json()
    assert got == [MELLUM] and list(got[0]) == list(MELLUM)


def test_section_2_2_example_matches_key_for_key(hub, api):
    got = raw(hub, "/api/models/google-bert/bert-base-uncased").json()
    assert got == BERT and list(got) == list(BERT)
    info = api.model_info("google-bert/bert-base-uncased")
    assert info.downloads == 60478923 and info.mask_token == "[MASK]" and info.safetensors.total == 110106428


def test_expand_bodies_parse_into_modelinfo(hub, api, world):
    snap = world.snapshot()
    child = snap[snap.base_relation == "merge"].iloc[0]
    parent = child.base_models[0]
    info = api.model_info(parent, expand=["downloadsAllTime", "childrenModelCount", "author", "trendingScore"])
    assert info.author == parent.split("/")[0]
    assert set(info.children_model_count) == {"adapter", "merge", "quantized", "finetune"}
    assert info.children_model_count["merge"] >= 1
    assert info.downloads is None and info.created_at is None  # not requested
    row = snap.set_index("id").loc[parent]
    assert info.downloads_all_time == row.downloads_all_time and info.trending_score == row.trending_score
    r = raw(hub, f"/api/models/{child.id}?expand=baseModels&expand=downloads")
    assert list(r.json()) == ["_id", "id", "downloads", "baseModels"]
    info = api.model_info(child.id, expand=["baseModels"])
    assert info.base_models["relation"] == "merge"
    assert [m["id"] for m in info.base_models["models"]] == child.base_models
    root = snap[snap.official].id.iloc[0]
    assert "baseModels" not in raw(hub, f"/api/models/{root}?expand=baseModels").json()  # absent for roots
    ms = list(api.list_models(filter=f"base_model:merge:{parent}", expand=["baseModels", "downloadsAllTime"]))
    assert child.id in [m.id for m in ms]
    assert all(m.base_models["relation"] == "merge" and m.downloads_all_time is not None for m in ms)


def test_expand_encodings_and_errors(hub, api):
    a = raw(hub, "/api/models?limit=3&expand=downloads,likes").json()
    b = raw(hub, "/api/models?limit=3&expand[]=downloads&expand[]=likes").json()
    assert a == b and list(a[0]) == ["_id", "id", "downloads", "likes"]
    with pytest.raises(BadRequestError):
        list(api.list_models(expand=["bogus"]))
    r = raw(hub, "/api/models?expand=bogus")
    assert r.status_code == 400 and r.json()["error"].startswith('"expand" must be one of [author, baseModels')
    for detail in ("childrenModelCount", "usedStorage", "_id"):
        with pytest.raises(BadRequestError):
            list(api.list_models(expand=[detail]))
    with pytest.raises(BadRequestError):
        api.model_info("google-bert/bert-base-uncased", expand=["bogus"])


def test_base_models_on_listing_switch(world):
    with HubSim(world, base_models_on_listing=False) as hub:
        api = HfApi(endpoint=hub.endpoint, token=False)
        with pytest.raises(BadRequestError):
            list(api.list_models(expand=["baseModels"], limit=3))
        assert api.model_info("google-bert/bert-base-uncased", expand=["baseModels"]).id


def test_filters_search_pipeline_gated(hub, api, world):
    snap = world.snapshot()
    ids = {m.id for m in api.list_models(search="QWEN3")}
    assert ids == set(snap.id[snap.id.str.lower().str.contains("qwen3")])
    both = {m.id for m in api.list_models(filter=["gguf", "text-generation"])}
    comma = {m.id for m in api.list_models(filter="gguf,text-generation")}
    truth = {r.id for r in snap.itertuples() if "gguf" in r.tags and "text-generation" in r.tags}
    assert both == comma == truth and truth
    pipe = {m.id for m in api.list_models(pipeline_tag="fill-mask")}
    assert pipe == set(snap.id[snap.pipeline_tag == "fill-mask"])
    gated = {m.id for m in api.list_models(gated=True)}
    assert gated == set(snap.id[snap.gated != False])  # noqa: E712
    parent = snap[snap.base_relation == "quantized"].base_models.iloc[0][0]
    q = {m.id for m in api.list_models(filter=f"base_model:quantized:{parent}")}
    anyrel = {m.id for m in api.list_models(filter=f"base_model:{parent}")}
    assert q == {r.id for r in snap.itertuples() if r.base_relation == "quantized" and parent in r.base_models}
    assert q <= anyrel == {r.id for r in snap.itertuples() if parent in r.base_models}
    assert list(api.list_models(author="no-such-org")) == []


def test_missing_repo_and_revision(hub, api):
    r = raw(hub, "/api/models/nobody/nothing")
    assert r.status_code == 404 and r.headers["x-error-code"] == "RepoNotFound"
    assert r.headers["x-error-message"] == "Repository not found" and r.json() == {"error": "Repository not found"}
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("nobody/nothing")
    assert api.model_info("google-bert/bert-base-uncased", revision="main").id == "google-bert/bert-base-uncased"
    sha = BERT["sha"]
    assert api.model_info("google-bert/bert-base-uncased", revision=sha).sha == sha
    with pytest.raises(RevisionNotFoundError):
        api.model_info("google-bert/bert-base-uncased", revision="refs/pr/1")


def test_anonymous_401_switch(world):
    with HubSim(world, anonymous_401=True) as hub:
        r = raw(hub, "/api/models/nobody/nothing")
        assert r.status_code == 401 and "x-error-code" not in r.headers
        assert r.headers["x-error-message"] == "Invalid username or password."
        with pytest.raises(HfHubHTTPError) as exc:  # plain http: the client cannot map it to RepoNotFound
            HfApi(endpoint=hub.endpoint, token=False).model_info("nobody/nothing")
        assert exc.value.response.status_code == 401
        with pytest.raises(RepositoryNotFoundError):
            HfApi(endpoint=hub.endpoint, token="hf_test").model_info("nobody/nothing")


def test_gated_and_disabled(hub, api, world):
    snap = world.snapshot()
    g = snap[snap.gated == "manual"].id.iloc[0]
    assert api.model_info(g).gated == "manual"
    d = snap[snap.disabled].id.iloc[0]
    info = api.model_info(d)
    assert info.disabled is True


def test_other_paths(hub):
    r = raw(hub, "/api/models/google-bert/bert-base-uncased/children")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/json")
    assert raw(hub, "/api/nothing").status_code == 404
    r = raw(hub, "/api/agent-harnesses")
    assert r.status_code == 200 and "harnesses" in r.json()
    assert raw(hub, "/api/whoami-v2").status_code == 401
    assert raw(hub, "/api/whoami-v2", headers={"authorization": "Bearer hf_x"}).json()["name"]
    assert all(r["route"] == "other" for r in hub.stats.requests)


def test_common_headers(hub):
    r = raw(hub, "/api/models?limit=1", headers={"X-Amzn-Trace-Id": "abc-123"})
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.headers["x-request-id"].startswith("Root=1-") and r.headers["x-request-id"].endswith(";abc-123")
    assert r.headers["ratelimit"].startswith('"api";r=')
    assert r.headers["ratelimit-policy"] == '"fixed window";"api";q=100000;w=300'


def test_rename_307_and_delete():
    w = World(seed=5, models=600, official={"Qwen": 20, "meta-llama": 10})
    snap = w.snapshot()
    old = snap[~snap.official].id.iloc[0]
    new = "someone-else/renamed-model"
    with HubSim(w) as hub:
        api = HfApi(endpoint=hub.endpoint, token=False)
        before = api.model_info(old, expand=["downloadsAllTime", "likes"])
        w.rename(old, new, at=w.now)
        r = raw(hub, f"/api/models/{old}?expand=likes&expand=downloads")
        assert r.status_code == 307 and r.headers["location"] == f"/api/models/{new}?expand=likes&expand=downloads"
        assert "ratelimit" in r.headers
        info = api.model_info(old, expand=["downloadsAllTime", "likes"])
        assert info.id == new and info.downloads_all_time == before.downloads_all_time
        assert info.likes == before.likes
        assert [r["status"] for r in hub.stats.requests[-2:]] == [307, 200]
        assert new in set(w.snapshot().id) and old not in set(w.snapshot().id)
        assert list(w.renames.new_id).count(new) == 1
        w.delete(new, at=w.now)
        with pytest.raises(RepositoryNotFoundError):
            api.model_info(new)
        assert new in set(w.deleted().id)


def test_clock_models_appear_at_created_at():
    w = World(seed=6, models=800, official={"Qwen": 30, "google": 30}, now="2026-08-01")
    with HubSim(w) as hub:
        api = HfApi(endpoint=hub.endpoint, token=False)
        future = w.snapshot(at="2026-10-15")
        future = future[future.created_at > w.now].sort_values("created_at").iloc[0]
        with pytest.raises(RepositoryNotFoundError):
            api.model_info(future.id)
        w.set_time(future.created_at)
        assert api.model_info(future.id).created_at == future.created_at
        assert future.id in {m.id for m in api.list_models(author=future.author)}
