"""/digest: a member turns their morning digest on or off; the owner sets its hour."""

from __future__ import annotations

from dataclasses import dataclass

from core.accounts.models import Account
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.members.models import Member


@dataclass(frozen=True, slots=True)
class DigestState:
    on: bool
    hour: int  # the account's local digest hour
    work_days: str  # ISO weekday digits it goes out on
    is_owner: bool  # the owner's digest also has the balance and the paid-through date


async def _state(uow: UnitOfWork, actor: Actor, member: Member) -> DigestState:
    account = await uow.session.get(Account, actor.account_id)
    return DigestState(member.digest, account.digest_hour, account.work_days, actor.is_owner)


async def digest_state(uow: UnitOfWork, actor: Actor) -> DigestState:
    return await _state(uow, actor, await uow.session.get(Member, actor.member_id))


async def set_digest(uow: UnitOfWork, actor: Actor, on: bool) -> DigestState:
    """Every member decides for themselves (no permission needed, the account may be read-only:
    it changes no account data)."""
    member = await uow.session.get(Member, actor.member_id)
    if member.digest != on:
        member.digest = on
        before, after = {"digest": not on}, {"digest": on}
        audit(uow, actor, "member.digest_changed", member, before=before, after=after)
        await uow.commit()
    return await _state(uow, actor, member)
