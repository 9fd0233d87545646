"""Rate limits and fault injection of the emulator, seen through the real huggingface_hub client."""

import os

os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.pop("HF_HUB_OFFLINE", None)

import contextlib
import json
import logging
import re
import threading
import time

import httpx2
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import parse_ratelimit_headers

from tracker.hubsim import Fault, FaultPlan, HubSim, World
from tracker.hubsim.testing import quiet_client, reset_hub, running_hub

quiet_client()
_CLIENT = httpx2.Client(follow_redirects=False, timeout=10)


pytestmark = pytest.mark.usefixtures("stock_hf_client")


@pytest.fixture(scope="module")
def world():
    return World(seed=11, models=900, official={"Qwen": 120, "meta-llama": 40})


@pytest.fixture(scope="module")
def _hub(world):
    with HubSim(world, page_size=25) as hub:
        yield hub


@pytest.fixture
def hub(_hub):
    return reset_hub(_hub, quota=10_000)


@pytest.fixture
def api(hub):
    return HfApi(endpoint=hub.endpoint, token=False)


def get(hub, path, **kw):
    return _CLIENT.get(hub.endpoint + path, **kw)


def qwen_ids(world):
    s = world.snapshot()
    return set(s.id[s.author == "Qwen"])


@pytest.mark.trial  # waits out a 1 s rate-limit window
def test_ratelimit_headers_true_values_and_window_reset(hub):
    hub.set_quota(anonymous=3, token=5, window_s=1)
    seen = []
    for _ in range(3):
        r = get(hub, "/api/models/nobody/nothing")  # errors count too
        info = parse_ratelimit_headers(r.headers)
        seen.append(info.remaining)
        assert 0 <= info.reset_in_seconds <= 1 and info.limit == 3 and info.window_seconds == 1
    assert seen == [2, 1, 0]
    r = get(hub, "/api/models?limit=1")
    assert r.status_code == 429 and r.headers["ratelimit"].startswith('"api";r=0;t=')
    # a token has its own bucket and quota
    r = get(hub, "/api/models?limit=1", headers={"authorization": "Bearer hf_a"})
    assert r.status_code == 200 and parse_ratelimit_headers(r.headers).remaining == 4
    assert r.headers["ratelimit-policy"] == '"fixed window";"api";q=5;w=1'
    time.sleep(1.05)
    r = get(hub, "/api/models?limit=1")
    assert r.status_code == 200 and parse_ratelimit_headers(r.headers).remaining == 2
    assert hub.stats.count_429 == 1


def test_quota_exhaustion_model_info_raises(hub):
    hub.set_quota(anonymous=1, window_s=60)
    api = HfApi(endpoint=hub.endpoint, token=False)
    some = next(iter(api.list_models(limit=1))).id
    with pytest.raises(HfHubHTTPError) as exc:
        api.model_info(some)
    assert exc.value.response.status_code == 429
    assert "rate limit" in str(exc.value)


@pytest.mark.trial  # waits out the client's 1 s margin
def test_429_ratelimit_makes_list_models_wait_and_succeed(hub, api, world, caplog):
    hub.faults.add("429", mode="ratelimit", t=0, route="listing", page=2, times=1)  # "the window resets now"
    t0 = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="huggingface_hub.utils._http"):
        got = {m.id for m in api.list_models(author="Qwen")}
    assert time.monotonic() - t0 >= 1.0  # slept t + 1
    # ... as the RateLimit header said (its own wait, not the backoff's, which is 1 s too at the first retry)
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("Rate limited. Waiting")] == [
        "Rate limited. Waiting 1.0s before retry [Retry 1/5]."
    ]
    assert got == qwen_ids(world)
    assert hub.stats.count_429 == 1
    r429 = hub.stats.of(status=429)[0]
    assert r429["page"] == 2 and r429["fault"] == "429"


@pytest.mark.trial  # waits out the client's Retry-After + 1 s
def test_429_retry_after_only_and_bare(hub, api):
    hub.faults.add("429=retry-after,t=0,times=1")
    r = get(hub, "/api/models?limit=1")
    assert r.status_code == 429 and r.headers["retry-after"] == "0" and "ratelimit" not in r.headers
    hub.faults.add("429=bare,times=1")
    r = get(hub, "/api/models?limit=1")
    assert r.status_code == 429 and "retry-after" not in r.headers and "ratelimit" not in r.headers
    hub.faults.add("429=retry-after,t=0,route=listing,times=1")
    assert len(list(api.list_models(limit=3))) == 3  # waited Retry-After + 1 s, then succeeded


@pytest.mark.trial  # waits out the client's 1 s backoff
def test_5xx_on_page_3_of_an_author_is_retried(hub, api, world):
    hub.faults.add("status", status=503, route="listing", author="Qwen", page=3, times=1)
    got = [m.id for m in api.list_models(author="Qwen")]
    assert set(got) == qwen_ids(world) and len(got) == len(set(got))
    failed = hub.stats.of(status=503)
    assert len(failed) == 1 and failed[0]["page"] == 3 and failed[0]["author"] == "Qwen"
    # other authors are untouched by that rule
    hub.faults.add("status=500,route=listing,author=meta-llama,page=1")
    assert len(list(api.list_models(author="Qwen", limit=5))) == 5


