"""Private parts of libraries the tracker relies on: each test fails loudly when the library changes them.

* tracker/hub/transport.py uses huggingface_hub.utils._http.hf_request_event_hook in its client factory (the
  library's own per-request hook: offline mode, the X-Amzn-Trace-Id header).
* tracker/hubsim/testing.py reads huggingface_hub.utils._http._GLOBAL_CLIENT_FACTORY and
  default_client_factory to restore the stock client.
* tracker/daemon/scheduler.py overrides APScheduler's BaseScheduler._process_jobs (the main loop's step, which
  returns the seconds to wait or None).
And the public behaviour the tracker builds on: `Hub` installs its client factory, not the import,
and other HfApi clients in the process keep the library's behaviour.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_hf_request_event_hook_still_sets_the_trace_id():
    from huggingface_hub.utils._http import hf_request_event_hook

    req = httpx2.Request("GET", "http://127.0.0.1:9/api/models")
    assert hf_request_event_hook(req) == req.headers["X-Amzn-Trace-Id"]
    assert len(req.headers["X-Amzn-Trace-Id"]) == 36  # a uuid4


def test_the_stock_client_factory_is_where_the_test_helper_reads_it():
    from huggingface_hub.utils import _http

    assert callable(_http._GLOBAL_CLIENT_FACTORY) and callable(_http.default_client_factory)
    assert isinstance(_http.default_client_factory(), httpx2.Client)


def test_apscheduler_process_jobs_is_a_step_returning_the_wait():
    from apscheduler.schedulers.base import BaseScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    assert list(inspect.signature(BaseScheduler._process_jobs).parameters) == ["self"]
    s = BlockingScheduler(timezone="UTC")
    assert s._process_jobs() is None  # no job: nothing to wait for
    s.add_job(lambda: None, "interval", seconds=3600, id="x")  # not started: pending, the step still answers
    wait = s._process_jobs()
    assert wait is None or isinstance(wait, float)


def test_importing_the_hub_module_installs_nothing_and_a_hub_does():
    code = (
        "import tracker.hub as h\n"
        "from huggingface_hub.utils import _http\n"
        "assert _http._GLOBAL_CLIENT_FACTORY is _http.default_client_factory, 'installed on import'\n"
        "from tracker.config import HubSettings\n"
        "h.Hub(HubSettings(endpoint='http://127.0.0.1:9'))\n"
        "assert _http._GLOBAL_CLIENT_FACTORY is h.client_factory\n"
        "print('ok')\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert res.stdout.strip() == "ok", res.stderr


def test_other_hfapi_clients_keep_the_library_behaviour():
    """A plain HfApi in the same process is neither paced nor given the tracker's timeouts: with a
    quota of one request, its second call gets the 429 at once instead of waiting for the window."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    from tracker.config import HubSettings
    from tracker.hub import Hub
    from tracker.hubsim import HubSim, World

    w = World(seed=1, models=200, now="2026-08-10")
    with HubSim(w) as sim:
        hub = Hub(HubSettings(endpoint=sim.endpoint))
        model = w.snapshot().id[0]
        assert hub.current_id(model) == model
        sim.set_quota(anonymous=1, window_s=60)
        api = HfApi(endpoint=sim.endpoint, token=False)
        api.model_info(model)
        with pytest.raises(HfHubHTTPError) as err:
            api.model_info(model)
        assert err.value.response.status_code == 429


def test_retry_after_in_both_forms():
    from email.utils import formatdate

    from tracker.hub import retry_after_seconds

    now = 1_780_000_000.0
    assert retry_after_seconds("7", now) == 7
    assert retry_after_seconds(formatdate(now + 30, usegmt=True), now) == 30
    assert retry_after_seconds(formatdate(now - 30, usegmt=True), now) == 0  # already past: retry now
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None
