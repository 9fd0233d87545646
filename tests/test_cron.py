"""Crontab strings keep crontab(5)'s meaning (0 and 7 = Sunday; day of month OR weekday).

Expected times are worked out by hand from a calendar (2026-11-26 is a Thursday; 2026-11-29 and
2026-12-06 are Sundays) and crontab(5)'s rules; the same strings are also checked against cronsim
iterated directly and, where APScheduler's own CronTrigger means the same thing, against it.
"""

import datetime as dt
import threading

import pytest
from cronsim import CronSim

from tracker import cron
from tracker.cron import CronError, check_crontab, ever_fires, latest_fire, next_fire, trigger

UTC = dt.UTC
THU = dt.datetime(2026, 11, 26, tzinfo=UTC)  # a Thursday, 00:00


def d(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=UTC)


def fires(expr, start=THU, n=6, jitter_s=0):
    """The first n fire times of the daemon's APScheduler trigger, as the scheduler asks for them."""
    trig = trigger(expr, jitter_s)
    out, prev, now = [], None, start
    for _ in range(n):
        nxt = trig.get_next_fire_time(prev, now)
        out.append(nxt)
        prev, now = nxt, nxt
    return out


def days(times):
    return [f"{t:%a %m-%d}" for t in times]


# ---- crontab(5), by hand ------------------------------------------------------------------------


@pytest.mark.parametrize("dow", ["0", "7", "sun", "SUN", "7-7", "0-0", "sun-sun", "0,7"])
def test_every_spelling_of_sunday_is_sunday_only(dow):
    # 7-7 is the bug the hand-written parser had: it expanded to every day
    got = fires(f"0 9 * * {dow}", n=3)
    assert got == [d("2026-11-29T09:00"), d("2026-12-06T09:00"), d("2026-12-13T09:00")], dow


@pytest.mark.parametrize(
    "expr, want",
    [
        ("0 9 * * 5-7", ["Fri 11-27", "Sat 11-28", "Sun 11-29", "Fri 12-04", "Sat 12-05", "Sun 12-06"]),
        ("0 9 * * sun-sat", ["Thu 11-26", "Fri 11-27", "Sat 11-28", "Sun 11-29", "Mon 11-30", "Tue 12-01"]),
        ("0 9 * * 0-7", ["Thu 11-26", "Fri 11-27", "Sat 11-28", "Sun 11-29", "Mon 11-30", "Tue 12-01"]),
        ("0 9 * * 1-5", ["Thu 11-26", "Fri 11-27", "Mon 11-30", "Tue 12-01", "Wed 12-02", "Thu 12-03"]),
        ("0 9 * * mon,wed", ["Mon 11-30", "Wed 12-02", "Mon 12-07", "Wed 12-09", "Mon 12-14", "Wed 12-16"]),
        # */2 over 0-7 is 0,2,4,6: Sunday, Tuesday, Thursday, Saturday
        ("0 9 * * */2", ["Thu 11-26", "Sat 11-28", "Sun 11-29", "Tue 12-01", "Thu 12-03", "Sat 12-05"]),
        # 1-7/3 is 1,4,7: Monday, Thursday, Sunday
        ("0 9 * * 1-7/3", ["Thu 11-26", "Sun 11-29", "Mon 11-30", "Thu 12-03", "Sun 12-06", "Mon 12-07"]),
    ],
)
def test_weekday_fields(expr, want):
    assert days(fires(expr)) == want


def test_day_of_month_or_weekday_the_crontab5_example():
    # crontab(5): "30 4 1,15 * 5" runs at 4:30 on the 1st and 15th of each month, plus every Friday
    got = fires("30 4 1,15 * 5")
    assert got == [
        d("2026-11-27T04:30"),
        d("2026-12-01T04:30"),
        d("2026-12-04T04:30"),
        d("2026-12-11T04:30"),
        d("2026-12-15T04:30"),
        d("2026-12-18T04:30"),
    ]
    assert days(fires("0 0 1 * 0", n=3)) == ["Sun 11-29", "Tue 12-01", "Sun 12-06"]


