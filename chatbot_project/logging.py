"""Log lines: JSON for production (LOG_FORMAT=json, the default when DEBUG is off) or text, with
secrets and end users' ids taken out of any query string they would carry. While a management
command runs at verbosity 0 or 1, the console shows only WARNING and above (``command_logging``):
its own report says what the INFO records would repeat."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_STD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {"message", "asctime"}

# Query parameters whose values never reach a log line: API keys (the WebSocket takes ``?key=``),
# tokens and passwords, and end users' ids (``GET /v1/conversations?user=``). Django logs every
# 5xx with the request, whose repr is the full path and query string; a server or library may
# log a URL in its message. Only after ``?`` or ``&``: ``key=`` in a traceback's code stays.
_SENSITIVE = re.compile(
    r"(?i)([?&](?:key|api_key|apikey|token|access_token|refresh_token|password|secret|user"
    r"|end_user)=)[^&#\s'\"<>]*"
)


def redact(text: str) -> str:
    """``text`` with the values of sensitive query parameters replaced by ``[redacted]``."""
    if "=" not in text:  # most lines (the access log names the path, never the query)
        return text
    return _SENSITIVE.sub(r"\1[redacted]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STD and not key.startswith("_"):
                out[key] = value  # e.g. Django's ``request``: its repr has the query string
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(out, default=str))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


_quiet = False  # a management command runs at verbosity 0 or 1 (command_logging)


class ConsoleHandler(logging.StreamHandler):
    """The console handler (settings.LOGGING). Under ``command_logging`` at verbosity 0 or 1 it
    drops records below WARNING: ``manage.py ingest`` and ``seed_demo`` printed each file's
    "document ... created" / "ready" records beside their own line for it. Servers and workers
    never run under it, so what they log is unchanged."""

    def filter(self, record: logging.LogRecord) -> bool | logging.LogRecord:
        if _quiet and record.levelno < logging.WARNING:
            return False
        return super().filter(record)


@contextmanager
def command_logging(verbosity: int) -> Iterator[None]:
    """While a management command runs: INFO and below reach the console only at ``-v 2``+."""
    global _quiet
    before, _quiet = _quiet, verbosity < 2
    try:
        yield
    finally:
        _quiet = before
