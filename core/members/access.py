"""Who may use the bot: membership and block check for every incoming update."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select, update

from core.accounts.models import Account
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.members.models import Member, MemberStatus
from core.members.permissions import parse_perms
from core.tariff.pricing import is_lapsed, local_date


@dataclass(frozen=True, slots=True)
class Access:
    """The outcome for one update: a member, a blocked member, or a stranger."""

    actor: Actor | None
    blocked: bool = False
    # True only for the first update after the block: that one gets the polite reply.
    notify_blocked: bool = False
    locale: str | None = None
    # The lapsed paid-through date, set only on the one update that should explain read-only.
    read_only_since: date | None = None


def actor_from(member: Member, account: Account, now: datetime | None = None) -> Actor:
    """`now` decides whether the account has lapsed into read-only (None: not checked)."""
    read_only = now is not None and is_lapsed(
        account.paid_through, local_date(now, account.timezone)
    )
    return Actor(
        member_id=member.id,
        account_id=account.id,
        telegram_id=member.telegram_id,
        role_code=member.role.code,
        permissions=parse_perms(member.role.permissions),
        locale=member.locale or account.locale,
        timezone=account.timezone,
        read_only=read_only,
    )


async def load_member(uow: UnitOfWork, telegram_id: int) -> tuple[Member, Account] | None:
    row = (
        await uow.session.execute(
            select(Member, Account)
            .join(Account, Account.id == Member.account_id)
            .where(Member.telegram_id == telegram_id, Member.status != MemberStatus.REMOVED)
            .order_by(Member.id)
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def check_access(
    uow: UnitOfWork, telegram_id: int, *, username: str | None, full_name: str
) -> Access:
    found = await load_member(uow, telegram_id)
    if found is None:
        return Access(actor=None)
    member, account = found
    locale = member.locale or account.locale
    if member.status == MemberStatus.BLOCKED:
        if member.block_notice_sent:
            return Access(actor=None, blocked=True, locale=locale)
        member.block_notice_sent = True
        await uow.commit()
        return Access(actor=None, blocked=True, notify_blocked=True, locale=locale)
    actor = actor_from(member, account, uow.clock.now())
    changed = (
        member.username != username or member.full_name != full_name[:200] or member.unreachable
    )
    if changed:
        # Writing again also makes a member who had blocked the bot reachable again.
        member.username, member.full_name = username, full_name[:200]
        member.unreachable = False
    read_only_since = None
    if actor.read_only and await _claim_read_only_notice(uow, member, account.paid_through):
        read_only_since, changed = account.paid_through, True
    if changed:
        await uow.commit()
    return Access(actor=actor, locale=locale, read_only_since=read_only_since)


async def _claim_read_only_notice(uow: UnitOfWork, member: Member, paid_through: date) -> bool:
    """Compare-and-set: of several updates at once, one tells the member why, once per lapse."""
    if member.read_only_notice_for == paid_through:
        return False
    claimed = await uow.session.execute(
        update(Member)
        .where(
            Member.id == member.id,
            or_(
                Member.read_only_notice_for.is_(None),
                Member.read_only_notice_for != paid_through,
            ),
        )
        .values(read_only_notice_for=paid_through)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1
