"""Logging set-up and the context of a log line: what the process is working on.

Each adapter opens a scope per unit of work it takes (the bot: an update; web/: an HTTP
request; the scheduler: a job run) with `log_scope(...)`, and adds what it learns on the way
(`bind(account_id=…)`). `LOG_FORMAT=json` writes every line as one JSON object carrying those
fields; `text` keeps the classic one-line format.

Only the formatted message goes out, never a record's raw arguments; the filters that drop
lines carrying stored data (core/db/engine.py) sit on their loggers, before any handler.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The context fields, in the order a JSON line carries them.
FIELDS = ("update_id", "account_id", "request_id", "job")

_scope: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "shopdesk_log_scope", default=None
)

# An X-Request-ID sent by a client (or a proxy) is kept only when it looks like an id.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:+/=-]{1,128}$")


@contextmanager
def log_scope(**fields: object) -> Iterator[dict[str, object]]:
    """A scope of its own for the lines logged inside (tasks started inside share it); it
    inherits the fields of the scope around it (a webhook request around its update)."""
    token = _scope.set({**(_scope.get() or {}), **fields})
    try:
        yield _scope.get()  # type: ignore[misc]
    finally:
        _scope.reset(token)


def bind(**fields: object) -> None:
    """Adds fields to the current scope (outside any scope: nothing to add them to)."""
    scope = _scope.get()
    if scope is not None:
        scope.update(fields)


def current() -> dict[str, object]:
    return dict(_scope.get() or {})


def sane_request_id(value: str | None) -> str | None:
    return value if value and _SANE_REQUEST_ID.match(value) else None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the scope's
    fields that are known, and the traceback (`exc_info`) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        scope = _scope.get() or {}
        for name in FIELDS:
            if scope.get(name) is not None:
                line[name] = scope[name]
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str, fmt: str = "text", stream: TextIO | None = None) -> None:
    """The root logger's one handler (the process's entry point calls this once)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
