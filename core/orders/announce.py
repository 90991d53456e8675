"""Who hears about new unassigned orders: opted-in members and the manager group chat."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Boolean, Select, bindparam, delete, literal, null, select, union_all

from core.accounts.models import Account
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.errors import Conflict, InvalidInput
from core.members.actor import Actor
from core.members.models import Member, MemberStatus, Role
from core.members.permissions import Perm, parse_perms
from core.notifications.outbox import Recipient
from core.orders.models import ManagerGroup, OrderSubscription


@cache
def _recipients_query() -> Select:
    """Built once (each call binds the account): it runs for every order that arrives."""
    account_id = bindparam("account_id")
    is_group = literal(False, Boolean).label("is_group")
    members = (
        select(Member.id, Member.telegram_id, Member.locale, Role.permissions, is_group)
        .join(OrderSubscription, OrderSubscription.member_id == Member.id)
        .join(Role, Role.id == Member.role_id)
        .where(
            Member.account_id == account_id,
            Member.status == MemberStatus.ACTIVE,
            Member.unreachable.is_(False),
        )
    )
    group = select(null(), ManagerGroup.chat_id, null(), null(), literal(True, Boolean)).where(
        ManagerGroup.account_id == account_id
    )
    everyone = union_all(members, group).subquery()
    return select(everyone).order_by(everyone.c.is_group, everyone.c.id)


async def announcement_recipients(uow: UnitOfWork, account: Account) -> list[Recipient]:
    """Everyone to tell about a new unassigned order: active, reachable members who opted in
    and can claim (blocked ones never), and the linked manager group (last). One statement: it
    runs for every order that arrives."""
    rows = await uow.session.execute(_recipients_query(), {"account_id": account.id})
    recipients = []
    for member_id, chat_id, locale, permissions, in_group in rows:
        if in_group:
            recipients.append(Recipient(chat_id, account.locale, is_group=True))
        elif Perm.ORDERS_CLAIM in parse_perms(permissions):
            recipients.append(Recipient(chat_id, locale or account.locale, member_id))
    return recipients


# ---- /notify orders on|off -------------------------------------------------------------------


async def order_notifications(uow: UnitOfWork, actor: Actor) -> bool:
    actor.require(Perm.ORDERS_CLAIM)
    found = await uow.session.scalar(
        select(OrderSubscription.id).where(OrderSubscription.member_id == actor.member_id)
    )
    return found is not None


async def set_order_notifications(uow: UnitOfWork, actor: Actor, on: bool) -> bool:
    actor.require(Perm.ORDERS_CLAIM)
    actor.require_writable()
    if on:
        if not await order_notifications(uow, actor):
            uow.session.add(
                OrderSubscription(
                    account_id=actor.account_id,
                    member_id=actor.member_id,
                    created_at=uow.clock.now(),
                )
            )
    else:
        await uow.session.execute(
            delete(OrderSubscription).where(OrderSubscription.member_id == actor.member_id)
        )
    await uow.commit()
    return on


def parse_switch(value: str) -> bool:
    word = value.strip().lower()
    if word in {"on", "вкл", "да", "yes", "1"}:
        return True
    if word in {"off", "выкл", "нет", "no", "0"}:
        return False
    raise InvalidInput("switch_word", value=value[:20])


# ---- /linkgroup ------------------------------------------------------------------------------


async def _group(uow: UnitOfWork, account_id: int) -> ManagerGroup | None:
    return (
        await uow.session.scalars(select(ManagerGroup).where(ManagerGroup.account_id == account_id))
    ).first()


async def link_group(uow: UnitOfWork, actor: Actor, chat_id: int, title: str) -> ManagerGroup:
    """Makes this group chat the account's manager group (replacing a previous one)."""
    actor.require(Perm.USERS_MANAGE)
    actor.require_writable()
    taken = (
        await uow.session.scalars(select(ManagerGroup).where(ManagerGroup.chat_id == chat_id))
    ).first()
    if taken is not None and taken.account_id != actor.account_id:
        raise Conflict("group_taken")
    group = taken or await _group(uow, actor.account_id)
    before = {"chat": group.title} if group is not None else None
    if group is None:
        group = ManagerGroup(account_id=actor.account_id)
        uow.session.add(group)
    group.chat_id, group.title = chat_id, title[:255]
    group.linked_by, group.linked_at = actor.member_id, uow.clock.now()
    await uow.session.flush()
    audit(uow, actor, "group.linked", group, before=before, after={"chat": group.title})
    await uow.commit()
    return group


async def unlink_group(uow: UnitOfWork, actor: Actor) -> None:
    actor.require(Perm.USERS_MANAGE)
    actor.require_writable()
    group = await _group(uow, actor.account_id)
    if group is None:
        raise InvalidInput("no_group")
    audit(uow, actor, "group.unlinked", group, before={"chat": group.title})
    await uow.session.delete(group)
    await uow.commit()
