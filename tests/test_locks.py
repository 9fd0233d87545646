"""tracker.locks: one flock helper for the daemon's lock and the writers' lock."""

import os
import subprocess
import sys
import threading

from tracker.locks import FileLock, holder_note


def test_a_held_lock_refuses_others_and_shows_its_note(tmp_path):
    path = tmp_path / "sub" / "x.lock"
    assert holder_note(path) is None  # no file yet
    a, b = FileLock(path), FileLock(path)
    assert a.acquire(0, note="4242\n")
    assert b.acquire(wait_s=0.2) is False  # another open file description: flock refuses it
    assert holder_note(path) == "4242"
    a.release()
    assert holder_note(path) is None and path.read_text() == ""  # the note goes with the lock
    assert b.acquire(wait_s=0)
    b.release()


def test_with_waits_for_the_holder(tmp_path):
    path = tmp_path / "w.lock"
    order: list[str] = []
    first = FileLock(path)
    first.acquire()
    entered = threading.Event()

    def second():
        with FileLock(path):
            entered.set()
            order.append("second")

    t = threading.Thread(target=second)
    t.start()
    assert not entered.wait(0.2)  # still blocked
    order.append("first done")
    first.release()
    t.join(5)
    assert order == ["first done", "second"] and holder_note(path) is None


def test_a_killed_holder_leaves_the_lock_free(tmp_path):
    path = tmp_path / "k.lock"
    code = (
        "import sys, time; from tracker.locks import FileLock; FileLock(sys.argv[1]).acquire(note='x'); "
        "print('held', flush=True); time.sleep(60)"
    )
    p = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True, env={**os.environ})
    try:
        assert p.stdout.readline().strip() == "held"
        assert holder_note(path) == "x" and FileLock(path).acquire(wait_s=0) is False
        p.kill()
        p.wait(10)
        assert holder_note(path) is None and FileLock(path).acquire(wait_s=0)
    finally:
        if p.poll() is None:
            p.kill()
