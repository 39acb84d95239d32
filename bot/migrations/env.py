"""Alembic environment: runs on a connection the store hands over, or on DATABASE_URL.

The server migrates itself at start-up (``discretion.store.Store.migrate``), passing
its connection in ``config.attributes["connection"]``. Run by hand (``alembic -c
...``) it connects to ``DATABASE_URL`` (or the default SQLite file) itself.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from discretion.store.db import database_url
from discretion.store.models import Base

target_metadata = Base.metadata


def _run(connection) -> None:
    # Batch mode lets later revisions alter tables on SQLite, which cannot ALTER much.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_own() -> None:
    engine = create_async_engine(database_url())
    async with engine.begin() as conn:
        await conn.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
    else:
        asyncio.run(_run_own())
