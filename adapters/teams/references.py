"""Where to reach each person privately: their 1:1 conversation with the bot.

Teams has no ephemeral messages, so the warning goes to the poster's personal
chat with Discretion. Creating that conversation costs a call each time; its id
is kept here per tenant and person (Azure AD object id). Ids only: nothing here
is message content. The SQL store shares the server's database engine; its table
is created by the store's migration ``0003_teams_conversations``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from discretion.grouping import Grouped

TABLE = "teams_conversations"

metadata = sa.MetaData()
conversations = sa.Table(
    TABLE,
    metadata,
    sa.Column("tenant_id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(128), primary_key=True),  # Azure AD object id
    sa.Column("conversation_id", sa.String(512), nullable=False),
    sa.Column("service_url", sa.String(512), nullable=False),
    sa.Column("bot_id", sa.String(128), nullable=False, server_default=""),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True, slots=True)
class PersonalConversation:
    """One person's 1:1 chat with the bot: enough to message them later."""

    tenant_id: str
    user_id: str
    conversation_id: str
    service_url: str
    bot_id: str = ""


class ReferenceStore(Protocol):
    async def get(self, tenant_id: str, user_id: str) -> PersonalConversation | None:
        """The person's 1:1 conversation, if we know it."""
        ...

    async def put(self, ref: PersonalConversation) -> None:
        """Remember (or replace) the person's 1:1 conversation."""
        ...

    async def forget(self, tenant_id: str, user_id: str) -> None:
        """Drop it (the person uninstalled the app, or it no longer works)."""
        ...


class MemoryReferenceStore:
    """References held in this process: for a server without a database, and for tests."""

    def __init__(self) -> None:
        self._refs: dict[tuple[str, str], PersonalConversation] = {}

    async def get(self, tenant_id: str, user_id: str) -> PersonalConversation | None:
        return self._refs.get((tenant_id, user_id))

    async def put(self, ref: PersonalConversation) -> None:
        self._refs[(ref.tenant_id, ref.user_id)] = ref

    async def forget(self, tenant_id: str, user_id: str) -> None:
        self._refs.pop((tenant_id, user_id), None)

    def __len__(self) -> int:
        return len(self._refs)


class SqlReferenceStore:
    """References in the server's database (SQLite or PostgreSQL), table ``teams_conversations``.

    Look-ups and saves that arrive together share one statement (see
    :mod:`discretion.grouping`): at a hundred warnings a second, most from people
    not seen since the server started, that is one query for many rather than one each.
    """

    def __init__(self, engine: AsyncEngine, cache_size: int = 10_000):
        self.engine = engine
        # Read-through copy of recent rows: a repeat poster costs no database read. A row
        # another replica removed is caught anyway: sending to a gone chat fails, and the
        # Messenger forgets it and asks for a new one.
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], PersonalConversation] = OrderedDict()
        self._lookup: Grouped[tuple[str, str], PersonalConversation | None] = Grouped(
            self._get_many
        )
        self._save: Grouped[PersonalConversation, None] = Grouped(self._put_many)

    def _keep(self, ref: PersonalConversation) -> None:
        key = (ref.tenant_id, ref.user_id)
        self._cache[key] = ref
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def ensure_table(self) -> None:
        """Create the table on a database without the store's migrations (a no-op once there)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all, checkfirst=True)

    async def get(self, tenant_id: str, user_id: str) -> PersonalConversation | None:
        held = self._cache.get((tenant_id, user_id))
        if held is not None:
            return held
        found = await self._lookup((tenant_id, user_id))
        if found is not None:
            self._keep(found)
        return found

    async def _get_many(self, keys: list[tuple[str, str]]) -> list[PersonalConversation | None]:
        c = conversations.c
        query = sa.select(conversations).where(
            sa.tuple_(c.tenant_id, c.user_id).in_(sorted(set(keys)))
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        found = {
            (r["tenant_id"], r["user_id"]): PersonalConversation(
                r["tenant_id"], r["user_id"], r["conversation_id"], r["service_url"], r["bot_id"]
            )
            for r in rows
        }
        return [found.get(key) for key in keys]

    async def put(self, ref: PersonalConversation) -> None:
        await self._save(ref)
        self._keep(ref)

    async def _put_many(self, refs: list[PersonalConversation]) -> list[None]:
        now = datetime.now(UTC)
        latest = {(r.tenant_id, r.user_id): r for r in refs}  # the last word for each person
        rows = [
            {
                "tenant_id": r.tenant_id,
                "user_id": r.user_id,
                "conversation_id": r.conversation_id,
                "service_url": r.service_url,
                "bot_id": r.bot_id,
                "updated_at": now,
            }
            for r in latest.values()
        ]
        insert = (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(
            conversations
        )
        upsert = insert.on_conflict_do_update(
            index_elements=[conversations.c.tenant_id, conversations.c.user_id],
            set_={
                name: insert.excluded[name]
                for name in ("conversation_id", "service_url", "bot_id", "updated_at")
            },
        )
        async with self.engine.begin() as conn:
            await conn.execute(upsert, rows)
        return [None] * len(refs)

    async def forget(self, tenant_id: str, user_id: str) -> None:
        self._cache.pop((tenant_id, user_id), None)
        async with self.engine.begin() as conn:
            await conn.execute(
                sa.delete(conversations).where(
                    conversations.c.tenant_id == tenant_id, conversations.c.user_id == user_id
                )
            )
