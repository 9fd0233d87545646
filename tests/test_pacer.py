"""The RateLimit pacer on a fake clock: spends the window, waits for its reset, never past a deadline."""

from __future__ import annotations

import pytest

from tracker.pacer import Pacer, QuotaPastDeadline


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, _cond, seconds: float) -> None:  # what Condition.wait would block for
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


def test_probes_one_request_at_a_time_until_the_quota_is_known(clock):
    p = Pacer(clock=clock, wait=clock.wait)
    assert p.acquire() == 0.0 and p.in_flight == 1
    # a second request must wait for the first answer: the fake wait advances time, nothing answers,
    # so give the answer from the "other thread" by releasing before asking again
    p.release(remaining=3, reset_in_s=10)
    assert [p.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert p.in_flight == 3 and clock.waits == []


def test_a_spent_window_waits_for_its_reset_then_probes(clock):
    p = Pacer(clock=clock, wait=clock.wait)
    p.acquire()
    p.release(remaining=1, reset_in_s=10)  # window resets at 110
    p.acquire()
    p.release(remaining=0, reset_in_s=10)
    blocked = p.acquire()  # blocks until 110 + margin on the fake clock
    assert 110 <= clock.now <= 110 + Pacer.MARGIN_S + 0.01 and blocked == pytest.approx(clock.now - 100)
    assert p.remaining is None  # the new window's quota is probed again
    assert max(clock.waits) <= 1.0  # waits in slices of at most a second (to notice releases)


def test_a_reset_after_the_deadline_raises_at_once(clock):
    p = Pacer(clock=clock, wait=clock.wait)
    p.acquire()
    p.release(remaining=0, reset_in_s=60)
    with pytest.raises(QuotaPastDeadline):
        p.acquire(deadline=clock.now + 5)
    assert clock.waits == [] and p.in_flight == 0  # no time spent, nothing counted as in flight


def test_out_of_order_answers_keep_the_lowest_remaining_and_earliest_reset(clock):
    p = Pacer(clock=clock, wait=clock.wait)
    p.release(remaining=5, reset_in_s=10)
    p.release(remaining=7, reset_in_s=10.5)  # an older answer arriving late: same window
    assert (p.remaining, p.reset_at) == (5, 110)
    clock.now = 111
    p.release(remaining=9, reset_in_s=10)  # a bound a second or more later: a new window
    assert (p.remaining, p.reset_at) == (9, 121)


def test_in_flight_requests_count_against_the_window(clock):
    p = Pacer(clock=clock, wait=clock.wait)
    p.release(remaining=2, reset_in_s=30)
    p.acquire()
    p.acquire()
    with pytest.raises(QuotaPastDeadline):  # two in flight use up r=2: a third waits for the reset
        p.acquire(deadline=clock.now + 1)
