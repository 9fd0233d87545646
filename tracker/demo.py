"""`tracker demo`: the whole story in one command, offline, in under two minutes.

It starts the bundled Hub emulator on a free port (a child process), replays eight simulated weeks of
the daemon's schedule against it (the daily collect and tree of the demo's config.yaml, in the order
the daemon would run them, each with the tracker's clock set to its scheduled time and the
emulator's clock moved to the same instant), then writes the weekly report of the week in which
Qwen overtakes Llama, as the scheduled report job of the following Monday would. Everything lands
in its own folder (default demo/): config.yaml, warehouse/, reports/ and demo.log, so that
`tracker sql --config demo/config.yaml ...` queries it afterwards.

The emulator is stopped on success, on error and on Ctrl-C (which lets the running job finish first;
a second Ctrl-C stops at once), and it dies with the demo if the demo is killed outright. The world
is small (a few dozen official models) and the rate-limit window is scaled from 5 minutes to a few
seconds; the crossover is the emulator's own, computed from its closed-form truth, not staged by the
demo.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tracker.demo_emulator import OFFICIAL, SEED, WINDOW_S, DemoError, Emulator

MARKER = "# Written by `tracker demo`"
START = dt.datetime(2026, 6, 29, tzinfo=dt.UTC)  # Monday of 2026-W27: eight weeks up to 2026-W34
WEEKS = 8
FAMILIES = [
    {"name": "llama", "label": "Meta Llama", "authors": ["meta-llama"], "region": "us"},
    {"name": "qwen", "label": "Alibaba Qwen", "authors": ["Qwen"], "region": "china"},
    {"name": "deepseek", "label": "DeepSeek", "authors": ["deepseek-ai"], "region": "china"},
    {"name": "mistral", "label": "Mistral AI", "authors": ["mistralai"], "region": "eu"},
    {
        "name": "gemma",
        "label": "Google Gemma",
        "authors": ["google"],
        "region": "us",
        "search": "gemma",
        "include": "(?i)gemma",
    },
]


def families(*names: str) -> list[dict[str, Any]]:
    """The demo's definitions of the named families, in the order named (for tests and benches)."""
    by_name = {f["name"]: f for f in FAMILIES}
    return [by_name[n] for n in names]


SCHEDULE = {"collect": "0 6 * * *", "tree": "30 6 * * *", "report": "0 8 * * 1", "jitter_s": 0}


@dataclass
class Result:
    folder: Path
    config: Path
    headline: str
    week: str
    reports: list[Path]
    runs: int
    seconds: float
    queries: list[str]


# ---- the folder -----------------------------------------------------------------------------------


def prepare(folder: Path) -> Path:
    """Create (or reset) the demo folder and write its config.yaml. A folder that holds anything but a
    previous demo is refused, so the demo never deletes a user's data."""
    folder = Path(folder)
    cfg = folder / "config.yaml"
    if folder.exists() and not folder.is_dir():
        raise DemoError(f"{folder} is a file; pass --dir with a folder for the demo")
    if folder.is_dir() and any(folder.iterdir()):
        if not (cfg.is_file() and cfg.read_text(encoding="utf-8", errors="replace").startswith(MARKER)):
            raise DemoError(
                f"{folder} already holds files that the demo did not write; pass --dir with an empty or new folder"
            )
        for sub in ("warehouse", "reports"):
            shutil.rmtree(folder / sub, ignore_errors=True)
        (folder / "demo.log").unlink(missing_ok=True)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DemoError(f"cannot create {folder}: {exc.strerror}") from None
    doc = {"warehouse": "warehouse/", "families": FAMILIES, "schedule": SCHEDULE}
    text = (
        f"{MARKER}: its own warehouse and reports, beside this file.\n"
        "# The demo talked to an emulator on a free port that it stopped at the end; against the live\n"
        "# Hub, use the repository's config.yaml.\n" + yaml.safe_dump(doc, sort_keys=False, width=120)
    )
    cfg.write_text(text, encoding="utf-8")
    return cfg


# ---- the replay ------------------------------------------------------------------------------------


