"""Hub emulator: a simulated Hugging Face Hub (``World``) served over HTTP (``HubSim``) with faults.

Names are imported lazily so that ``from tracker.hubsim.command import hubsim`` (and ``tracker --help``)
does not pull in numpy/pandas.
"""

from __future__ import annotations

__all__ = ["Fault", "FaultPlan", "HubSim", "World"]

_WHERE = {"World": "world", "HubSim": "server", "FaultPlan": "faults", "Fault": "faults"}


def __getattr__(name):
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module 'tracker.hubsim' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{mod}"), name)
