"""SQLite under many writers at once: WAL, a busy timeout and BEGIN IMMEDIATE mean nobody
ever sees "database is locked"."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from core.db.engine import session_factory
from core.db.uow import UnitOfWorkFactory
from core.ledger.models import LedgerEntry
from tests.support.factories import new_account
from tests.support.journal import fund


async def test_fifty_concurrent_writers_all_succeed(sqlite_engine, clock):
    uows = UnitOfWorkFactory(session_factory(sqlite_engine), clock)
    owner = await new_account(uows)
    results = await asyncio.gather(
        *(fund(uows, owner, 100 + i, f"PAY-{i}") for i in range(50)), return_exceptions=True
    )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    async with uows() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(LedgerEntry))
        total = await uow.session.scalar(select(func.sum(LedgerEntry.amount)))
    assert count == 50
    assert total == sum(100 + i for i in range(50))