def test_a_day_field_starting_with_a_star_is_unrestricted():
    # crontab(5): "either field matches" only when both are restricted, i.e. neither starts with *;
    # so */2 (odd days) AND Monday: Mondays that fall on an odd day
    assert days(fires("0 0 */2 * 1", n=4)) == ["Mon 12-07", "Mon 12-21", "Mon 01-11", "Mon 01-25"]


def test_times_hours_months_and_leap_days():
    assert fires("*/20 9-10 * * *", n=7) == [
        d(f"2026-11-26T{t}") for t in ("09:00", "09:20", "09:40", "10:00", "10:20", "10:40")
    ] + [d("2026-11-27T09:00")]
    assert fires("0 0 1 jan-mar *", n=4) == [d("2027-01-01"), d("2027-02-01"), d("2027-03-01"), d("2028-01-01")]
    assert fires("0 0 29 2 *", n=2) == [d("2028-02-29"), d("2032-02-29")]
    assert latest_fire("0 0 29 2 *", THU) == d("2024-02-29")


def test_latest_and_next_fire_include_now_and_coalesce():
    now = d("2026-08-10T05:00")  # a Monday, before 06:00
    assert latest_fire("0 6 * * *", now) == d("2026-08-09T06:00")
    assert latest_fire("0 8 * * 1", now) == d("2026-08-03T08:00")
    assert latest_fire("0 8 * * 7", now) == d("2026-08-09T08:00")  # Sunday 7 backwards too
    assert latest_fire("* * * * *", now + dt.timedelta(seconds=59, microseconds=999)) == now
    six = now.replace(hour=6)
    assert latest_fire("0 6 * * *", six) == six == next_fire("0 6 * * *", six)  # a fire time is its own
    assert latest_fire("0 6 * * *", six - dt.timedelta(microseconds=1)) == d("2026-08-09T06:00")
    assert next_fire("0 6 * * *", six + dt.timedelta(microseconds=1)) == d("2026-08-11T06:00")
    assert next_fire("0 6 * * *", six.astimezone(dt.timezone(dt.timedelta(hours=2)))) == six  # any zone: UTC


# ---- errors and strings that never fire ---------------------------------------------------------


@pytest.mark.parametrize(
    "expr, says",
    [
        ("0 9 * * 8", "weekday '8' must be 0-7 (0 and 7 = Sunday) or a name sun..sat"),
        ("61 * * * *", "minute '61' must be 0-59"),
        ("0 25 * * *", "hour '25' must be 0-23"),
        ("0 0 0 * *", "day '0' must be 1-31"),
        ("0 0 1 13 *", "month '13' must be 1-12"),
        ("0 9 * * 5-1", "weekday '5-1'"),
        ("0 9 * * sat-sun", "weekday 'sat-sun'"),  # sun is 0: a range of names runs as their numbers
        ("0 9 * * fri-sun", "weekday 'fri-sun'"),
        ("*/0 * * * *", "minute '*/0'"),
        ("0 9 * *", "has 4 fields; a crontab string has five"),
        ("0 0 9 * * *", "has 6 fields"),  # cronsim would read a seconds field
        ("0 0 L * *", "day 'L'"),  # cronsim's extensions are not crontab(5)
        ("0 0 * * 1#2", "field '1#2' has characters cron does not accept"),
        ("0 0 * * 5L", "weekday '5L'"),
        (9, "9 must be a quoted five-field crontab string"),
    ],
)
def test_bad_strings_say_which_field(expr, says):
    with pytest.raises(CronError) as exc:
        trigger(expr)
    assert says in str(exc.value)
    assert "Traceback" not in str(exc.value)


@pytest.mark.parametrize(
    "expr, ever",
    [
        ("0 6 31 2 *", False),
        ("0 6 30 2 *", False),
        ("0 6 30,31 2 *", False),
        ("0 6 31 4,6,9,11 *", False),
        ("0 6 31 2 */7", False),  # a weekday starting with * leaves the day of month alone to decide
        ("0 6 29 2 *", True),
        ("0 6 31 2,3 *", True),
        ("0 6 31 2 1", True),  # 31 Feb OR a Monday of February
        ("0 6 * * *", True),
    ],
)
def test_ever_fires(expr, ever):
    assert ever_fires(expr) is ever
    if ever:
        assert check_crontab(expr) == expr
    else:
        with pytest.raises(CronError, match="never fires") as exc:
            check_crontab(expr)
        assert f"'{expr}'" in str(exc.value)


