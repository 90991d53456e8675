"""Two real bot processes share Telegram's overall send limit through Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.support.fleetsend import send_across_processes

REDIS = os.environ.get("TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(
    not REDIS, reason="TEST_REDIS_URL is needed: the shared send limit lives in Redis"
)
# A second, for the fleet: 600 messages take ~6 s. Each process alone may send this many, so
# two not sharing it would go well past it on an idle machine.
LIMIT = 100


async def test_two_processes_send_600_notifications_under_one_limit(pg_databases, tmp_path):
    url = await pg_databases.create()
    try:
        result = await send_across_processes(
            database_url=url,
            redis_url=REDIS,
            prefix=f"test-fleet:{uuid.uuid4().hex}",  # parallel runs never share a key
            folder=tmp_path,
            count=600,
            limit=LIMIT,
        )
    finally:
        await pg_databases.drop(url)
    assert (result.lost, result.duplicates, result.unsent) == (0, 0, 0)
    assert len(result.delivered) == 600
    # Both processes sent (the work was shared), and together no more than the limit a second:
    # each alone was allowed LIMIT a second, so without the shared limit they would do ~2×.
    assert sum(result.sent_by_process) == 600 and min(result.sent_by_process) > 0
    assert result.shared_window_seen  # the processes counted in one window in Redis
    assert result.most_in_one_second() <= LIMIT, result.most_in_one_second()
