"""`tracker daemon`: APScheduler setup, the one-daemon lock, catch-up and signals. Calls jobs.

How it behaves (docs/daemon.md):
- A BlockingScheduler in UTC runs the jobs named in config.yaml's `schedule:` (crontab strings with
  crontab's meaning: tracker.cron, on cronsim) from a MemoryJobStore built at start: coalesce, one instance
  per job, no misfire limit.
- Whether a job is owed comes from the warehouse's `runs` view, not from a job store: a job whose last
  `ok` run started before its latest scheduled time (a `partial` run counts as owed) runs once, now.
  This is checked at start, when the clock jumps (suspend/resume, a clock change), after a run that
  overran its next time, and, with backoff, after a run that failed. Many missed periods give one run.
- `flock` on <warehouse>/daemon.lock keeps one daemon per warehouse; the kernel drops the lock when
  the holder dies, so a crashed daemon never blocks a restart.
- SIGTERM/SIGINT let the running job finish, then the daemon exits 0 (the handler does nothing itself:
  a thread reading signal.set_wakeup_fd's pipe asks for the stop). A job that raises is logged
  with its traceback and the daemon goes on.
- Between jobs the daemon holds nothing of the warehouse open (each look at `runs` reads its files
  through the tracker's in-memory catalog; hub.duckdb stays closed).

  lock.py       the one-daemon lock (DaemonLock, AlreadyRunning, holder)
  clock.py      real UTC time, or a SimClock for tests and the soak bench
  owed.py       what is owed, from the `runs` view (last_runs, owed)
  scheduler.py  the Daemon: the scheduler, catch-up, retries, signals
  runner.py     one job run: called, timed, logged; compaction after it
  signals.py    SIGTERM/SIGINT acted on by a thread of their own, not inside the handler
  status.py     the daemon's part of `tracker status` (describe, status_lines)
"""

from __future__ import annotations

from tracker.cron import latest_fire, next_fire  # the schedule's times as the daemon reads them (demo.py)
from tracker.daemon.clock import Clock, SimClock, utcnow
from tracker.daemon.lock import LOCK_NAME, AlreadyRunning, DaemonLock, holder
from tracker.daemon.owed import last_runs, owed
from tracker.daemon.scheduler import JUMP_S, RETRY_S, WATCH_S, Daemon, run
from tracker.daemon.status import describe, status_lines

__all__ = [
    "JUMP_S",
    "LOCK_NAME",
    "RETRY_S",
    "WATCH_S",
    "AlreadyRunning",
    "Clock",
    "Daemon",
    "DaemonLock",
    "SimClock",
    "describe",
    "holder",
    "last_runs",
    "latest_fire",
    "next_fire",
    "owed",
    "run",
    "status_lines",
    "utcnow",
]