def test_nth_info_call_and_model_selector(hub, api, world):
    ids = sorted(qwen_ids(world))[:4]
    hub.faults.add("status=500,route=info,nth=2,times=1")
    assert api.model_info(ids[0]).id == ids[0]
    with pytest.raises(HfHubHTTPError) as exc:  # model_info does not retry
        api.model_info(ids[1])
    assert exc.value.response.status_code == 500
    assert api.model_info(ids[1]).id == ids[1]
    hub.faults.clear()
    hub.faults.add(Fault("status", status=502, model=ids[2]))
    with pytest.raises(HfHubHTTPError):
        api.model_info(ids[2])
    assert api.model_info(ids[3]).id == ids[3]


@pytest.mark.slow
def test_hung_response_and_clean_stop(world):
    with running_hub(world, faults="hang,route=info,times=1") as hub:
        api = HfApi(endpoint=hub.endpoint, token=False)
        mid = sorted(qwen_ids(world))[0]
        t0 = time.monotonic()
        with pytest.raises(httpx2.ReadTimeout):
            api.model_info(mid, timeout=0.2)
        assert 0.18 <= time.monotonic() - t0 < 3
        assert api.model_info(mid).id == mid
        # a second hung request still pending while the server stops
        hub.faults.add("hang")
        t = threading.Thread(target=lambda: _swallow(api.model_info, mid), daemon=True)
        t.start()
        _until(lambda: [r["status"] for r in hub.stats.requests].count(None) == 2)  # held: logged, unanswered
        t0 = time.monotonic()
    assert time.monotonic() - t0 < 3  # stop() returned promptly despite the pending hang
    t.join(3)
    assert not t.is_alive()


def _until(cond, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out waiting for the emulator"
        time.sleep(0.005)


def _swallow(fn, *a):
    # the hung request fails however the stopping server drops it; the test only checks its thread ends
    with contextlib.suppress(Exception):
        fn(*a)


def test_truncated_json_and_html_page(hub, api, world):
    hub.faults.add("truncate,route=listing,page=2,times=1")
    got: list[str] = []

    def drain():
        for m in api.list_models(author="Qwen"):
            got.append(m.id)

    with pytest.raises(json.JSONDecodeError):
        drain()
    assert len(got) == 25  # page 1 was yielded before the failure
    hub.faults.add("html,route=info,times=1")
    r = get(hub, f"/api/models/{got[0]}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    hub.faults.add("html,route=info,times=1")
    with pytest.raises(json.JSONDecodeError):
        api.model_info(got[0])


def test_slow_responses_and_probability(hub, api, world):
    mid = sorted(qwen_ids(world))[0]
    hub.faults.add("delay=0.1,route=info")
    t0 = time.monotonic()
    api.model_info(mid)
    assert time.monotonic() - t0 >= 0.1
    hub.faults.clear()
    hub.faults.add("status=500,route=info,prob=0.5")
    codes = [get(hub, f"/api/models/{mid}").status_code for _ in range(30)]
    assert 0 < codes.count(500) < 30 and set(codes) == {200, 500}
    assert hub.stats.by_status[500] == codes.count(500)  # faulted requests are counted


def test_fault_plan_parse_and_errors():
    plan = FaultPlan.parse(
        "429=ratelimit,t=1,times=2; status=503,route=listing,author=Qwen,page=3;hang,route=info;"
        "truncate,page=2;html,nth=5;delay=0.5,prob=0.1"
    )
    assert [f.kind for f in plan.rules] == ["429", "status", "hang", "truncate", "html", "delay"]
    assert plan.rules[0].t == 1 and plan.rules[0].times == 2 and plan.rules[1].page == 3
    assert plan.rules[5].seconds == 0.5 and plan.rules[5].prob == 0.1
    again = FaultPlan.parse(str(plan))
    assert [f.spec() for f in again.rules] == [f.spec() for f in plan.rules]
    for bad, why in (
        ("explode", "unknown fault kind 'explode'"),
        ("corrupt", "a corrupt fault needs field="),
        ("429=sometimes", "unknown 429 mode 'sometimes'"),
        ("status=503,colour=red", "unknown fault key 'colour'"),
        ("status=503,route=nowhere", "unknown route 'nowhere'"),
        ("hang=3", "fault kind 'hang' takes no value"),
    ):
        with pytest.raises(ValueError, match=re.escape(why)):
            FaultPlan.parse(bad)


def test_corrupt_field_in_items(hub, api):
    hub.faults.add(route="listing", kind="corrupt", field="likes", value="12", times=1)
    ms = list(api.list_models(author="Qwen", limit=30))
    assert [m.likes for m in ms].count("12") == 1 and len(ms) == 30  # pagination still works
    hub.faults.add("corrupt,field=id,route=info,times=1")  # no value: the key is dropped
    with pytest.raises(KeyError):
        api.model_info(ms[0].id)
    assert FaultPlan.parse("corrupt,field=likes,value=12,items=0").rules[0].items == 0
    with pytest.raises(ValueError, match="a corrupt fault needs field="):
        FaultPlan.parse("corrupt")
