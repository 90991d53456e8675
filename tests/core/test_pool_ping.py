"""PostgreSQL's pooled connections are pinged at checkout only after sitting idle
(core.db.engine.PING_AFTER_IDLE): a dead one is still replaced before use, and one back from a
request a moment ago costs no round trip (issue #25). Counted, not timed: the idle bound is
set to 0 (every reuse pinged) or an hour (none)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from core.db.engine import create_engine


def _engine(pg_schema, idle: float):
    engine = create_engine(pg_schema.url, pool_size=1, ping_after_idle=idle)
    pings: list[object] = []
    dialect = engine.sync_engine.dialect
    real = dialect.do_ping

    def counted(dbapi_connection):
        pings.append(dbapi_connection)
        return real(dbapi_connection)

    dialect.do_ping = counted  # the instance's: the checkout listener calls it
    return engine, pings


async def _pid(engine) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(text("SELECT pg_backend_pid()"))


async def test_a_connection_that_died_while_idle_is_replaced_before_use(pg_schema):
    engine, pings = _engine(pg_schema, idle=0)
    admin = create_engine(pg_schema.url, pool_size=1)
    try:
        first = await _pid(engine)
        async with admin.connect() as conn:
            assert await conn.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": first})
            gone = text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p")
            for _ in range(500):  # the backend ends a moment after it is told to
                if not await conn.scalar(gone, {"p": first}):
                    break
                await asyncio.sleep(0.01)
        second = await _pid(engine)  # no error: the ping found it dead, the pool reconnected
        assert second != first
        assert len(pings) == 1
    finally:
        await engine.dispose()
        await admin.dispose()


async def test_a_connection_back_a_moment_ago_is_not_pinged(pg_schema):
    engine, pings = _engine(pg_schema, idle=3600)
    try:
        pids = {await _pid(engine) for _ in range(5)}
        assert len(pids) == 1  # the one pooled connection, reused
        assert pings == []
    finally:
        await engine.dispose()
    engine, pings = _engine(pg_schema, idle=0)
    try:
        for _ in range(5):
            await _pid(engine)
        assert len(pings) == 4  # each reuse; the fresh connection is not pinged
    finally:
        await engine.dispose()