class CtrlC:
    """Ctrl-C stops the demo between two jobs, not inside one: a KeyboardInterrupt raised in a DuckDB
    query comes out as that query's error ("Query interrupted"), and one raised in a collect's publish
    as a failed collect, so a Ctrl-C at such a moment read as a crash, or was swallowed and the demo
    went on. From `CtrlC()` on, the first Ctrl-C is only noted: the running job finishes and `check()`
    raises KeyboardInterrupt at the next point between jobs. A second Ctrl-C interrupts at once.
    `restore()` puts the previous handler back. (Signals reach the main thread only: elsewhere it does nothing.)"""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self._installed = threading.current_thread() is threading.main_thread()
        self._previous: Any = signal.signal(signal.SIGINT, self._note) if self._installed else None

    def _note(self, _signum: int, _frame: Any) -> None:
        self.restore()
        self.asked.set()

    def check(self) -> None:
        if self.asked.is_set():
            raise KeyboardInterrupt

    def restore(self) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous if self._previous is not None else signal.SIG_DFL)
            self._installed = False


def schedule_events(
    schedule: dict[str, str], start: dt.datetime, end: dt.datetime, only: tuple[str, ...] = ("collect", "tree")
) -> list[tuple[dt.datetime, str]]:
    """Every fire time of the schedule's jobs in [start, end), in the order the daemon runs them."""
    from tracker import daemon

    events = []
    for name, expr in schedule.items():
        if name not in only:
            continue
        t = daemon.next_fire(expr, start)
        while t is not None and t < end:
            events.append((t, name))
            t = daemon.next_fire(expr, t + dt.timedelta(seconds=1))
    order = {n: i for i, n in enumerate(schedule)}
    return sorted(events, key=lambda e: (e[0], order[e[1]]))


def crossover(wh) -> dict[str, Any] | None:
    """The day Qwen overtook Llama in 30-day downloads (the `crossovers` view), with the values."""
    cx = wh.query(
        "SELECT day, previous_day, family_value, overtaken_value FROM crossovers WHERE metric = 'downloads_30d' "
        "AND family = 'qwen' AND overtaken = 'llama' ORDER BY day LIMIT 1"
    )
    if cx.empty:
        return None
    r = cx.iloc[0]
    return {
        "day": r.day.date(),
        "previous_day": r.previous_day.date(),
        "qwen": int(r.family_value),
        "llama": int(r.overtaken_value),
    }


def queries(config: Path) -> list[str]:
    c = _shell_path(config)
    return [
        f'tracker sql --config {c} "select day, family, downloads_30d, derivatives from family_daily '
        "where family in ('qwen', 'llama') order by day desc limit 6\"",
        f"tracker sql --config {c} \"select * from crossovers where metric = 'downloads_30d' and overtaken = 'llama'\"",
        f'tracker sql --config {c} "select model_id, downloads_30d, likes from models_latest '
        "where family = 'qwen' order by 2 desc limit 5\"",
    ]


def _shell_path(p: Path) -> str:
    try:
        rel = os.path.relpath(p)
    except ValueError:
        rel = str(p)
    s = rel if not rel.startswith("..") else str(Path(p).absolute())
    return s if all(ch.isalnum() or ch in "/._-" for ch in s) else "'" + s.replace("'", "'\\''") + "'"


