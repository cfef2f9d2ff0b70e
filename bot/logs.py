"""Structured logs: one JSON object per line, carrying the delivery or deployment id.

Every line is masked last, after formatting, with every secret this process has masked
anywhere else: the message, its arguments, extra fields and tracebacks alike.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from deployer.masking import remembered

delivery_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("delivery_id", default=None)
deployment_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("deployment_id", default=None)

_LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
}
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName", "color_message"}


class ContextFilter(logging.Filter):
    """Stamps every record with the delivery and deployment being handled, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "delivery_id", None) is None:
            record.delivery_id = delivery_id_var.get()
        if getattr(record, "deployment_id", None) is None:
            record.deployment_id = deployment_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "msg", ...extra}` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class MaskingFormatter(logging.Formatter):
    """Formats with `inner`, then masks the whole line (JSON escapes of a secret included)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return remembered().mask(self.inner.format(record))


def stream_handler(stream: TextIO, fmt: str = "json") -> logging.Handler:
    """A handler writing AutoStack's log lines to `stream`, as JSON or as plain text, masked."""
    out = logging.StreamHandler(stream)
    out.addFilter(ContextFilter())
    inner = (
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    out.setFormatter(MaskingFormatter(inner))
    return out


def configure(level: str = "info", fmt: str = "json") -> None:
    """Send every AutoStack log line to stderr, as JSON or as plain text."""
    root = logging.getLogger()
    root.handlers[:] = [stream_handler(sys.stderr, fmt)]
    root.setLevel(_LEVELS.get(level, logging.INFO))
    for noisy in ("uvicorn.access", "httpx", "aiosqlite", "arq.worker"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
