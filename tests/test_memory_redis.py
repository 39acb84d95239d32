"""Thread memory behaves the same in this process and in Redis shared by replicas."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from needs import need_service

from discretion.memory import (
    DetailHasher,
    InMemoryThreadStore,
    Remembered,
    ThreadStore,
    conversation_key,
    memory_for,
)
from discretion.memory_redis import RedisThreadStore
from discretion.message import Message

T0 = datetime(2026, 5, 11, 14, 0, tzinfo=UTC)
KEY = b"s" * 32
WINDOW = 24 * 3600.0

# Our own thread: each part alone is vague; together they point at one person.
PART_1 = "lady in side room 3 has a nasty burn on her arm"
PART_2 = "she's a lollipop lady, slipped at the school gates in Ashcombe this morning"

Factory = Callable[..., ThreadStore]


def _redis_client() -> object:
    import redis

    return redis.Redis(host="127.0.0.1", port=6379)


@pytest.fixture(params=["memory", "redis"])
def make_store(request: pytest.FixtureRequest) -> Iterator[Factory]:
    """Builds thread stores of one kind; Redis ones share a fresh prefix (as replicas would)."""
    if request.param == "memory":
        shared: dict[tuple[float, int], InMemoryThreadStore] = {}

        def memory(window: float = WINDOW, max_messages: int = 50) -> ThreadStore:
            # One process: "another replica" is the same store.
            return shared.setdefault(
                (window, max_messages), InMemoryThreadStore(window, 100, max_messages)
            )

        yield memory
        return
    need_service("Redis", "127.0.0.1", 6379)
    prefix = f"test:thread:{uuid.uuid4().hex}:"
    clients: list[object] = []

    def in_redis(window: float = WINDOW, max_messages: int = 50) -> ThreadStore:
        client = _redis_client()
        clients.append(client)
        return RedisThreadStore(client, KEY, window, max_messages, prefix=prefix)

    yield in_redis
    if clients:
        first = clients[0]
        keys = first.keys(prefix + "*")  # type: ignore[attr-defined]
        if keys:
            first.delete(*keys)  # type: ignore[attr-defined]
        for client in clients:
            client.close()  # type: ignore[attr-defined]


def _msg(text: str, minutes: int = 0, author: str = "U7", thread: str = "T7") -> Message:
    return Message(
        text=text,
        channel="C7",
        author=author,
        thread=thread,
        platform="slack",
        sent_at=T0 + timedelta(minutes=minutes),
    )


def test_it_is_a_thread_store(make_store: Factory) -> None:
    assert isinstance(make_store(), ThreadStore)


def test_details_add_up_across_replicas(engine, make_store: Factory) -> None:
    one, two = make_store(), make_store()
    assert not engine.assess(_msg(PART_1), one).warn
    assert engine.assess(_msg(PART_2, 3), two).warn  # the other replica saw the first part


def test_alone_the_second_part_does_not_warn(engine, make_store: Factory) -> None:
    assert not engine.assess(_msg(PART_2, 3), make_store()).warn


def test_another_author_or_thread_starts_afresh(engine, make_store: Factory) -> None:
    store = make_store()
    engine.assess(_msg(PART_1), store)
    assert not engine.assess(_msg(PART_2, 3, author="U8"), store).warn
    assert not engine.assess(_msg(PART_2, 3, thread="T8"), store).warn


def test_entries_older_than_the_window_are_not_recalled(make_store: Factory) -> None:
    store = make_store(window=60)
    store.remember("k", Remembered(at=1000.0, context=0.9))
    store.remember("k", Remembered(at=1050.0, context=0.2))
    assert [e.context for e in store.recall("k", 1055.0)] == [0.9, 0.2]
    assert [e.context for e in store.recall("k", 1100.0)] == [0.2]
    assert store.recall("k", 1200.0) == ()


def test_only_the_newest_messages_are_kept(make_store: Factory) -> None:
    store = make_store(max_messages=3)
    for i in range(6):
        store.remember("k", Remembered(at=1000.0 + i, context=i / 10))
    assert [e.at for e in store.recall("k", 1010.0)] == [1003.0, 1004.0, 1005.0]


def test_features_round_trip_exactly(make_store: Factory) -> None:
    store = make_store()
    entry = Remembered(
        at=1234.5,
        context=0.75,
        categories={"occupation": 0.25, "place": 0.35},
        labels={"occupation": "a job", "place": "a place"},
        hashes=frozenset({"0123456789abcdef", "fedcba9876543210"}),
        identifiers=2,
    )
    store.remember("k", entry)
    assert store.recall("k", 1300.0) == (entry,)


@pytest.fixture
def redis_store() -> Iterator[tuple[RedisThreadStore, object]]:
    need_service("Redis", "127.0.0.1", 6379)
    client = _redis_client()
    prefix = f"test:thread:{uuid.uuid4().hex}:"
    yield RedisThreadStore(client, KEY, WINDOW, 5, prefix=prefix), client
    keys = client.keys(prefix + "*")  # type: ignore[attr-defined]
    if keys:
        client.delete(*keys)  # type: ignore[attr-defined]
    client.close()  # type: ignore[attr-defined]


def test_redis_holds_no_words_no_ids_and_forgets_by_itself(
    engine, redis_store: tuple[RedisThreadStore, object]
) -> None:
    store, client = redis_store
    engine.assess(_msg(PART_2), store)
    conversation = conversation_key(_msg(PART_2))
    assert conversation is not None
    (name,) = client.keys(store.prefix + "*")  # type: ignore[attr-defined]
    assert conversation not in name.decode() and "U7" not in name.decode()
    ttl = client.ttl(name)  # type: ignore[attr-defined]
    assert 0 < ttl <= WINDOW
    raw = b"".join(client.lrange(name, 0, -1)).decode()  # type: ignore[attr-defined]
    assert json.loads(raw)["categories"]  # it did remember something
    for word in ("lollipop", "school", "Ashcombe", "morning", "slipped"):
        assert word.lower() not in raw.lower()


def test_a_store_with_another_key_does_not_find_the_conversation(
    redis_store: tuple[RedisThreadStore, object],
) -> None:
    store, client = redis_store
    store.remember("k", Remembered(at=1.0, context=0.5))
    other = RedisThreadStore(client, b"o" * 32, WINDOW, prefix=store.prefix)
    assert other.recall("k", 2.0) == ()
    assert len(store.recall("k", 2.0)) == 1


def test_a_stray_entry_is_skipped(redis_store: tuple[RedisThreadStore, object]) -> None:
    store, client = redis_store
    store.remember("k", Remembered(at=1.0, context=0.5))
    client.rpush(store._name("k"), b"not json")  # type: ignore[attr-defined]
    assert [e.context for e in store.recall("k", 2.0)] == [0.5]


def test_when_redis_is_down_messages_are_still_assessed_alone(engine) -> None:
    import redis

    down = RedisThreadStore(redis.Redis(host="127.0.0.1", port=1), KEY, WINDOW)
    down.remember("k", Remembered(at=1.0, context=0.5))  # logged, not raised
    assert down.recall("k", 2.0) == ()
    assert not engine.assess(_msg(PART_2), down).warn


def test_replicas_hash_details_alike_only_when_sharing_redis(monkeypatch) -> None:
    monkeypatch.setenv("DISCRETION_SECRET_KEY", "x" * 40)
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert DetailHasher()("QUASI_PLACE", "ashcombe") != DetailHasher()("QUASI_PLACE", "ashcombe")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert DetailHasher()("QUASI_PLACE", "ashcombe") == DetailHasher()("QUASI_PLACE", "ashcombe")
    first = DetailHasher()("QUASI_PLACE", "ashcombe")
    monkeypatch.setenv("DISCRETION_SECRET_KEY", "y" * 40)
    assert DetailHasher()("QUASI_PLACE", "ashcombe") != first


def test_memory_for_chooses_redis_when_redis_url_is_set(settings, monkeypatch) -> None:
    monkeypatch.setenv("DISCRETION_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    store = memory_for(settings)
    assert isinstance(store, RedisThreadStore)
    assert store.window_seconds == settings.risk.memory_window_hours * 3600
    assert store.max_messages == settings.risk.memory_max_messages
    store.client.close()
    monkeypatch.delenv("REDIS_URL")
    assert isinstance(memory_for(settings), InMemoryThreadStore)
