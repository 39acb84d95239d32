"""Pytest plugin: the Slack and Teams suites' logs, at DEBUG in production's JSON, for a leak check.

While each test under ``tests/slack`` or ``tests/teams`` runs (its fixtures' setup and
teardown included), every stdlib and structlog record goes through production's
handler and processors (:mod:`discretion.logs`) at DEBUG into one file, and every
text a :class:`~discretion.message.Message` is built from is remembered, so that
``tests/test_privacy.py`` can look for the tests' own patient details in the logs.

In a run that includes both suites whole, the check reads this run's logs (no
second run). Otherwise it runs the two suites in a child pytest with
``DISCRETION_TEST_LOG_DIR`` set, where this plugin writes ``logs.jsonl`` and, at the
end, ``texts.json`` into that directory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import structlog

from discretion import logs
from discretion.message import Message

LOG_DIR_ENV = "DISCRETION_TEST_LOG_DIR"
TESTS = Path(__file__).resolve().parent
SUITES = (TESTS / "slack", TESTS / "teams")
MARKER = "chat_logs"


@dataclass
class ChatLogs:
    """What this run captured from the chat suites."""

    directory: Path
    texts: set[str] = field(default_factory=set)
    collected: set[str] = field(default_factory=set)
    ran: set[str] = field(default_factory=set)
    files: set[Path] = field(default_factory=set)
    deselected: bool = False
    _temporary: tempfile.TemporaryDirectory[str] | None = None

    @property
    def log_file(self) -> Path:
        """Where the JSON log lines go."""
        return self.directory / "logs.jsonl"

    def complete(self) -> bool:
        """True when every test file of both suites was collected whole and has run."""
        on_disk = {p for suite in SUITES for p in suite.glob("test_*.py")}
        return (
            bool(self.collected)
            and not self.deselected
            and self.files == on_disk
            and self.ran >= self.collected
        )


STATE = pytest.StashKey[ChatLogs]()


def in_suites(path: Path) -> bool:
    """True for a test file of the Slack or Teams suite."""
    return any(path.is_relative_to(suite) for suite in SUITES)


def chat_logs(config: pytest.Config) -> ChatLogs:
    """This run's captured logs and texts."""
    return config.stash[STATE]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: runs after the Slack and Teams suites")
    given = os.environ.get(LOG_DIR_ENV)
    if given:
        config.stash[STATE] = ChatLogs(Path(given))
        return
    temporary = tempfile.TemporaryDirectory(prefix="discretion-chat-logs-")
    config.stash[STATE] = ChatLogs(Path(temporary.name), _temporary=temporary)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None:
        return
    if os.environ.get(LOG_DIR_ENV):
        # For the parent's check: the texts the tests gave the product (made-up data).
        (state.directory / "texts.json").write_text(json.dumps(sorted(state.texts)))
    if state._temporary is not None:
        state._temporary.cleanup()


def pytest_deselected(items: list[pytest.Item]) -> None:
    if any(in_suites(item.path) for item in items):
        chat_logs(items[0].config).deselected = True


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    state = chat_logs(config)
    state.collected = {item.nodeid for item in items if in_suites(item.path)}
    state.files = {item.path for item in items if in_suites(item.path)}
    # The check reads what the suites logged, so it goes after them.
    items.sort(key=lambda item: item.get_closest_marker(MARKER) is not None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[Any]:
    if not in_suites(item.path):
        return (yield)
    state = chat_logs(item.config)
    with _capturing(state):
        result = yield
    state.ran.add(item.nodeid)
    return result


@contextlib.contextmanager
def _capturing(state: ChatLogs) -> Iterator[None]:
    """Production's JSON logging at DEBUG into the state's file; restores what was there."""
    root = logging.getLogger()
    quieter = logs.library_levels(logging.DEBUG)
    saved_levels = {name: logging.getLogger(name).level for name in quieter}
    saved_root, saved_structlog, saved_init = root.level, structlog.get_config(), Message.__init__

    def remembering(message: Message, *args: Any, **kwargs: Any) -> None:
        saved_init(message, *args, **kwargs)
        state.texts.add(message.text)
        state.texts.update(message.extra_texts)

    with state.log_file.open("a", encoding="utf-8") as stream:
        handler = logs.json_handler(stream)
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        for name, level in quieter.items():
            logging.getLogger(name).setLevel(level)
        structlog.configure(**logs.structlog_settings())
        Message.__init__ = remembering  # type: ignore[method-assign]
        try:
            yield
        finally:
            Message.__init__ = saved_init  # type: ignore[method-assign]
            structlog.configure(**saved_structlog)
            for name, level in saved_levels.items():
                logging.getLogger(name).setLevel(level)
            root.setLevel(saved_root)
            root.removeHandler(handler)
            handler.close()
