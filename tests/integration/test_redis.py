"""Two bot processes sharing Redis: dialogs, processed updates and flood counters."""

from __future__ import annotations

import os
import random

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.console.chat import ChatClient, OfflineSession
from core.settings import Settings
from shopdesk.app import build_app
from tests.support.factories import join, new_account

REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="TEST_REDIS_URL is not set: Redis tests skipped (.ci/run sets it)"
)


@pytest.fixture
async def fleet(sqlite_url, clock):
    """Two apps on one database and one Redis, as two processes would be."""
    settings = Settings(_env_file=None, database_url=sqlite_url, redis_url=REDIS_URL)
    apps = [build_app(settings, session=OfflineSession(), clock=clock) for _ in range(2)]
    yield apps
    for app in apps:
        await app.dp.storage.close()
        await app.engine.dispose()


async def test_a_dialog_started_on_one_process_continues_on_another(fleet):
    first, second = fleet
    user = random.randint(10**9, 2 * 10**9)
    key = StorageKey(bot_id=first.bot.id, chat_id=user, user_id=user)
    await first.dp.storage.set_state(key, "NewOrder:total")
    await first.dp.storage.set_data(key, {"number": "A-1"})
    assert await second.dp.storage.get_state(key) == "NewOrder:total"
    assert await second.dp.storage.get_data(key) == {"number": "A-1"}


async def test_an_update_redelivered_to_another_process_runs_once(fleet, clock):
    first, second = fleet
    owner = await new_account(first.uows)
    await join(first.uows, owner, 3001, username="petya")
    a = ChatClient(first.dp, first.bot, 1000)
    b = ChatClient(second.dp, second.bot, 1000)
    update = a.message_update("/help")
    update = update.model_copy(update={"update_id": random.randint(10**9, 2 * 10**9)})
    assert len((await a.feed(update)).messages) == 1
    assert (await b.feed(update)).requests == []


async def test_flood_counter_is_shared(fleet):
    first, second = fleet
    memory_a, memory_b = first.flood_memory, second.flood_memory
    memory_a._now = memory_b._now = lambda: 1_000_000.0
    user = random.randint(10**9, 2 * 10**9)
    results = [await (memory_a if i % 2 else memory_b).hit(user) for i in range(22)]
    assert [allowed for allowed, _ in results].count(True) == 20
    assert [notify for _, notify in results].count(True) == 1


async def test_seen_means_handled_and_a_crashed_process_s_mark_lapses_quickly():
    """Long polling's shared memory: an update begun by a process that then died runs again
    once the short in-progress mark lapses; one handled is skipped for the long TTL."""
    import asyncio

    from redis.asyncio import Redis

    from bot.guards import RedisUpdateMemory

    redis = Redis.from_url(REDIS_URL)
    prefix = f"test:update:{random.randint(10**9, 2 * 10**9)}"
    try:
        dead = RedisUpdateMemory(redis, busy_ttl=1, wait_step=0.05, prefix=prefix)
        alive = RedisUpdateMemory(redis, busy_ttl=1, wait_step=0.05, prefix=prefix)
        assert await dead.begin(1)  # ... and the process dies before finishing
        assert 0 < await redis.ttl(f"{prefix}:1") <= 1
        assert await alive.begin(1)  # waited for the mark to lapse, then runs it
        await alive.finish(1, ok=True)
        assert await redis.ttl(f"{prefix}:1") > 1000  # handled: remembered for the hour
        assert not await dead.begin(1)

        # Begun elsewhere and still running: the redelivery waits to see how it ends.
        busy = RedisUpdateMemory(redis, busy_ttl=60, prefix=prefix)
        assert await busy.begin(2)
        waiting = asyncio.create_task(alive.begin(2))
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await busy.finish(2, ok=True)
        assert await waiting is False
        # Failed elsewhere: forgotten, so the redelivery runs.
        assert await busy.begin(3)
        waiting = asyncio.create_task(alive.begin(3))
        await busy.finish(3, ok=False)
        assert await waiting is True
    finally:
        await redis.delete(*[f"{prefix}:{n}" for n in (1, 2, 3)])
        await redis.aclose()


async def test_deployments_sharing_one_redis_keep_apart_by_prefix(sqlite_url, clock):
    """REDIS_PREFIX: two shops' bots on one Redis see neither each other's dialogs, nor
    update marks, nor flood counters."""
    apps = [
        build_app(
            Settings(_env_file=None, database_url=sqlite_url, redis_url=REDIS_URL, redis_prefix=p),
            session=OfflineSession(),
            clock=clock,
        )
        for p in (f"shop-a-{random.random()}", f"shop-b-{random.random()}")
    ]
    try:
        first, second = apps
        user = random.randint(10**9, 2 * 10**9)
        key = StorageKey(bot_id=first.bot.id, chat_id=user, user_id=user)
        await first.dp.storage.set_state(key, "NewOrder:total")
        assert await second.dp.storage.get_state(key) is None
        update_id = random.randint(10**9, 2 * 10**9)
        assert await first.update_memory.begin(update_id)
        await first.update_memory.finish(update_id, ok=True)
        assert await second.update_memory.begin(update_id)
        first.flood_memory._now = second.flood_memory._now = lambda: 1_000_000.0
        for _ in range(20):
            await first.flood_memory.hit(user)
        assert (await second.flood_memory.hit(user))[0] is True
        assert (await first.flood_memory.hit(user))[0] is False
    finally:
        for app in apps:
            await app.dp.storage.close()
            await app.engine.dispose()
