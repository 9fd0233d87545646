"""structlog setup: a readable console in a terminal, JSON lines otherwise (RELIABILITY.md §4).

Standard-library records (APScheduler, huggingface_hub, httpx2) go through the same processors, so
they carry the bound run context too. Tokens are redacted from every event, and tracebacks never
include local variables (a local named `token` would otherwise be logged).
"""

from __future__ import annotations

import logging
import os
import sys

import structlog

from tracker.redact import redact_all

def redact_tokens(_logger, _name, event_dict):
    return redact_all(event_dict)


def configure(json: bool | None = None, level: str | None = None) -> None:
    """Configure logging once per process. json=None chooses by whether stderr is a terminal."""
    if json is None:
        json = not sys.stderr.isatty()
    level = (level or os.environ.get("TRACKER_LOG_LEVEL") or "INFO").upper()
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    if json:
        tail = [
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)),
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


def get(name: str = "tracker"):
    return structlog.get_logger(name)
