"""Shifts: on and off, and the automatic end at the close of working hours (frozen clock)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from core.accounts.models import Account
from core.audit.models import AuditEntry
from core.members.models import Member
from core.orders.shifts import end_shifts, my_shift, set_shift
from tests.support.factories import join, new_account


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    # December 2026: the 7th is a Monday; Moscow is UTC+3; work 9–18, Monday to Friday.
    return datetime(2026, 12, day, hour - 3, minute, tzinfo=UTC)


async def on_shift(uows) -> set[str]:
    async with uows() as uow:
        return set(
            await uow.session.scalars(select(Member.username).where(Member.on_shift.is_(True)))
        )


async def test_shift_on_and_off_is_kept_and_audited(uows, clock):
    clock.set(msk(7, 9, 30))
    owner = await new_account(uows)
    petya = await join(uows, owner, 3001, username="petya")
    async with uows() as uow:
        state = await set_shift(uow, petya, True)
    assert state.on and state.since == msk(7, 9, 30)
    async with uows() as uow:
        assert (await set_shift(uow, petya, True)).since == msk(7, 9, 30)  # already on
    assert await on_shift(uows) == {"petya"}
    async with uows() as uow:
        assert not (await set_shift(uow, petya, False)).on
    async with uows() as uow:
        assert (await my_shift(uow, petya)).on is False
        actions = list(
            await uow.session.scalars(
                select(AuditEntry.action).where(AuditEntry.action.like("member.shift%"))
            )
        )
    assert actions == ["member.shift_started", "member.shift_ended"]


async def test_shifts_end_at_closing_when_the_account_asks(uows, clock):
    clock.set(msk(7, 10))
    owner = await new_account(uows)
    petya = await join(uows, owner, 3001, username="petya")
    vasya = await join(uows, owner, 3002, username="vasya")
    async with uows() as uow:
        await set_shift(uow, petya, True)
    clock.set(msk(7, 18, 30))
    assert await end_shifts(uows) == 0  # the account did not ask
    async with uows() as uow:
        await uow.session.execute(update(Account).values(shift_auto_off=True))
        await uow.commit()
    clock.set(msk(7, 17, 59))
    assert await end_shifts(uows) == 0
    clock.set(msk(7, 18))
    assert await end_shifts(uows) == 1
    assert await on_shift(uows) == set()
    clock.set(msk(7, 19))  # working late: a shift begun after the close runs to the next one
    async with uows() as uow:
        await set_shift(uow, vasya, True)
    clock.set(msk(7, 19, 5))
    assert await end_shifts(uows) == 0
    clock.set(msk(8, 12))
    assert await end_shifts(uows) == 0 and await on_shift(uows) == {"vasya"}
    clock.set(msk(8, 18, 5))
    assert await end_shifts(uows) == 1
    assert await on_shift(uows) == set()