def run(
    folder: str | os.PathLike[str] = "demo",
    *,
    weeks: int = WEEKS,
    faults: str | None = None,
    say: Callable[[str], None] = print,
) -> Result:
    """Replay `weeks` weeks ending with 2026-W34 (the crossover week) and write that week's report."""
    from tracker import config as config_mod
    from tracker import jobs, log, trends
    from tracker.warehouse import Warehouse

    t0 = time.monotonic()
    folder = Path(folder)
    start = START + dt.timedelta(weeks=WEEKS - weeks)
    end = START + dt.timedelta(weeks=WEEKS)
    cfg = prepare(folder)
    log.to_file(folder / "demo.log")
    settings = config_mod.load(cfg)
    emu = Emulator(start=start, faults=faults)
    say(
        f"Starting the Hub emulator (seed {SEED}, {sum(OFFICIAL.values())} official models, the 5-minute "
        f"rate-limit window scaled to {WINDOW_S:g} s) ..."
    )
    ctrl_c = CtrlC()
    try:
        endpoint = emu.start()
        say(f"  emulator: {endpoint} (PID {emu.pid}; stopped when the demo ends)")
        ctrl_c.check()
        from dataclasses import replace

        settings = replace(settings, hub=replace(settings.hub, endpoint=endpoint))
        events = schedule_events(settings.schedule, start, end)
        say(
            f"Replaying {weeks} simulated weeks of the daemon's schedule ({settings.schedule['collect']} collect, "
            f"{settings.schedule['tree']} tree, UTC) from {start.date()} to {(end - dt.timedelta(days=1)).date()}:"
        )
        wh = Warehouse(settings.warehouse)
        n_runs, week_requests, week = 0, 0, trends.week_label(start.date())
        last_collect: tuple[str, dt.date] | None = None
        for i, (at, name) in enumerate(events):
            emu.set_time(at)
            if name == "collect":
                run_ = jobs.collect(settings, now=at, show_progress=False, refresh_trends=False)
                last_collect = (run_["run_id"], at.date())
            else:
                run_ = jobs.tree(settings, now=at, show_progress=False, refresh_trends=False)
            n_runs += 1
            ctrl_c.check()
            week_requests += run_["requests"] or 0
            if run_["status"] != "ok":
                raise DemoError(
                    f"the {name} of {at:%Y-%m-%d %H:%M} UTC was {run_['status']}: {run_['error']} "
                    f"(details in {folder / 'demo.log'})"
                )
            nxt = events[i + 1][0] if i + 1 < len(events) else end
            if trends.week_label(nxt.date()) != week or i + 1 == len(events):
                say("  " + _week_line(wh, last_collect, week, week_requests))
                week, week_requests = trends.week_label(nxt.date()), 0
        jobs.derive(settings)
        ctrl_c.check()
        cx = crossover(wh)
        if cx is None:
            raise DemoError(
                f"no day on which Qwen overtook Llama in 30-day downloads between {start.date()} and "
                f"{(end - dt.timedelta(days=1)).date()}; see {folder / 'demo.log'}"
            )
        week = trends.week_label(cx["day"])
        # as the scheduled report job does: the Monday after the week, last week's report
        when = trends.week_start(week).to_pydatetime().replace(tzinfo=dt.UTC) + dt.timedelta(days=7, hours=8)
        emu.set_time(when)
        rep = jobs.recorded_report(settings, now=when, week=week, out=folder / "reports")
        n_runs += 1
        ctrl_c.check()
    finally:
        ctrl_c.restore()
        emu.stop()
    labels = {f.name: f.label for f in settings.families}
    from tracker.report.format import distinct

    a, b = distinct(cx["qwen"], cx["llama"])
    headline = (
        f"{labels['qwen']} overtook {labels['llama']} in 30-day downloads on {cx['day']} "
        f"(last behind on {cx['previous_day']}): {a} vs {b}"
    )
    return Result(
        folder=folder,
        config=cfg,
        headline=headline,
        week=week,
        reports=list(rep["paths"]),
        runs=n_runs,
        seconds=time.monotonic() - t0,
        queries=queries(cfg),
    )


def _week_line(wh, last_collect: tuple[str, dt.date] | None, week: str, requests: int) -> str:
    """A week of the replay in one line: requests, and Llama's and Qwen's 30-day downloads in the week's
    last collect (read from that run's own snapshot file, not the views: cheap at every week)."""
    from tracker.report.format import human

    if last_collect is None:
        return f"{week}  {requests:>5} requests"
    run_id, day = last_collect
    ll, qw = (wh.snapshot_rows(run_id, day, fam)["downloads_30d"].sum() for fam in ("llama", "qwen"))
    lead = "Qwen ahead" if qw > ll else "Llama ahead"
    return (
        f"{week}  {requests:>5} requests   30-day downloads on {day:%m-%d}: Llama {human(ll):>6}  "
        f"Qwen {human(qw):>6}  ({lead})"
    )
