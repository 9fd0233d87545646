"""Crontab strings with crontab's meaning, as APScheduler 3 triggers.

APScheduler 3's `CronTrigger.from_crontab` numbers weekdays from Monday (0 = Monday) and rejects 7,
whereas crontab(5) has 0 and 7 = Sunday (RELIABILITY.md §2.5). It also ANDs day-of-month with
day-of-week, whereas cron fires when either matches if both are restricted. This module expands the
weekday field to explicit day names and builds an OrTrigger for the day-of-month/day-of-week case.
"""

from __future__ import annotations

import re
from typing import Any

# crontab numbering: 0 (and 7) = Sunday
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_FIELD_RE = re.compile(r"^[0-9A-Za-z*/,\-]+$")


class CronError(ValueError):
    """A crontab string that cron would not accept."""


def _dow_value(token: str, expr: str) -> int:
    t = token.lower()
    if t in _CRON_DAYS:
        return _CRON_DAYS.index(t)
    if t.isdigit() and 0 <= int(t) <= 7:
        return int(t) % 7
    raise CronError(f"'{expr}': weekday '{token}' must be 0-7 (0 and 7 = Sunday) or a name sun..sat")


def expand_weekdays(field: str, expr: str = "") -> list[int]:
    """The set of weekdays (0 = Sunday .. 6 = Saturday) a crontab weekday field names."""
    days: set[int] = set()
    for part in field.split(","):
        body, _, step_s = part.partition("/")
        step = 1
        if step_s:
            if not step_s.isdigit() or int(step_s) == 0:
                raise CronError(f"'{expr}': bad step '/{step_s}' in the weekday field")
            step = int(step_s)
        if body == "*":
            lo, hi = 0, 6
        elif "-" in body:
            a, b = body.split("-", 1)
            lo, hi = _dow_value(a, expr), _dow_value(b, expr)
            if b.strip() == "7":
                hi = 7  # "5-7" is Friday to Sunday
            if hi < lo:
                raise CronError(f"'{expr}': weekday range '{body}' runs backwards")
        else:
            lo = hi = _dow_value(body, expr)
            if step_s:
                hi = 6
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return sorted(days)


def parse_crontab(expr: Any) -> dict[str, str]:
    """Validate a five-field crontab string; returns APScheduler CronTrigger fields (weekday as names)."""
    if not isinstance(expr, str):
        raise CronError(f"{expr!r} must be a quoted five-field crontab string")
    fields = expr.split()
    if len(fields) != 5:
        raise CronError(f"'{expr}' has {len(fields)} fields; a crontab string has five: minute hour day month weekday")
    for f in fields:
        if not _FIELD_RE.match(f):
            raise CronError(f"'{expr}': field '{f}' has characters cron does not accept")
    minute, hour, day, month, dow = fields
    days = expand_weekdays(dow, expr)
    out = {"minute": minute, "hour": hour, "day": day, "month": month.lower(),
           "day_of_week": ",".join(_CRON_DAYS[d] for d in days)}
    try:  # let APScheduler check the numeric ranges (minute 0-59, hour 0-23, ...)
        from apscheduler.triggers.cron import CronTrigger

        CronTrigger(timezone="UTC", **out)
    except ValueError as exc:
        raise CronError(f"'{expr}': {exc}") from None
    out["_dow_restricted"] = "0" if dow == "*" else "1"
    out["_dom_restricted"] = "0" if day == "*" else "1"
    return out


def trigger(expr: str, jitter_s: int = 0):  # -> BaseTrigger
    """An APScheduler trigger in UTC with crontab's meaning."""
    from apscheduler.triggers.combining import OrTrigger
    from apscheduler.triggers.cron import CronTrigger

    f = parse_crontab(expr)
    dow_r, dom_r = f.pop("_dow_restricted") == "1", f.pop("_dom_restricted") == "1"
    jitter = jitter_s or None
    if dow_r and dom_r:  # cron: either the day of month or the weekday matches
        a = dict(f, day_of_week="*")
        b = dict(f, day="*")
        return OrTrigger([CronTrigger(timezone="UTC", **a), CronTrigger(timezone="UTC", **b)], jitter=jitter)
    return CronTrigger(timezone="UTC", jitter=jitter, **f)
