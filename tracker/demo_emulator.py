"""The demo's Hub: `tracker hubsim` as a child process on a free port, with a frozen clock the demo
moves, stopped with the demo (on success, error, Ctrl-C, and by the kernel if the demo is killed)."""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any

SEED = 0
MODELS = 1500
# official models per org in the demo's world (the shipped catalogue has ~1,400; a tree costs one
# request per official model, and the demo replays 56 of them)
OFFICIAL = {"meta-llama": 12, "Qwen": 24, "deepseek-ai": 8, "mistralai": 6, "google": 16}
WINDOW_S = 3.0  # the Hub's 300 s rate-limit window, scaled by 1/100 (quota unchanged: 500 anonymous)


class DemoError(Exception):
    """The demo cannot go on; the message says why and what to do."""


def official_spec(counts: dict[str, int] = OFFICIAL) -> str:
    return ",".join(f"{org}={n}" for org, n in counts.items())


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the emulator gets SIGTERM if the demo dies, even by SIGKILL (prctl PR_SET_PDEATHSIG)."""
    os.setpgrp()  # its own process group: a Ctrl-C reaches the demo, which stops the emulator itself
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Emulator:
    """`tracker hubsim` as a child process on a free port, with a frozen clock the demo moves."""

    def __init__(
        self,
        *,
        start: dt.datetime,
        seed: int = SEED,
        models: int = MODELS,
        official: dict[str, int] = OFFICIAL,
        window_s: float = WINDOW_S,
        faults: str | None = None,
    ):
        self.cmd = [
            sys.executable,
            "-m",
            "tracker",
            "hubsim",
            "--port",
            "0",
            "--seed",
            str(seed),
            "--models",
            str(models),
            "--official",
            official_spec(official),
            "--date",
            start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "--window",
            f"{window_s:g}",
        ]
        if faults:
            self.cmd += ["--faults", faults]
        self.proc: subprocess.Popen[str] | None = None
        self.endpoint: str | None = None
        self.lines: list[str] = []

    def start(self, timeout_s: float = 60.0) -> str:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            self.cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            preexec_fn=_die_with_parent if os.name == "posix" else None,  # noqa: PLW1509 - setpgrp+prctl only, before any thread
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def pump() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                lines.put(line.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=pump, name="hubsim-output", daemon=True).start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
            if line.startswith("export HF_ENDPOINT="):
                self.endpoint = line.split("=", 1)[1].strip()
                return self.endpoint
        self.stop()
        raise DemoError("the emulator did not start: " + (" | ".join(self.lines[-5:]) or "no output"))

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def set_time(self, when: dt.datetime) -> None:
        assert self.endpoint is not None
        url = f"{self.endpoint}/_hubsim/clock?now={when.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=10) as resp:
                json.load(resp)
        except OSError as exc:
            raise DemoError(
                f"the emulator at {self.endpoint} stopped answering ({exc}); see {self.endpoint} output above"
            ) from None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 5 s; waits, so no process is left behind."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
