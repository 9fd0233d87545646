"""Token redaction for every string the tracker stores, logs or shows (runs.error, stderr, status).

A Hub error body may echo the request's `Authorization` header; a traceback may carry it. Whatever
the path, text goes through `redact` first: the configured token (HF_TOKEN, or one registered by a
`Hub`), anything shaped like a Hugging Face token (`hf_...`) and any `Bearer <credential>` become `***`.
"""

from __future__ import annotations

import os
import re
import threading

_TOKEN_RE = re.compile(r"hf_[A-Za-z0-9]{8,}")
_BEARER_RE = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")
_KNOWN: set[str] = set()
_LOCK = threading.Lock()


def register(secret: str | None) -> None:
    """Remember a secret that is not in HF_TOKEN (a token passed to Hub directly)."""
    if secret and len(secret) >= 4:
        with _LOCK:
            _KNOWN.add(secret)


def redact(text):
    """`text` with every token replaced; non-strings pass through unchanged."""
    if not isinstance(text, str) or not text:
        return text
    with _LOCK:
        secrets = set(_KNOWN)
    env = os.environ.get("HF_TOKEN")
    if env:
        secrets.add(env)
    for s in sorted(secrets, key=len, reverse=True):
        text = text.replace(s, "***")
    text = _TOKEN_RE.sub("hf_***", text)
    return _BEARER_RE.sub(r"\1***", text)


def redact_all(value):
    """`redact` applied to every string inside dicts, lists and tuples."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_all(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_all(v) for v in value)
    return value
