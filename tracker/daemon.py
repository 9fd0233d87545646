"""`tracker daemon`: APScheduler setup, the one-daemon lock, catch-up and signals. Calls jobs.

How it behaves (docs/daemon.md; RELIABILITY.md §1.2, §2, §4):
- A BlockingScheduler in UTC runs the jobs named in config.yaml's `schedule:` (crontab strings with
  crontab's meaning: tracker.cron, on cronsim) from a MemoryJobStore built at start: coalesce, one instance
  per job, no misfire limit.
- Whether a job is owed comes from the warehouse's `runs` view, not from a job store: a job whose last
  `ok` run started before its latest scheduled time (a `partial` run counts as owed) runs once, now.
  This is checked at start, when the clock jumps (suspend/resume, a clock change), after a run that
  overran its next time, and, with backoff, after a run that failed. Many missed periods give one run.
- `flock` on <warehouse>/daemon.lock keeps one daemon per warehouse; the kernel drops the lock when
  the holder dies, so a crashed daemon never blocks a restart.
- SIGTERM/SIGINT let the running job finish, then the daemon exits 0. A job that raises is logged
  with its traceback and the daemon goes on.
- Between jobs the daemon holds nothing of the warehouse open (each look at `runs` opens hub.duckdb
  read-only and closes it).
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

from tracker import cron, jobs, locks
from tracker.config import ConfigError, Settings
from tracker.cron import latest_fire, next_fire
from tracker.warehouse import Warehouse

log = structlog.get_logger("tracker.daemon")

LOCK_NAME = "daemon.lock"
WATCH_S = 60  # the clock is checked this often (simulated seconds under a SimClock)
JUMP_S = 90  # wall-clock time differing from monotonic time by more than this is a jump
RETRY_S = (60, 120, 300, 600, 1800, 3600)  # after a failed/partial run, while the period is still owed
Clock = Callable[[], dt.datetime]


class AlreadyRunning(Exception):
    """Another daemon holds this warehouse's lock; the message names its PID."""


def utcnow() -> dt.datetime:
    """The daemon's default clock: real UTC time (TRACKER_NOW, a fixed time, makes no sense for a daemon)."""
    return dt.datetime.now(dt.UTC)


def _in_order(position: int) -> dt.timedelta:
    """Jobs owed at the same moment run in config order (collect, tree, report): APScheduler breaks a tie
    of run times by job id, which would run report before tree."""
    return dt.timedelta(microseconds=position)


