"""Moves this Python process's clock by TRACKER_TEST_CLOCK_OFFSET_S seconds (tests/run_on_dates.py).

Only on the path of processes that tests/run_on_dates.py starts (it puts this folder on PYTHONPATH,
which every child inherits). The wall clock (time.time, datetime.now, date.today) keeps ticking from
real time plus the offset, so every process of a run agrees on the fake time; monotonic time stays real.
"""

import os

_offset = os.environ.get("TRACKER_TEST_CLOCK_OFFSET_S")
if _offset:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
