"""Throw-away stores for tests: a SQLite file in a temporary folder, or a fresh PostgreSQL schema.

Shipped with the package so every part's tests (and a site's own) get the same thing:
a migrated, empty database that disappears afterwards.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from discretion.store.db import Store

POSTGRES_URL_ENV = "DISCRETION_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TEST_KEY = b"k" * 32


def postgres_url() -> str:
    """The PostgreSQL server tests use (``$DISCRETION_TEST_POSTGRES_URL`` or the local one)."""
    return os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)


@asynccontextmanager
async def temporary_store(
    kind: str = "sqlite", *, clock: Callable[[], datetime] | None = None
) -> AsyncIterator[Store]:
    """A migrated, empty :class:`Store` (``kind`` "sqlite" or "postgresql"), removed afterwards."""
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="discretion-") as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'test.db'}"
            store = Store(url, message_key=TEST_KEY, **extra)
            try:
                await store.migrate()
                yield store
            finally:
                await store.close()
        return
    if kind != "postgresql":
        raise ValueError(f"unknown store kind {kind!r}")
    schema = "t_" + secrets.token_hex(6)
    admin = create_async_engine(postgres_url())
    try:
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        store = Store(postgres_url(), schema=schema, message_key=TEST_KEY, **extra)
        try:
            await store.migrate()
            yield store
        finally:
            await store.close()
            async with admin.begin() as conn:
                await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        await admin.dispose()


def reopen(store: Store) -> Store:
    """A second Store on the same database, as after a restart of the server."""
    return Store(store.url, schema=store.schema, message_key=store.message_key, clock=store.clock)
