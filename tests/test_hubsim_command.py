"""`tracker hubsim` as a process: it stops on SIGTERM, however the signals fall."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

# A second SIGTERM that lands while the first one's handling holds a lock (here: the moment a
# threading.Condition notifies, which Event.set does under its lock). The emulator once hung for good
# this way beside a SIGKILLed demo (py-spy: _on_signal -> Event.set -> _on_signal -> Event.set, blocked):
# the child arms the hook once the emulator's handler is installed, and fires it at the first notify.
_CHILD = textwrap.dedent(
    """
    import os, signal, sys, threading

    real_notify_all, real_signal = threading.Condition.notify_all, signal.signal
    armed = []

    def notify_all(self):
        if armed and armed.pop():
            os.kill(os.getpid(), signal.SIGTERM)
        real_notify_all(self)

    def install(signum, handler):
        previous = real_signal(signum, handler)
        if signum == signal.SIGTERM and callable(handler) and not armed:
            armed.append(True)
        return previous

    threading.Condition.notify_all = notify_all
    signal.signal = install
    from tracker.cli import main
    sys.argv = ["tracker", "hubsim", "--port", "0", "--models", "100"]
    main()
    """
)


@pytest.mark.trial
def test_a_second_sigterm_during_the_first_ones_handling_still_stops_the_emulator():
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("export HF_ENDPOINT"):
                break
        assert seen and seen[-1].startswith("export HF_ENDPOINT"), "".join(seen)
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("the emulator did not stop within 20 s of SIGTERM (a second SIGTERM hung it)") from None
    assert proc.returncode == 0, "".join(seen) + rest
    assert "hubsim: stopped" in rest
