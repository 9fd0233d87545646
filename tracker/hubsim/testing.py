"""Helpers for tests: run a HubSim in-process on a free loopback port."""

from __future__ import annotations

import os
from contextlib import contextmanager

from .server import HubSim
from .world import World


def quiet_client() -> None:
    """Keep huggingface_hub from calling anything but the emulator (telemetry / agent registry)."""
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ.pop("HF_HUB_OFFLINE", None)
    try:
        from huggingface_hub import constants

        constants.HF_HUB_DISABLE_TELEMETRY = True
    except ImportError:  # pragma: no cover
        pass


@contextmanager
def running_hub(world: World | None = None, **opts):
    """``with running_hub(World(seed=0, models=2000), page_size=100) as hub: HfApi(endpoint=hub.endpoint)``."""
    quiet_client()
    hub = HubSim(world if world is not None else World(seed=0, models=2000), **opts)
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


def reset_hub(hub: HubSim, quota: int, page_size: int | None = None) -> HubSim:
    """A module-scoped hub made fresh for the next test: no fault rules, an empty request log, every
    client's rate-limit window restarted with ``quota`` requests per 300 s (anonymous and token alike)."""
    hub.faults.clear()
    hub.stats.reset()
    hub.set_quota(anonymous=quota, token=quota, window_s=300)
    if page_size is not None:
        hub.page_size = page_size
    return hub


@contextmanager
def stock_client():
    """Run the block with huggingface_hub's default HTTP client factory, restoring whatever factory
    was installed before (another module may install a pacing/timeout factory at import time)."""
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils import _http

    previous = _http._GLOBAL_CLIENT_FACTORY
    set_client_factory(_http.default_client_factory)
    try:
        yield
    finally:
        set_client_factory(previous)
