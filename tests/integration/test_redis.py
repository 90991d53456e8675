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
