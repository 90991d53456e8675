"""Read-only steps of a unit of work: on SQLite no transaction and no write lock; elsewhere, or
inside an open transaction, the same reads as always."""

from __future__ import annotations

import asyncio

import aiosqlite
import pytest
from sqlalchemy import select, update

from core.db.engine import ReadOnlyStepWrite, session_factory
from core.db.uow import UnitOfWorkFactory
from core.members.access import check_access
from core.members.models import Member
from tests.support.factories import join, new_account


@pytest.fixture
def sqlite_uows(sqlite_engine, clock) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(session_factory(sqlite_engine), clock)


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """The first word of every statement SQLite receives, BEGIN included."""
    seen: list[str] = []
    real = aiosqlite.Cursor.execute

    async def spy(self, sql, parameters=None):
        seen.append(sql.split()[0])
        return await real(self, sql, parameters)

    monkeypatch.setattr(aiosqlite.Cursor, "execute", spy)
    return seen


async def test_sqlite_reads_take_no_write_lock(sqlite_engine, sqlite_uows):
    owner = await new_account(sqlite_uows)
    async with sqlite_engine.connect() as writer:
        await writer.exec_driver_sql("SELECT 1")  # BEGIN IMMEDIATE: the write lock is held
        # A read that wanted the lock would wait out the 30 s busy timeout, then fail.
        async with asyncio.timeout(10), sqlite_uows() as uow:
            access = await check_access(uow, 1000, username=None, full_name="Owner")
        await writer.rollback()
    assert access.actor.member_id == owner.member_id


async def test_sqlite_read_step_sends_no_begin_and_writes_still_take_the_lock(sqlite_uows, sent):
    await new_account(sqlite_uows)
    sent.clear()
    async with sqlite_uows() as uow:
        async with uow.reading() as conn:
            await conn.execute(select(Member.id))
        assert sent == ["SELECT"]
        await uow.session.execute(select(Member.id))  # outside the step: a write transaction
        await uow.session.execute(update(Member).values(locale="en"))
        await uow.commit()
    assert sent == ["SELECT", "BEGIN", "SELECT", "UPDATE"]


async def test_sqlite_read_step_refuses_writes(sqlite_uows):
    await new_account(sqlite_uows)
    with pytest.raises(ReadOnlyStepWrite):
        async with sqlite_uows() as uow, uow.reading() as conn:
            await conn.execute(update(Member).values(locale="en"))
    async with sqlite_uows() as uow:
        assert set(await uow.session.scalars(select(Member.locale))) == {None}


async def test_sqlite_read_only_update_sends_no_commit_or_rollback(sqlite_uows, monkeypatch):
    await new_account(sqlite_uows)
    ends: list[str] = []
    for name in ("commit", "rollback"):
        real = getattr(aiosqlite.Connection, name)

        async def spy(self, _real=real, _name=name):
            ends.append(_name)
            await _real(self)

        monkeypatch.setattr(aiosqlite.Connection, name, spy)
    async with sqlite_uows() as uow:
        await check_access(uow, 1000, username=None, full_name="Owner")
        async with uow.reading() as conn:
            await conn.execute(select(Member.id))
    assert ends == []  # nothing began, so nothing is ended: no round trip through the thread
    async with sqlite_uows() as uow:
        await uow.session.execute(select(Member.id))  # a write transaction, never committed
    assert ends == ["rollback"]


async def test_read_step_inside_a_transaction_sees_its_pending_changes(uows):
    owner = await new_account(uows)
    async with uows() as uow:
        member = await uow.session.get(Member, owner.member_id)
        member.locale = "en"  # pending, not flushed
        async with uow.reading() as conn:
            locale = await conn.scalar(select(Member.locale).where(Member.id == owner.member_id))
        assert locale == "en"
        await uow.commit()


async def test_objects_loaded_before_a_read_step_stay_readable(uows):
    owner = await new_account(uows)
    async with uows() as uow:
        member = await uow.session.get(Member, owner.member_id)
        await uow.commit()
        async with uow.reading() as conn:
            await conn.execute(select(Member.id))
        assert member.telegram_id == 1000  # not expired: no lazy load outside the loop


async def test_blocked_member_is_told_once_even_by_simultaneous_updates(uows):
    from core.members import service

    owner = await new_account(uows)
    manager = await join(uows, owner, 2001)
    async with uows() as uow:
        await service.block_member(uow, owner, manager.member_id)

    async def update_arrives():
        async with uows() as uow:
            return await check_access(uow, 2001, username="user2001", full_name="U")

    results = await asyncio.gather(*(update_arrives() for _ in range(8)))
    assert all(r.blocked and r.actor is None for r in results)
    assert sum(r.notify_blocked for r in results) == 1


async def test_access_reads_role_and_permissions_fresh(uows):
    from core.members import service

    owner = await new_account(uows)
    await join(uows, owner, 2001)
    async with uows() as uow:
        before = await check_access(uow, 2001, username=None, full_name="U")
    assert not before.actor.can("users.manage")
    async with uows() as uow:
        await service.change_role(uow, owner, before.actor.member_id, "admin")
    async with uows() as uow:
        after = await check_access(uow, 2001, username=None, full_name="U")
    assert after.actor.role_code == "admin" and after.actor.can("users.manage")
