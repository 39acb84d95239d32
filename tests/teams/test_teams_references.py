"""Personal conversation references in the database: SQLite always, PostgreSQL when running."""

from __future__ import annotations

import uuid

import pytest
from needs import need_service
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from discretion.adapters.teams.references import PersonalConversation, SqlReferenceStore
from discretion.store.testing import postgres_url


async def _exercise(store: SqlReferenceStore) -> None:
    await store.ensure_table()
    await store.ensure_table()  # a second start-up finds it there
    assert await store.get("t1", "u1") is None
    await store.put(
        PersonalConversation("t1", "u1", "a:one", "https://smba.example/amer/", "28:bot")
    )
    await store.put(
        PersonalConversation("t1", "u1", "a:two", "https://smba.example/emea/", "28:bot")
    )
    await store.put(PersonalConversation("t2", "u1", "a:other", "https://smba.example/amer/"))
    got = await store.get("t1", "u1")
    assert got == PersonalConversation("t1", "u1", "a:two", "https://smba.example/emea/", "28:bot")
    await store.forget("t1", "u1")
    assert await store.get("t1", "u1") is None
    assert (await store.get("t2", "u1")).conversation_id == "a:other"


async def test_sqlite(tmp_path):
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/refs.db")
    try:
        await _exercise(SqlReferenceStore(engine))
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_postgres():
    need_service("PostgreSQL", "127.0.0.1", 5432)
    url = postgres_url()
    schema = f"teams_{uuid.uuid4().hex[:8]}"
    engine = create_async_engine(url, connect_args={"server_settings": {"search_path": schema}})
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await _exercise(SqlReferenceStore(engine))
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()
