"""Crontab strings with crontab's meaning: checks with the tracker's messages, fire times, a trigger.

The arithmetic is cronsim's (healthchecks.io's parser, written to match Debian's cron): weekday 0
and 7 are Sunday, `5-7` is Friday to Sunday, and when both day of month and weekday are restricted
(neither starts with `*`) a day matching either one fires. APScheduler 3's own `from_crontab` reads
0 as Monday and rejects 7, so the daemon's trigger (`trigger`) asks cronsim for each next time
instead: the daemon fires exactly at the times `next_fire` and `latest_fire` name.

Only crontab(5) syntax is accepted (numbers, names, `*`, lists, ranges, steps), so a schedule
written for the daemon also works in a plain crontab: cronsim's extensions (`L`, `W`, `#`, a
seconds field) are refused here.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from cronsim import CronSim, CronSimError

# the five fields: name, the values crontab(5) allows, the names it allows
_FIELDS = (
    ("minute", "0-59", ()),
    ("hour", "0-23", ()),
    ("day", "1-31", ()),
    (
        "month",
        "1-12 or a name jan..dec",
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    ),
    ("weekday", "0-7 (0 and 7 = Sunday) or a name sun..sat", ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)
_FIELD_RE = re.compile(r"^[0-9A-Za-z*/,\-]+$")
_START = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # any 400-year window holds every pattern; 2000-2050 does too


class CronError(ValueError):
    """A crontab string that cron would not accept, or one that never fires."""


def _alone(i: int, field: str) -> str:
    """A crontab string with only field `i` restricted (so cronsim judges that field by itself)."""
    return " ".join(field if k == i else "*" for k in range(5))


def parse_crontab(expr: Any) -> str:
    """Check a five-field crontab string (minute hour day month weekday); returns it. Raises CronError
    naming the field that is wrong and what it allows."""
    if not isinstance(expr, str):
        raise CronError(f"{expr!r} must be a quoted five-field crontab string")
    fields = expr.split()
    if len(fields) != 5:
        raise CronError(f"'{expr}' has {len(fields)} fields; a crontab string has five: minute hour day month weekday")
    for i, (f, (name, allowed, names)) in enumerate(zip(fields, _FIELDS, strict=True)):
        if not _FIELD_RE.match(f):
            raise CronError(f"'{expr}': field '{f}' has characters cron does not accept")
        words = [w.lower() for w in re.findall(r"[A-Za-z]+", f)]
        try:
            if any(w not in names for w in words):  # cronsim's L / W extensions are not crontab(5)
                raise CronSimError(name)
            CronSim(_alone(i, f), _START)
        except CronSimError:
            raise CronError(
                f"'{expr}': {name} '{f}' must be {allowed}: one value, a list (a,b), a range "
                f"(a-b, low to high) or a step (*/n, a-b/n)"
            ) from None
    return expr


def ever_fires(expr: str) -> bool:
    """Whether a valid crontab string names any time at all ("0 6 31 2 *", 31 February, never does)."""
    try:
        next(CronSim(parse_crontab(expr), _START))
    except (CronSimError, StopIteration):  # cronsim refuses a day no named month has
        return False
    return True


def check_crontab(expr: Any) -> str:
    """parse_crontab, and a CronError for a string that never fires; returns the string."""
    parse_crontab(expr)
    if not ever_fires(expr):
        _, _, day, month, _ = expr.split()
        raise CronError(
            f"'{expr}' never fires: month '{month}' has no day '{day}' (February has 29 days only "
            "in leap years, April, June, September and November have 30); pick a day the month has"
        )
    return expr


def _utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC) if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def next_fire(expr: str, now: dt.datetime) -> dt.datetime | None:
    """The first time >= now at which a crontab string fires (without jitter); None if it never does."""
    now = _utc(now)
    # cronsim returns times after its start, which it truncates to the second; fire times are whole minutes
    start = now if now.microsecond else now - dt.timedelta(seconds=1)
    try:
        return next(CronSim(expr, start))
    except (CronSimError, StopIteration):
        return None


def latest_fire(expr: str, now: dt.datetime) -> dt.datetime | None:
    """The most recent time <= now at which a crontab string fired (without jitter): the period owed."""
    now = _utc(now)
    # reversed, cronsim returns times before its start; a start with microseconds counts its own second
    start = now if now.microsecond else now + dt.timedelta(seconds=1)
    try:
        return next(CronSim(expr, start, reverse=True))
    except (CronSimError, StopIteration):
        return None


class CrontabTrigger(BaseTrigger):
    """An APScheduler 3 trigger (UTC) that fires at `next_fire`'s times, plus up to `jitter_s` seconds."""

    __slots__ = ("expr", "jitter")

    def __init__(self, expr: str, jitter_s: int = 0):
        self.expr, self.jitter = check_crontab(expr), jitter_s or None

    def get_next_fire_time(self, previous_fire_time, now):
        # as APScheduler's CronTrigger: the first time after the previous one (or from now)
        start = now if previous_fire_time is None else min(now, previous_fire_time + dt.timedelta(microseconds=1))
        if previous_fire_time is not None and start <= previous_fire_time:
            start = previous_fire_time + dt.timedelta(microseconds=1)
        return self._apply_jitter(next_fire(self.expr, start), self.jitter, now)

    def __str__(self) -> str:
        return f"crontab[{self.expr}]"

    def __repr__(self) -> str:
        return f"<CrontabTrigger ({self.expr!r}, jitter={self.jitter})>"


def trigger(expr: str, jitter_s: int = 0) -> CrontabTrigger:
    """The daemon's trigger for a crontab string (CronError if it is not valid or never fires)."""
    return CrontabTrigger(expr, jitter_s)
