"""Crontab strings keep crontab's meaning under APScheduler 3 (0 and 7 = Sunday; dom OR dow)."""

import datetime as dt

import pytest

from tracker.cron import CronError, expand_weekdays, trigger

UTC = dt.UTC


def fires(expr, start, n=6):
    trig = trigger(expr)
    out, prev, now = [], None, start
    for _ in range(n):
        nxt = trig.get_next_fire_time(prev, now)
        out.append(nxt)
        prev, now = nxt, nxt + dt.timedelta(seconds=1)
    return out


def test_sunday_is_0_and_7():
    start = dt.datetime(2026, 11, 26, tzinfo=UTC)  # a Thursday
    for expr in ("0 9 * * 0", "0 9 * * 7", "0 9 * * sun"):
        got = fires(expr, start, 3)
        assert [d.strftime("%a %H:%M") for d in got] == ["Sun 09:00"] * 3, expr
        assert got[0].date() == dt.date(2026, 11, 29)


def test_weekdays_range():
    got = fires("0 9 * * 1-5", dt.datetime(2026, 11, 26, tzinfo=UTC), 5)
    assert [d.strftime("%a") for d in got] == ["Thu", "Fri", "Mon", "Tue", "Wed"]


def test_monday_report():
    got = fires("0 8 * * 1", dt.datetime(2026, 11, 26, tzinfo=UTC), 2)
    assert [d.isoformat() for d in got] == ["2026-11-30T08:00:00+00:00", "2026-12-07T08:00:00+00:00"]


def test_day_of_month_or_weekday_like_cron():
    # cron: the 1st of the month OR any Sunday
    got = fires("0 0 1 * 0", dt.datetime(2026, 11, 26, tzinfo=UTC), 3)
    assert [d.date().isoformat() for d in got] == ["2026-11-29", "2026-12-01", "2026-12-06"]


def test_expand_weekdays():
    assert expand_weekdays("5-7") == [0, 5, 6]
    assert expand_weekdays("*/2") == [0, 2, 4, 6]
    assert expand_weekdays("mon,wed") == [1, 3]


@pytest.mark.parametrize("expr", ["0 9 * * 8", "61 * * * *", "0 9 * *", "* * * * * *", "0 9 * * 5-1", 9])
def test_bad_strings(expr):
    with pytest.raises(CronError):
        trigger(expr)
