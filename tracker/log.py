"""structlog setup: a readable console in a terminal, JSON lines otherwise (structlog's advice for a daemon).

Standard-library records (APScheduler, huggingface_hub, httpx2) go through the same processors, so
they carry the bound run context too. Tokens are redacted from every event, and tracebacks never
include local variables (a local named `token` would otherwise be logged).
"""

from __future__ import annotations

import logging
import os
import sys

import structlog
from structlog.typing import EventDict, Processor

from tracker.redact import redact_all


def redact_tokens(_logger: object, _name: str, event_dict: EventDict) -> EventDict:
    return redact_all(event_dict)


_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure(json: bool | None = None, level: str | None = None) -> None:
    """Configure logging once per process. json=None chooses by whether stderr is a terminal."""
    if json is None:
        json = not sys.stderr.isatty()
    level = (level or os.environ.get("TRACKER_LOG_LEVEL") or "INFO").upper()
    shared = _SHARED
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    tail: list[Processor]
    if json:
        tail = [
            structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
            redact_tokens,
            structlog.processors.JSONRenderer(),
        ]
    else:
        tail = [redact_tokens, structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *tail],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # huggingface_hub adds its own handler at import: every retry warning would print twice.
    logging.getLogger("huggingface_hub").handlers.clear()
    for noisy in ("httpx2", "httpcore2", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    watch = logging.getLogger("apscheduler.executors.watch")  # the daemon's minute-by-minute clock watch
    if not any(isinstance(f, _AtDebug) for f in watch.filters):
        watch.addFilter(_AtDebug())


class _AtDebug(logging.Filter):
    """Demote a logger's info lines to debug: APScheduler logs "Running job" and "executed successfully"
    at info for every run of the daemon's clock watch (two lines a minute, 2,880 a day)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


def _json_formatter() -> logging.Formatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
            redact_tokens,
            structlog.processors.JSONRenderer(),
        ],
    )


def to_file(path, level: str = "INFO", console: str = "WARNING") -> None:
    """Send the log to a file as JSON lines (at `level`) and keep only `console` and above on stderr
    (the demo: its own lines on the terminal, every job's log in demo/demo.log)."""
    root = logging.getLogger()
    for h in root.handlers:
        h.setLevel(console)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(level)
    handler.setFormatter(_json_formatter())
    root.addHandler(handler)
    root.setLevel(min(logging.getLevelName(level), root.getEffectiveLevel()))


def error_log_path():
    """Where an unexpected error's traceback is kept: TRACKER_ERROR_LOG, else
    $XDG_STATE_HOME/hub-tracker/errors.log (~/.local/state/hub-tracker/errors.log)."""
    from pathlib import Path

    explicit = os.environ.get("TRACKER_ERROR_LOG")
    if explicit:
        return Path(explicit)
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(state) / "hub-tracker" / "errors.log"


def record_crash(command: str):
    """Log the exception being handled at debug level (stderr with TRACKER_LOG_LEVEL=DEBUG) and append its
    traceback to error_log_path(); return that path (None if it cannot be written)."""
    import traceback

    get("tracker.cli").debug("unexpected error", command=command, exc_info=True)
    path = error_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import datetime as dt

        text = redact_all(traceback.format_exc())
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"--- {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ} tracker {command}\n{text}\n")
    except OSError:
        return None
    return path


def get(name: str = "tracker"):
    return structlog.get_logger(name)
