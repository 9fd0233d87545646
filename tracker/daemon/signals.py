"""SIGTERM/SIGINT for the daemon, acted on by a thread of its own, never inside the signal handler.

A Python signal handler runs in the main thread between two bytecodes, wherever that thread is: inside a
logging call (holding the log handler's lock), inside Event.set (holding the Event's lock), inside one of
the scheduler's listeners. A handler that waits there for the running job (the scheduler's
shutdown(wait=True)) can wait for ever, since the job may need that very lock to log its end. So the
handler does nothing: Python's C-level handler has already written the signal's number to a pipe
(signal.set_wakeup_fd), and the "signal watch" thread reads it and calls `on_signal`, which may take
locks and log as any thread may.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import structlog

log = structlog.get_logger("tracker.daemon")

_END = 0  # no signal has the number 0: it tells the watch to return


@contextmanager
def delivered_to(
    on_signal: Callable[[str], None], signums: tuple[int, ...] = (signal.SIGTERM, signal.SIGINT)
) -> Iterator[None]:
    """While inside, each of `signums` received calls on_signal(its name) on the signal watch thread.
    From the main thread only (signal.set_wakeup_fd); the previous handlers come back on exit."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)  # the C-level handler must never block on a full pipe
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    previous = {}
    watch = threading.Thread(target=_watch, args=(read_fd, set(signums), on_signal), name="signal watch", daemon=True)
    try:
        watch.start()
        for signum in signums:  # after the wakeup fd: from here no signal goes unseen
            previous[signum] = signal.signal(signum, _noted)
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(previous_fd)
        if watch.is_alive():
            os.write(write_fd, bytes([_END]))
            watch.join()
        os.close(read_fd)
        os.close(write_fd)


def _noted(_signum: int, _frame: Any) -> None:
    """The Python-level handler: nothing to do (the signal's number is in the pipe already)."""


def _watch(fd: int, wanted: set[int], on_signal: Callable[[str], None]) -> None:
    while data := os.read(fd, 64):
        for signum in data:
            if signum == _END:
                return
            if signum in wanted:
                try:
                    on_signal(signal.Signals(signum).name)
                except Exception:  # a failure here must not leave the next signals unheard
                    log.exception("handling a signal failed", signal=signal.Signals(signum).name)
