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


def configure(level: str | int = "INFO", stream: Any = None) -> None:
    """Send structlog and stdlib logging to ``stream`` as JSON lines at ``level``."""
    if isinstance(level, str):
        level = logging.getLevelName(level.upper())
    handler = logging.StreamHandler(stream or sys.stderr)
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
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party libraries that may quote request bodies or texts at DEBUG stay quieter.
    for name in (
        "presidio-analyzer",
        "presidio-anonymizer",
        "slack_bolt",
        "slack_sdk",
        "aiohttp.access",
        "botbuilder",
    ):
        logging.getLogger(name).setLevel(max(int(level), logging.INFO))
    for name in ("presidio-analyzer", "presidio-anonymizer"):
        logging.getLogger(name).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            _drop_content,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    """A structured logger; pass ids and counts as keyword fields, never text."""
    return structlog.get_logger(name)
