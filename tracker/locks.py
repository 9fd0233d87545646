"""File locks with `flock(2)`: the daemon's one-per-warehouse lock and the writers' short critical sections.

The kernel drops a flock when its holder dies, so a crashed process never blocks the next one, and
`flock -n <file> <command>` from cron takes the same lock.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class FileLock:
    """`flock(LOCK_EX)` on `path` (created if missing, never truncated while another process holds it).

    `with FileLock(path):` waits as long as it takes; `acquire(wait_s=...)` gives up after wait_s
    seconds and returns False. A `note` (the holder's PID, say) is written into the file while held
    and cleared on release, for `holder_note` to read.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._fd: int | None = None
        self._note = False

    def acquire(self, wait_s: float | None = None, note: str | None = None) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # no O_TRUNC: the holder's note stays readable
        if wait_s is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    # a peek (holder_note) holds a shared lock for microseconds; only a real holder lasts
                    if time.monotonic() >= deadline:
                        os.close(fd)
                        return False
                    time.sleep(0.05)
        if note is not None:
            os.ftruncate(fd, 0)
            os.pwrite(fd, note.encode(), 0)
            os.fsync(fd)
        self._fd, self._note = fd, note is not None
        return True

    def release(self) -> None:
        if self._fd is not None:
            if self._note:
                os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self.release()


@contextmanager
def shared(path: Path) -> Iterator[None]:
    """`flock(LOCK_SH)` on `path` (created if missing) while the block runs: waits while a FileLock holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing the last descriptor drops the lock


def read_note(path: Path) -> str:
    """What the lock file holds (its holder's note; '' if none or no file)."""
    try:
        return Path(path).read_text("ascii", "replace").strip()
    except FileNotFoundError:
        return ""


def holder_note(path: Path) -> str | None:
    """None if no process holds the lock on `path`; else its holder's note ('' if it wrote none)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return read_note(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