def _iso(t: dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# ---- the one-daemon lock ----------------------------------------------------------------------


def _pid(note: str | None) -> int | None:
    return int(note) if note and note.isdigit() else None


class DaemonLock:
    """`flock` on <warehouse>/daemon.lock (tracker.locks), with the holder's PID written inside."""

    def __init__(self, warehouse: Path):
        self.path = Path(warehouse).absolute() / LOCK_NAME
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
    note = locks.holder_note(Path(warehouse).absolute() / LOCK_NAME)
    return None if note is None else (_pid(note) or 0)


# ---- what is owed -----------------------------------------------------------------------------


def last_runs(settings: Settings) -> dict[str, dict[str, Any]]:
    """Per job: its last run (any status) and the start of its last ok run, from the `runs` view."""
    wh = Warehouse(settings.warehouse)
    with wh.connect() as con:
        last = con.sql("""
            SELECT run_id, job, started_at, finished_at, status, models, error,
                   date_diff('millisecond', started_at, finished_at) / 1000.0 AS seconds
            FROM runs QUALIFY row_number() OVER (PARTITION BY job ORDER BY started_at DESC, run_id DESC) = 1
        """).fetchall()
        cols = ["run_id", "job", "started_at", "finished_at", "status", "models", "error", "seconds"]
        ok = dict(con.sql("SELECT job, max(started_at) FROM runs WHERE status = 'ok' GROUP BY job").fetchall())
    out: dict[str, dict[str, Any]] = {}
    for row in last:
        rec = dict(zip(cols, row, strict=True))
        for k in ("started_at", "finished_at"):
            rec[k] = _utc(rec[k])
        out[rec["job"]] = {"last": rec, "last_ok": None}
    for job, t in ok.items():
        out.setdefault(job, {"last": None, "last_ok": None})["last_ok"] = _utc(t)
    return out


def _utc(t: Any) -> dt.datetime | None:
    if t is None:
        return None
    if not isinstance(t, dt.datetime):  # pandas Timestamp and friends
        t = t.to_pydatetime()
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def owed(expr: str, last_ok: dt.datetime | None, now: dt.datetime) -> tuple[bool, dt.datetime | None]:
    """Whether a job is owed a run at `now`, and the scheduled time (period) it would serve."""
    period = latest_fire(expr, now)
    if period is None:
        return False, None
    return (last_ok is None or last_ok < period), period


# ---- a clock for tests and the soak bench -----------------------------------------------------


class SimClock:
    """Simulated UTC time starting at `start` and running `speed` times faster than real time.

    `jump(seconds)` moves it at once (as a resume from suspend does); `install()` makes APScheduler's
    scheduler read it (it calls `datetime.now` in `apscheduler.schedulers.base`, as RELIABILITY.md §2.5
    did to simulate clock jumps). A Daemon given a SimClock scales its sleeps by `speed`.
    """

    def __init__(self, start: dt.datetime, speed: float = 60.0):
        self.speed = float(speed)
        self._start = start.astimezone(dt.UTC)
        self._m0 = time.monotonic()
        self._offset = 0.0

    def __call__(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=(time.monotonic() - self._m0) * self.speed + self._offset)

    def jump(self, seconds: float) -> None:
        self._offset += seconds

    @contextmanager
    def install(self) -> Iterator[SimClock]:
        from apscheduler.schedulers import base

        clock = self

        class _Now(dt.datetime):
            @classmethod
            def now(cls, tz=None):
                t = clock()
                return t.astimezone(tz) if tz is not None else t.replace(tzinfo=None)

        saved = base.datetime
        base.datetime = _Now
        try:
            yield self
        finally:
            base.datetime = saved


# ---- the daemon --------------------------------------------------------------------------------


class Daemon:
    """One scheduler over the jobs in settings.schedule that exist in jobs.JOBS."""

    def __init__(self, settings: Settings, clock: Clock | None = None):
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_SCHEDULER_STARTED
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
        self._running: set[str] = set()
        self._reason: dict[str, str] = {}
        self._fails: collections.Counter[str] = collections.Counter()
        self._pending: dict[str, tuple[dt.datetime, str]] = {}
        self._pending_lock = threading.Lock()
        self._watch_mark: tuple[dt.datetime, float] | None = None
        self._startup: dict[str, str] = {}

        daemon = self

        class _Scheduler(BlockingScheduler):
            def _process_jobs(self):  # the main thread: the only place jobs are modified (see _nudge)
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

    # -- lifecycle --
    def run(self, install_signals: bool = True) -> None:
        """Take the lock, schedule the jobs, and block until stop() or SIGTERM/SIGINT."""
        self.lock.acquire()
        try:
            if install_signals and threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, self._on_signal)
                signal.signal(signal.SIGINT, self._on_signal)
            self._schedule()
            if not self._stopping.is_set():
                self.scheduler.start()  # blocks until shutdown
        finally:
            self.lock.release()
            log.info("daemon stopped", pid=os.getpid())

    def stop(self, reason: str = "asked") -> None:
        """Let a running job finish, then stop the scheduler (run() returns)."""
        if self._stopping.is_set():
            log.info("already stopping; waiting for the running job", running=sorted(self._running))
            return
        self._stopping.set()
        log.info("stopping: waiting for the running job to finish", reason=reason, running=sorted(self._running))
        from apscheduler.schedulers import SchedulerNotRunningError

        # a signal before the scheduler started: run() will not start it
        with contextlib.suppress(SchedulerNotRunningError):
            self.scheduler.shutdown(wait=True)

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self.stop(signal.Signals(signum).name)

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
                self._startup[name] = (
                    f"now (catch-up: last ok run {_iso(known.get(name)) if known else 'unknown'}"
                    f" is older than the scheduled time {_iso(period)})"
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
            nxt[name] = self._startup.get(name) or _iso(job.next_run_time if job else None)
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
                scheduled_for=_iso(event.scheduled_run_times[-1]),
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
                    scheduled_for=_iso(period),
                    last_ok=_iso(known.get(name)),
                )
                self._nudge(name, now + _in_order(order), f"catch-up ({why})")
        return due

    def _watch(self) -> None:
        wall, mono = self.clock(), time.monotonic()
        if self._watch_mark is not None:
            w0, m0 = self._watch_mark
            drift = (wall - w0).total_seconds() - (mono - m0) * self.speed
            if abs(drift) > JUMP_S:
                log.warning(
                    "the clock jumped (suspend/resume or a clock change); checking for owed jobs", seconds=round(drift)
                )
                self.catch_up("clock jump")
        self._watch_mark = (wall, mono)

    # -- running a job --
    def _execute(self, name: str) -> None:
        now = self.clock()
        expr = self.jobs[name]
        period = latest_fire(expr, now)
        reason = self._reason.pop(name, "schedule")
        with structlog.contextvars.bound_contextvars(
            job=name, attempt=uuid.uuid4().hex[:8], scheduled_for=_iso(period), trigger=reason
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
                log.info("job skipped: it already ran for this scheduled time", last_ok=_iso(last_ok))
                self._fails[name] = 0
                return
            self._running.add(name)
            t0 = time.monotonic()
            entry: dict[str, Any] = {"job": name, "trigger": reason, "scheduled_for": period, "started": now}
            log.info("job started")
            try:
                record = jobs.JOBS[name](self.settings, now=now)
            except Exception as exc:
                entry.update(status="raised", error=f"{type(exc).__name__}: {exc}")
                log.exception("job raised; the daemon goes on", seconds=round(time.monotonic() - t0, 2))
            else:
                record = record or {}
                entry.update(status=record.get("status"), run_id=record.get("run_id"), models=record.get("models"))
                log.info(
                    "job finished",
                    run_id=record.get("run_id"),
                    status=record.get("status"),
                    models=record.get("models"),
                    seconds=round(time.monotonic() - t0, 2),
                )
            finally:
                self._running.discard(name)
            entry["seconds"] = round(time.monotonic() - t0, 3)
            entry["finished"] = self.clock()
            self.history.append(entry)
            self._after(name, entry["status"] == "ok", period)
            if entry["status"] != "raised":  # after the job's own bookkeeping: its duration is the job's
                self._compact(now)

    def _compact(self, now: dt.datetime) -> None:
        """Merge the warehouse's small files after each job (cheap when there is nothing to merge)."""
        try:
            res = Warehouse(self.settings.warehouse).compact(today=now.astimezone(dt.UTC).date())
        except Exception:
            log.exception("compaction failed; nothing was lost, the next job retries")
            return
        if res.written or res.deleted:
            log.info("compacted", files_merged=sum(res.merged.values()), written=res.written, deleted=res.deleted)

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
                "job overran its next scheduled time; running it once more now", job=name, scheduled_for=_iso(latest)
            )
            self._nudge(name, now, "overran")
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
                retry_at=_iso(when),
                attempt_no=self._fails[name],
            )
            self._nudge(name, when, "retry")


