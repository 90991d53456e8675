"""Building accounts and members through the real core services."""

from __future__ import annotations

from datetime import timedelta

from core.accounts.service import NewAccount, create_account
from core.db.uow import UnitOfWorkFactory
from core.members.access import actor_from, load_member
from core.members.actor import Actor
from core.members.invites import accept_invite, create_invite
from core.members.models import MemberStatus

OWNER_TG = 1000


async def actor_for(uows: UnitOfWorkFactory, telegram_id: int) -> Actor:
    async with uows() as uow:
        found = await load_member(uow, telegram_id)
    assert found is not None, f"{telegram_id} is not a member"
    member, account = found
    assert member.status == MemberStatus.ACTIVE, f"{telegram_id} is {member.status}"
    return actor_from(member, account, uows.clock.now())


async def new_account(
    uows: UnitOfWorkFactory, *, owner_tg: int = OWNER_TG, name: str = "Shop", **kwargs
) -> Actor:
    async with uows() as uow:
        await create_account(uow, NewAccount(name=name, owner_telegram_id=owner_tg, **kwargs))
    return await actor_for(uows, owner_tg)


async def join(
    uows: UnitOfWorkFactory,
    inviter: Actor,
    telegram_id: int,
    role: str = "manager",
    *,
    username: str | None = None,
) -> Actor:
    async with uows() as uow:
        created = await create_invite(uow, inviter, role, ttl=timedelta(hours=48))
    async with uows() as uow:
        await accept_invite(
            uow,
            created.token,
            telegram_id=telegram_id,
            username=username or f"user{telegram_id}",
            full_name=f"User {telegram_id}",
        )
    return await actor_for(uows, telegram_id)
