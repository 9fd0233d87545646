"""`tracker ARGS` in a forked child of the test process: a new process (the tracker's per-process state,
such as which warehouses were found current, starts empty in it: tracker/warehouse/__init__.py clears it
after a fork) that runs the CLI's own code with every library already imported, so it costs no
interpreter start-up. For tests where a fresh process is the point but the interpreter is not; a real
`python -m tracker` (tests/conftest.py: run_tracker) stays for start-up, environment and signal tests."""

from __future__ import annotations

import multiprocessing
import os


def _child(args: list[str], conn) -> None:
    import logging

    from click.testing import CliRunner

    from tracker.cli import cli

    logging.disable(logging.CRITICAL)
    res = CliRunner().invoke(cli, args)
    if conn is not None:
        conn.send(res.output)
        conn.close()
    os._exit(res.exit_code)


def start(args: list[str], conn=None) -> multiprocessing.process.BaseProcess:
    """`tracker ARGS` started in a forked child and not waited for (e.g. to be killed mid-run); its output
    goes to `conn` (a Pipe's sending end) if given."""
    proc = multiprocessing.get_context("fork").Process(target=_child, args=(args, conn))
    proc.start()
    return proc


def run_command(args: list[str], timeout: float = 120) -> tuple[int, str]:
    """Run `tracker ARGS` in a forked child; return its exit code and its output (stdout and stderr)."""
    recv, send = multiprocessing.get_context("fork").Pipe(duplex=False)
    proc = start(args, send)
    send.close()
    try:
        output = recv.recv() if recv.poll(timeout) else ""
    except EOFError:  # it died before sending its output
        output = ""
    proc.join(timeout)
    if proc.exitcode is None:
        proc.kill()
        proc.join()
        raise AssertionError(f"tracker {' '.join(args)} did not finish in {timeout} s")
    return proc.exitcode, output
