"""The one-daemon lock: `flock` on <warehouse>/daemon.lock with the holder's PID written inside. The kernel
drops the lock when the holder dies, so a crashed daemon never blocks a restart."""

from __future__ import annotations

import os
from pathlib import Path

from tracker import locks

LOCK_NAME = "daemon.lock"


class AlreadyRunning(Exception):
    """Another daemon holds this warehouse's lock; the message names its PID."""


def lock_path(warehouse: Path) -> Path:
    return Path(warehouse).absolute() / LOCK_NAME


def _pid(note: str | None) -> int | None:
    return int(note) if note and note.isdigit() else None


class DaemonLock:
    """`flock` on <warehouse>/daemon.lock (tracker.locks), with the holder's PID written inside."""

    def __init__(self, warehouse: Path):
        self.path = lock_path(warehouse)
        self._lock = locks.FileLock(self.path)

    def acquire(self, wait_s: float = 0.25) -> None:  # a `tracker status` peek lasts microseconds
        if not self._lock.acquire(wait_s, note=f"{os.getpid()}\n"):
            pid = _pid(locks.read_note(self.path))
            who = (
                f"PID {pid}" if pid else "a process that left no PID (a `tracker collect` run from cron under `flock`?)"
            )
            raise AlreadyRunning(
                f"another `tracker daemon` is already running on {self.path.parent} ({who} holds "
                f"{self.path}). One daemon per warehouse: stop it first "
                f"({f'`kill {pid}`' if pid else 'see `tracker status`'} or `systemctl stop hub-tracker`), "
                "or point this one at another warehouse."
            )

    def release(self) -> None:
        self._lock.release()


def holder(warehouse: Path) -> int | None:
    """The PID of the daemon running on this warehouse (0: held, PID unknown), or None if none runs."""
    note = locks.holder_note(lock_path(warehouse))
    return None if note is None else (_pid(note) or 0)