def run(settings: Settings, clock: Clock | None = None) -> None:
    """`tracker daemon`: run until SIGTERM/SIGINT. Raises AlreadyRunning, or ConfigError."""
    Daemon(settings, clock=clock).run()


# ---- status ------------------------------------------------------------------------------------


def describe(settings: Settings, now: dt.datetime | None = None) -> dict[str, Any]:
    """For `tracker status`: whether a daemon runs (PID) and, per scheduled job, its last and next run."""
    now = now or utcnow()
    pid = holder(settings.warehouse)
    try:
        runs = last_runs(settings)
        error = None
    except Exception as exc:  # noqa: BLE001 - status shows what it can
        runs, error = {}, str(exc)
    out_jobs = []
    for name, expr in settings.schedule.items():
        info = runs.get(name, {})
        last = info.get("last")
        is_owed, period = owed(expr, info.get("last_ok"), now)
        out_jobs.append(
            {
                "job": name,
                "schedule": expr,
                "available": name in jobs.JOBS,
                "last_run": None
                if last is None
                else {
                    "run_id": last["run_id"],
                    "started_at": _iso(last["started_at"]),
                    "finished_at": _iso(last["finished_at"]),
                    "status": last["status"],
                    "seconds": None if last["seconds"] is None else float(last["seconds"]),
                    "models": None if last["models"] is None else int(last["models"]),
                },
                "last_ok": _iso(info.get("last_ok")),
                "owed": bool(is_owed),
                "scheduled_for": _iso(period),
                "next_run": _iso(next_fire(expr, now)),
                "jitter_s": settings.schedule_jitter_s,
            }
        )
    return {
        "daemon": {
            "running": pid is not None,
            "pid": pid or None,
            "lock": str(Path(settings.warehouse).absolute() / LOCK_NAME),
        },
        "jobs": out_jobs,
        "error": error,
    }


def status_lines(info: dict[str, Any]) -> list[str]:
    """The daemon and schedule part of `tracker status` (text)."""
    d = info["daemon"]
    lines = [
        "",
        "daemon     "
        + (
            f"running (PID {d['pid']})"
            if d["pid"]
            else "running (PID unknown)"
            if d["running"]
            else "not running (start it with `tracker daemon`; see docs/daemon.md)"
        ),
    ]
    if not info["jobs"]:
        return [*lines, "schedule   none (add a `schedule:` block to config.yaml to use the daemon)"]
    lines.append(
        f"{'job':<8} {'schedule':<14} {'last run (UTC)':<20} {'status':<8} {'secs':>7} {'models':>8}  next run (UTC)"
    )
    for j in info["jobs"]:
        last = j["last_run"] or {}
        secs = f"{last['seconds']:.1f}" if last.get("seconds") is not None else "-"
        nxt = (j["next_run"] or "-").replace("T", " ")[:16]
        if j["jitter_s"]:
            nxt += f" (+ up to {j['jitter_s']} s)"
        if not j["available"]:
            nxt = "not available in this version"
        elif j["owed"]:
            nxt += "; owed now" if d["running"] else "; owed (runs when the daemon starts)"
        started = (last.get("started_at") or "never").replace("T", " ")[:19]
        models = "-" if last.get("models") is None else last["models"]
        lines.append(
            f"{j['job']:<8} {j['schedule']:<14} {started:<20} {last.get('status') or '-':<8} {secs:>7} "
            f"{models:>8}  {nxt}"
        )
    if info.get("error"):
        lines.append(f"(could not read runs: {info['error']})")
    return lines
