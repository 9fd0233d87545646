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
