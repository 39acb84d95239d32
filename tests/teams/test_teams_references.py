"""Personal conversation references in the database: SQLite always, PostgreSQL when running."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from needs import need_service
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from teams_support import activity, start_server

from discretion.adapters.teams.references import PersonalConversation, SqlReferenceStore
from discretion.store.testing import postgres_url, temporary_store


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


async def _exercise_together(engine) -> None:
    """Many saves and look-ups at once share statements; each caller gets its own answer."""
    writer = SqlReferenceStore(engine)
    refs = [
        PersonalConversation(f"t{i % 3}", f"u{i}", f"a:{i}", "https://smba.example/amer/")
        for i in range(60)
    ]
    # The same person twice in one group: the later reference is the one kept.
    await asyncio.gather(
        *(writer.put(r) for r in refs),
        writer.put(PersonalConversation("t0", "u0", "a:again", "https://smba.example/emea/")),
    )
    reader = SqlReferenceStore(engine)  # a fresh cache: every answer comes from the table
    got = await asyncio.gather(
        *(reader.get(r.tenant_id, r.user_id) for r in refs), reader.get("t1", "u0")
    )
    assert got[0] == PersonalConversation("t0", "u0", "a:again", "https://smba.example/emea/")
    assert got[1:60] == refs[1:]
    assert got[60] is None  # u0 lives in tenant t0 only


async def test_sqlite(tmp_path):
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/refs.db")
    try:
        await _exercise(SqlReferenceStore(engine))
        await _exercise_together(engine)
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
        await _exercise_together(engine)
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()


async def test_store_migrations_create_the_table_and_the_server_uses_it(
    settings, engine, openid, connector
):
    async with temporary_store() as store:
        refs = SqlReferenceStore(store.engine)
        assert await refs.get("t", "u") is None  # the table is there without ensure_table
        server, runner = await start_server(settings, engine, openid, connector, store=store)
        try:
            body = activity(
                "channel-message-mention-thread-reply",
                serviceUrl=connector.url,
                text="<at>ridotest</at> NHS 943 476 5919 is ready for discharge",
            )
            assert (await server.post(body)).status == 201
            await server.settle()
            saved = await refs.get(
                "50612dbb-0237-4969-b378-8d42590f9c00", "b15a9416-0ad3-4172-9210-7beb711d3f70"
            )
            assert saved is not None
            assert saved.conversation_id == "a:personal-b15a9416-0ad3-4172-9210-7beb711d3f70"
            assert saved.service_url == connector.url
        finally:
            await server.close()
            await runner.cleanup()


async def test_a_replica_reads_each_reference_once_and_writes_every_change(tmp_path):
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/refs.db")
    try:
        one, two = SqlReferenceStore(engine), SqlReferenceStore(engine)
        await one.ensure_table()
        ref = PersonalConversation("t1", "u1", "a:one", "https://smba.example/amer/", "28:bot")
        await one.put(ref)
        assert await two.get("t1", "u1") == ref  # read from the database, then held
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM teams_conversations"))
        # Held copies answer without the database; a send to a gone chat is what
        # tells a replica to forget (test_teams_flow covers that path).
        assert await two.get("t1", "u1") == ref
        await two.forget("t1", "u1")
        assert await two.get("t1", "u1") is None
        # Saying it again writes it again (it may have been removed meanwhile).
        await one.put(ref)
        assert await SqlReferenceStore(engine).get("t1", "u1") == ref
        moved = PersonalConversation("t1", "u1", "a:two", "https://smba.example/emea/", "28:bot")
        await one.put(moved)
        assert await SqlReferenceStore(engine).get("t1", "u1") == moved
    finally:
        await engine.dispose()
