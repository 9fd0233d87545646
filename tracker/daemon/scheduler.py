"""The Daemon: one BlockingScheduler in UTC over the jobs named in config.yaml's `schedule:`.

- The jobs come from a MemoryJobStore built at start (coalesce, one instance per job, no misfire limit)
  with crontab triggers (tracker.cron, on cronsim: crontab's meaning).
- Owed jobs (tracker.daemon.owed) run once, now: at start, when the clock jumps (suspend/resume, a clock
  change), after a run that overran its next time, and, with backoff, after a run that failed.
- SIGTERM/SIGINT (tracker.daemon.signals: acted on by a thread of its own, not in the handler) or stop() ask
  for a stop; the scheduler's main loop shuts it down there, letting the running job finish; then run() returns.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import os
import threading
import time
import uuid
from typing import Any

import structlog

from tracker import cron, jobs
from tracker.config import ConfigError, Settings
from tracker.cron import latest_fire, next_fire
from tracker.daemon import signals
from tracker.daemon.clock import Clock, utcnow
from tracker.daemon.lock import DaemonLock
from tracker.daemon.owed import iso, last_runs, owed
from tracker.daemon.runner import compact, run_job

log = structlog.get_logger("tracker.daemon")

WATCH_S = 60  # the clock is checked this often (simulated seconds under a SimClock)
JUMP_S = 90  # wall-clock time differing from monotonic time by more than this is a jump
RETRY_S = (60, 120, 300, 600, 1800, 3600)  # after a failed/partial run, while the period is still owed


def _in_order(position: int) -> dt.timedelta:
    """Jobs owed at the same moment run in config order (collect, tree, report): APScheduler breaks a tie
    of run times by job id, which would run report before tree."""
    return dt.timedelta(microseconds=position)


class Daemon:
    """One scheduler over the jobs in settings.schedule that exist in jobs.JOBS."""

    def __init__(self, settings: Settings, clock: Clock | None = None):
        from apscheduler.events import (
            EVENT_JOB_ERROR,
            EVENT_JOB_EXECUTED,
            EVENT_JOB_MAX_INSTANCES,
            EVENT_SCHEDULER_STARTED,
        )
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.base import STATE_RUNNING
        from apscheduler.schedulers.blocking import BlockingScheduler

        if not settings.schedule:
            raise ConfigError(
                f"{settings.path}: schedule: the daemon has nothing to run; add a `schedule:` block.\n"
                '  Example of a right value:\n    schedule:\n      collect: "0 6 * * *"'
            )
        self.settings = settings
        self.clock: Clock = clock or utcnow
        self.speed = float(getattr(clock, "speed", 1.0))
        self.lock = DaemonLock(settings.warehouse)
        self.jobs: dict[str, str] = {}  # scheduled job -> crontab string
        self.missing: list[str] = []
        for name, expr in settings.schedule.items():
            (self.jobs.__setitem__(name, expr) if name in jobs.JOBS else self.missing.append(name))
        if not self.jobs:
            raise ConfigError(
                f"{settings.path}: schedule: none of the scheduled jobs ({', '.join(self.missing)}) exists in this "
                f"version of the tracker (available: {', '.join(jobs.JOBS)}).\n  Example of a right value:\n"
                '    schedule:\n      collect: "0 6 * * *"'
            )
        self.started = threading.Event()
        self.history: collections.deque[dict[str, Any]] = collections.deque(maxlen=1000)
        self.skipped_busy: collections.Counter[str] = collections.Counter()
        self._stopping = threading.Event()
        self._stop_lock = threading.Lock()  # one first stop request, whichever thread asks
        self._entered = threading.Event()  # run() holds the lock
        self._done = threading.Event()  # run() has returned
        self._running: set[str] = set()
        self._reason: dict[str, str] = {}
        self._fails: collections.Counter[str] = collections.Counter()
        self._pending: dict[str, tuple[dt.datetime, str]] = {}
        self._after_run: dict[str, tuple[dt.datetime, str]] = {}  # a job's own nudges, until its run has ended
        self._pending_lock = threading.Lock()
        self.watch_mark: tuple[dt.datetime, float] | None = None  # (wall, monotonic) at the clock watch's last look
        self.owed_at_start: dict[str, str] = {}  # job -> when it runs, for the jobs owed at start (catch-up)

        daemon = self

        class _Scheduler(BlockingScheduler):
            def _process_jobs(self):  # the main thread: the only place jobs are modified (see _nudge)
                if daemon._stopping.is_set() and self.state == STATE_RUNNING:
                    # a stop was asked (request_stop wakes this loop): shut down here, in the scheduler's own
                    # thread, waiting for the running job; then the main loop ends and run() goes on
                    self.shutdown(wait=True)
                    return None
                if self.state == STATE_RUNNING:
                    daemon._apply_pending()
                wait = super()._process_jobs()
                return wait if wait is None else wait / daemon.speed

        # Jobs run one at a time, in schedule order (they share the Hub's rate limit, and tree reads
        # what collect wrote); the clock watch has its own thread so a long job cannot delay it.
        self.scheduler = _Scheduler(
            timezone=dt.UTC,
            executors={"default": ThreadPoolExecutor(1), "watch": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.add_listener(self._on_started, EVENT_SCHEDULER_STARTED)
        self.scheduler.add_listener(self._on_busy, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.add_listener(self._on_ended, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    # -- lifecycle --
    def run(self, install_signals: bool = True) -> None:
        """Take the lock, schedule the jobs, and block until stop() or SIGTERM/SIGINT."""
        self.lock.acquire()
        self._entered.set()
        try:
            on_main = threading.current_thread() is threading.main_thread()
            with signals.delivered_to(self.request_stop) if install_signals and on_main else contextlib.nullcontext():
                self._schedule()
                if not self._stopping.is_set():  # asked after this check: the main loop's first look stops it
                    self.scheduler.start()  # blocks until the main loop shuts the scheduler down
        finally:
            self.lock.release()
            log.info("daemon stopped", pid=os.getpid())
            self._done.set()

    def request_stop(self, reason: str = "asked") -> None:
        """Ask for a stop once the running job has finished, and return at once. Safe from any thread (a
        signal's goes through tracker.daemon.signals): the scheduler's main loop does the shutdown."""
        with self._stop_lock:
            again = self._stopping.is_set()
            self._stopping.set()
        if again:
            log.info("already stopping; waiting for the running job", reason=reason, running=sorted(self._running))
            return
        log.info("stopping: waiting for the running job to finish", reason=reason, running=sorted(self._running))
        if self.scheduler.running:  # not started yet: run() will not start it, or its main loop stops at once
            self.scheduler.wakeup()

    def stop(self, reason: str = "asked") -> None:
        """Let a running job finish, then stop the scheduler; returns once run() has returned (at once if run()
        was not called). Not from a job: run() waits for the job."""
        self.request_stop(reason)
        if self._entered.is_set():
            self._done.wait()

    def _schedule(self) -> None:
        from apscheduler.triggers.interval import IntervalTrigger

        now = self.clock()
        if os.environ.get("TRACKER_NOW"):
            log.warning("TRACKER_NOW is ignored by the daemon: it runs on the real clock")
        for name in self.missing:
            log.warning(
                "scheduled job not available in this version; not scheduled",
                job=name,
                schedule=self.settings.schedule[name],
                available=sorted(jobs.JOBS),
            )
        known = self._last_ok_all()
        for order, (name, expr) in enumerate(self.jobs.items()):
            kwargs: dict[str, Any] = {}
            due, period = owed(expr, known.get(name), now) if known is not None else (True, latest_fire(expr, now))
            if due and period is not None:
                kwargs["next_run_time"] = now + _in_order(order)
                self._reason[name] = "catch-up"
                self.owed_at_start[name] = (
                    f"now (catch-up: last ok run {iso(known.get(name)) if known else 'unknown'}"
                    f" is older than the scheduled time {iso(period)})"
                )
            self.scheduler.add_job(
                self._execute,
                cron.trigger(expr, self.settings.schedule_jitter_s),
                args=[name],
                id=name,
                name=name,
                **kwargs,
            )
        self.scheduler.add_job(
            self._watch,
            IntervalTrigger(seconds=WATCH_S, start_date=now),
            id="_watch",
            name="clock watch",
            executor="watch",
        )

    def _on_started(self, _event: Any) -> None:
        nxt = {}
        for name in self.jobs:
            job = self.scheduler.get_job(name)
            nxt[name] = self.owed_at_start.get(name) or iso(job.next_run_time if job else None)
        log.info(
            "daemon started",
            pid=os.getpid(),
            warehouse=str(self.settings.warehouse),
            lock=str(self.lock.path),
            schedule=self.jobs,
            jitter_s=self.settings.schedule_jitter_s,
            next_run=nxt,
        )
        self.started.set()

    def _on_busy(self, event: Any) -> None:
        self.skipped_busy[event.job_id] += 1
        if event.job_id in self.jobs:
            log.warning(
                "job still running at its next scheduled time; not started twice (it runs once after)",
                job=event.job_id,
                scheduled_for=iso(event.scheduled_run_times[-1]),
            )

    # -- owed runs --
    def _last_ok_all(self) -> dict[str, dt.datetime | None] | None:
        try:
            return {job: v["last_ok"] for job, v in last_runs(self.settings).items()}
        except Exception as exc:  # noqa: BLE001 - unreadable (locked, corrupt): assume owed
            log.warning("cannot read `runs` from the warehouse; assuming jobs are owed", error=str(exc))
            return None

    def _nudge(self, name: str, when: dt.datetime, reason: str) -> None:
        """Ask for a run of `name` at `when` (if sooner than its next time). Safe from any thread: the
        scheduler's main loop applies it, because a job thread touching the job store can deadlock
        against shutdown(wait=True), which holds the store's lock while it waits for jobs."""
        with self._pending_lock:
            cur = self._pending.get(name)
            if cur is None or when < cur[0]:
                self._pending[name] = (when, reason)
        self.scheduler.wakeup()

    def _nudge_after_run(self, name: str, when: dt.datetime, reason: str) -> None:
        """`_nudge` from the job's own thread, held until the executor has let go of the run (`_on_ended`).
        Applied sooner, the run it asks for would find the job still running (its thread still compacts
        the warehouse), be skipped, and the owed time would wait for the job's next scheduled one."""
        with self._pending_lock:
            self._after_run[name] = (when, reason)

    def _on_ended(self, event: Any) -> None:
        """The executor has let go of a run (APScheduler dispatches this after it stops counting it): the job
        is no longer running for `catch_up`, and its own held nudge is applied."""
        self._running.discard(event.job_id)
        with self._pending_lock:
            held = self._after_run.pop(event.job_id, None)
        if held is not None:
            self._nudge(event.job_id, *held)

    def _apply_pending(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, {}
        for name, (when, reason) in pending.items():
            job = self.scheduler.get_job(name)
            if job is not None and (job.next_run_time is None or when < job.next_run_time):
                self._reason[name] = reason
                self.scheduler.modify_job(name, next_run_time=when)

    def catch_up(self, why: str) -> list[str]:
        """Run now, once, every job that is owed (not already running). Returns their names."""
        now = self.clock()
        known = self._last_ok_all()
        if known is None:
            return []
        due = []
        for order, (name, expr) in enumerate(self.jobs.items()):
            is_owed, period = owed(expr, known.get(name), now)
            if is_owed and name not in self._running:
                due.append(name)
                log.info(
                    "job owed; running it now",
                    job=name,
                    why=why,
                    scheduled_for=iso(period),
                    last_ok=iso(known.get(name)),
                )
                self._nudge(name, now + _in_order(order), f"catch-up ({why})")
        return due

    def _watch(self) -> None:
        wall, mono = self.clock(), time.monotonic()
        if self.watch_mark is not None:
            w0, m0 = self.watch_mark
            drift = (wall - w0).total_seconds() - (mono - m0) * self.speed
            if abs(drift) > JUMP_S:
                log.warning(
                    "the clock jumped (suspend/resume or a clock change); checking for owed jobs", seconds=round(drift)
                )
                self.catch_up("clock jump")
        self.watch_mark = (wall, mono)

    # -- running a job --
    def _execute(self, name: str) -> None:
        now = self.clock()
        expr = self.jobs[name]
        period = latest_fire(expr, now)
        reason = self._reason.pop(name, "schedule")
        with structlog.contextvars.bound_contextvars(
            job=name, attempt=uuid.uuid4().hex[:8], scheduled_for=iso(period), trigger=reason
        ):
            if self._stopping.is_set():  # queued behind the running job, or submitted as the stop began
                log.info("job not started: the daemon is stopping")
                return
            try:
                last_ok = last_runs(self.settings).get(name, {}).get("last_ok")
            except Exception as exc:  # noqa: BLE001 - cannot tell: run it (a second snapshot is harmless)
                log.warning("cannot read `runs`; running the job anyway", error=str(exc))
                last_ok = None
            if period is not None and last_ok is not None and last_ok >= period:
                log.info("job skipped: it already ran for this scheduled time", last_ok=iso(last_ok))
                self._fails[name] = 0
                return
            self._running.add(name)  # until the executor has let go of the run (`_on_ended`), compaction included
            entry = run_job(self.settings, name, now, reason, period)
            entry["finished"] = self.clock()
            self.history.append(entry)
            self._after(name, entry["status"] == "ok", period)
            if entry["status"] != "raised":  # after the job's own bookkeeping: its duration is the job's
                compact(self.settings, now)

    def _after(self, name: str, ok: bool, period: dt.datetime | None) -> None:
        if self._stopping.is_set():
            return
        now = self.clock()
        expr = self.jobs[name]
        if ok:
            self._fails[name] = 0
        latest = latest_fire(expr, now)
        if latest is not None and period is not None and latest > period:
            # its next scheduled time came while it ran (and was not started twice): that time is owed now,
            # whatever this run's outcome, as it would have run then had the job been free
            log.info(
                "job overran its next scheduled time; running it once more now", job=name, scheduled_for=iso(latest)
            )
            self._nudge_after_run(name, now, "overran")
            return
        if ok:
            return
        delay = RETRY_S[min(self._fails[name], len(RETRY_S) - 1)]
        self._fails[name] += 1
        when = now + dt.timedelta(seconds=delay)
        nxt = next_fire(expr, now)
        if nxt is None or when < nxt:
            log.info(
                "job did not succeed; retrying while its scheduled time is still owed",
                job=name,
                retry_at=iso(when),
                attempt_no=self._fails[name],
            )
            self._nudge_after_run(name, when, "retry")


def run(settings: Settings, clock: Clock | None = None) -> None:
    """`tracker daemon`: run until SIGTERM/SIGINT. Raises AlreadyRunning, or ConfigError."""
    Daemon(settings, clock=clock).run()
