"""Structured JSON logs that cannot carry message text.

Log events name what happened and carry ids, counts, entity types and hashes.
A processor drops any field whose name suggests raw content, as a last guard.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

FORBIDDEN_FIELDS = frozenset({"text", "raw", "body", "message_text", "content", "payload"})


def _drop_content(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in FORBIDDEN_FIELDS & event.keys():
        event[key] = "[withheld]"
    return event


# The least a third-party library must reach to be logged, whatever level its own
# loggers have: below these, these libraries quote request bodies, message texts or
# SQL parameters. slack_bolt logs request bodies at INFO (for instance on a bad
# signature) and copies the root logger's level onto its own loggers, so a logger
# level alone does not hold it back; the handler's filter does.
LIBRARY_FLOORS = {
    "presidio-analyzer": logging.WARNING,
    "presidio-anonymizer": logging.WARNING,
    "slack_bolt": logging.WARNING,
    "slack_sdk": logging.INFO,
    "aiohttp.access": logging.INFO,
    "botbuilder": logging.INFO,
    "aiosqlite": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,
}


def _floor(name: str) -> int:
    while name:
        if name in LIBRARY_FLOORS:
            return LIBRARY_FLOORS[name]
        name = name.rpartition(".")[0]
    return logging.NOTSET


class _LibraryFloor(logging.Filter):
    """Drops records below :data:`LIBRARY_FLOORS` for their library."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= _floor(record.name)


def json_handler(stream: Any = None) -> logging.Handler:
    """A handler writing every stdlib and structlog record to ``stream`` as one JSON line."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(_LibraryFloor())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processor=structlog.processors.JSONRenderer(),
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso"),
            ],
        )
    )
    return handler


def library_levels(level: int) -> dict[str, int]:
    """The levels chatty libraries' loggers get when the root logger is at ``level``."""
    # Setting them spares building records that the handler's filter would drop.
    return {name: max(int(level), floor) for name, floor in LIBRARY_FLOORS.items()}


def structlog_settings() -> dict[str, Any]:
    """What ``structlog.configure`` is given: content fields withheld, then stdlib's handler."""
    return {
        "processors": [
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            _drop_content,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        "logger_factory": structlog.stdlib.LoggerFactory(),
        "wrapper_class": structlog.stdlib.BoundLogger,
        "cache_logger_on_first_use": False,
    }


def configure(level: str | int = "INFO", stream: Any = None) -> None:
    """Send structlog and stdlib logging to ``stream`` as JSON lines at ``level``."""
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
    root = logging.getLogger()
    root.handlers[:] = [json_handler(stream)]
    root.setLevel(level)
    for name, quieter in library_levels(int(level)).items():
        logging.getLogger(name).setLevel(quieter)
    structlog.configure(**structlog_settings())


def get_logger(name: str) -> Any:
    """A structured logger; pass ids and counts as keyword fields, never text."""
    return structlog.get_logger(name)
