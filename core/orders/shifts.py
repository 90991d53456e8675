"""Shifts: a manager on shift gets re-announced unclaimed orders and, when the account
distributes automatically, new orders. `/shift on|off`; the account may end every shift at
the close of working hours (`shift_auto_off`, the `end_shifts` job)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from core.accounts.hours import working_day
from core.accounts.models import Account
from core.audit.service import audit
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.members.actor import Actor
from core.members.models import Member, MemberStatus
from core.members.permissions import Perm

EVERY = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class ShiftState:
    on: bool
    since: datetime | None


async def my_shift(uow: UnitOfWork, actor: Actor) -> ShiftState:
    actor.require(Perm.ORDERS_CLAIM)
    member = await uow.session.get(Member, actor.member_id)
    return ShiftState(member.on_shift, member.shift_started_at if member.on_shift else None)


async def set_shift(uow: UnitOfWork, actor: Actor, on: bool) -> ShiftState:
    """Starts or ends the actor's shift (nothing changes when it already is so)."""
    actor.require(Perm.ORDERS_CLAIM)
    actor.require_writable()
    member = await uow.session.get(Member, actor.member_id)
    if member.on_shift != on:
        member.on_shift = on
        member.shift_started_at = uow.clock.now() if on else None
        if on:
            audit(uow, actor, "member.shift_started", member)
        else:
            audit(uow, actor, "member.shift_ended", member)
        await uow.commit()
    return ShiftState(member.on_shift, member.shift_started_at if on else None)


def last_closing(account: Account, now: datetime) -> datetime | None:
    """The latest end of a working day at or before `now` (None: none in the past week)."""
    zone = ZoneInfo(account.timezone)
    day = now.astimezone(zone).date()
    for _ in range(8):
        if working_day(account, day):
            closing = datetime.combine(day, time(account.work_end), zone)
            if closing <= now:
                return closing
        day -= timedelta(days=1)
    return None


async def end_shifts(uows: UnitOfWorkFactory) -> int:
    """Ends the shifts that began before the last close of working hours, in accounts that
    asked for it; a shift started after the close (working late) runs until the next one."""
    ended = 0
    async with uows() as uow:
        accounts = list(
            await uow.session.scalars(select(Account).where(Account.shift_auto_off.is_(True)))
        )
        now = uow.clock.now()
        for account in accounts:
            closing = last_closing(account, now)
            if closing is None:
                continue
            result = await uow.session.execute(
                update(Member)
                .where(
                    Member.account_id == account.id,
                    Member.on_shift.is_(True),
                    Member.status == MemberStatus.ACTIVE,
                    Member.shift_started_at < closing,
                )
                .values(on_shift=False, shift_started_at=None)
                .execution_options(synchronize_session=False)
            )
            ended += result.rowcount
        await uow.commit()
    return ended