# ---- the same answers as the library, and as APScheduler where it agrees -----------------------

EXPRS = [
    "0 9 * * 7-7",
    "0 9 * * 5-7",
    "0 9 * * sun-sat",
    "30 4 1,15 * 5",
    "0 0 */2 * 1",
    "*/7 3-5 1,15 * *",
    "0 0 29 2 *",
    "15 */6 * jan,jul mon-fri",
    "0 8 * * 1",
]


@pytest.mark.parametrize("expr", EXPRS)
def test_trigger_gives_cronsims_times_forwards_and_backwards(expr):
    it = CronSim(expr, THU)
    want = [next(it) for _ in range(12)]
    assert fires(expr, n=12) == want
    assert [next_fire(expr, t) for t in want] == want
    assert [latest_fire(expr, t + dt.timedelta(seconds=30)) for t in want] == want
    assert [latest_fire(expr, t - dt.timedelta(seconds=1)) for t in want[1:]] == want[:-1]


@pytest.mark.parametrize(
    "expr, apscheduler_fields",
    [
        ("*/7 3-5 1,15 * *", {"minute": "*/7", "hour": "3-5", "day": "1,15"}),
        ("0 9 * * 1-5", {"minute": "0", "hour": "9", "day_of_week": "mon-fri"}),  # its weekdays count from Monday
        ("0 9 * * 0", {"minute": "0", "hour": "9", "day_of_week": "sun"}),
        ("15 */6 * jan,jul *", {"minute": "15", "hour": "*/6", "month": "jan,jul"}),
    ],
)
def test_trigger_agrees_with_apschedulers_cron_trigger(expr, apscheduler_fields):
    from apscheduler.triggers.cron import CronTrigger

    theirs, out, prev = CronTrigger(timezone=UTC, **apscheduler_fields), [], None
    for _ in range(20):
        prev = theirs.get_next_fire_time(prev, prev or THU)
        out.append(prev)
    assert fires(expr, n=20) == out


def test_jitter_delays_each_fire_by_at_most_jitter_s():
    exact = fires("0 6 * * *", n=10)
    late = fires("0 6 * * *", n=10, jitter_s=120)
    assert all(0 <= (b - a).total_seconds() <= 120 for a, b in zip(exact, late, strict=True))
    assert "0 6 * * *" in str(trigger("0 6 * * *"))


def test_a_running_scheduler_fires_at_the_trigger_times():
    """A real APScheduler BackgroundScheduler on a simulated clock (20 simulated minutes a second)."""
    from apscheduler.events import EVENT_JOB_EXECUTED
    from apscheduler.schedulers.background import BackgroundScheduler

    from tracker.daemon import SimClock

    start = d("2026-11-28T23:57:30")  # a Saturday: "*/2 * * * 0" starts firing at midnight
    clock = SimClock(start, speed=1200)
    ran: list[dt.datetime] = []
    done = threading.Event()

    def on_run(event):
        ran.append(event.scheduled_run_time)
        if len(ran) >= 4:
            done.set()

    class Scheduler(BackgroundScheduler):  # sleeps in simulated time, as the daemon's scheduler does
        def _process_jobs(self):
            wait = super()._process_jobs()
            return wait if wait is None else wait / clock.speed

    with clock.install():
        sched = Scheduler(timezone=UTC)
        sched.add_listener(on_run, EVENT_JOB_EXECUTED)
        # coalesce=False: a fire time the scheduler's thread reaches late (a busy machine stalls it; 0.1 s is
        # 2 simulated minutes) still runs as its own run, so the times below do not depend on the load
        sched.add_job(lambda: None, cron.trigger("*/2 * * * 0"), id="j", misfire_grace_time=None, coalesce=False)
        sched.start()
        try:
            assert done.wait(10)
        finally:
            sched.shutdown(wait=True)
    assert ran[:4] == [d("2026-11-29T00:00"), d("2026-11-29T00:02"), d("2026-11-29T00:04"), d("2026-11-29T00:06")]
