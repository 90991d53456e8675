"""Who may use the bot: membership and block check for every incoming update."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache

from sqlalchemy import Row, Select, bindparam, or_, select, update

from core.accounts.hours import WorkHours
from core.accounts.models import Account
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.members.models import Member, MemberStatus, Role
from core.members.permissions import Perm, parse_perms
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
        hours=WorkHours.of(account),
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


@cache
def _access_query() -> Select:
    """Member, role and account in one row (with the account's hours, which lists and the board
    need to mark late orders): built once, so each update only binds its id."""
    return (
        select(
            Member.id,
            Member.account_id,
            Member.status,
            Member.locale,
            Member.username,
            Member.full_name,
            Member.unreachable,
            Member.block_notice_sent,
            Member.read_only_notice_for,
            Role.code.label("role_code"),
            Role.permissions,
            Account.locale.label("account_locale"),
            Account.timezone,
            Account.paid_through,
            Account.work_start,
            Account.work_end,
            Account.work_days,
            Account.claim_minutes,
        )
        .join(Role, Role.id == Member.role_id)
        .join(Account, Account.id == Member.account_id)
        .where(Member.telegram_id == bindparam("telegram_id"))
        .where(Member.status != MemberStatus.REMOVED)
        .order_by(Member.id)
        .limit(1)
    )


@lru_cache(maxsize=256)
def _perms(values: tuple[str, ...]) -> frozenset[Perm]:
    return parse_perms(list(values))


async def check_access(
    uow: UnitOfWork, telegram_id: int, *, username: str | None, full_name: str
) -> Access:
    """Read fresh on every update (a block or a role change counts from the next update on,
    in every process); writes only when something changed."""
    async with uow.reading() as conn:
        found = (await conn.execute(_access_query(), {"telegram_id": telegram_id})).first()
    if found is None:
        return Access(actor=None)
    locale = found.locale or found.account_locale
    if found.status == MemberStatus.BLOCKED:
        if found.block_notice_sent:
            return Access(actor=None, blocked=True, locale=locale)
        notify = await _claim_block_notice(uow, found.id)
        await uow.commit()
        return Access(actor=None, blocked=True, notify_blocked=notify, locale=locale)
    actor = _actor(found, telegram_id, uow.clock.now())
    full_name = full_name[:200]
    changed = found.username != username or found.full_name != full_name or found.unreachable
    if changed:
        # Writing again also makes a member who had blocked the bot reachable again.
        await uow.session.execute(
            update(Member)
            .where(Member.id == found.id)
            .values(username=username, full_name=full_name, unreachable=False)
            .execution_options(synchronize_session=False)
        )
    read_only_since = None
    if actor.read_only and await _claim_read_only_notice(uow, found):
        read_only_since, changed = found.paid_through, True
    if changed:
        await uow.commit()
    return Access(actor=actor, locale=locale, read_only_since=read_only_since)


async def look_up_access(uow: UnitOfWork, telegram_id: int) -> Access:
    """The same answer as `check_access`, read only: for the Mini App's API calls, which must
    not use up the chat's one-time notices (blocked, read-only) nor rename the member."""
    async with uow.reading() as conn:
        found = (await conn.execute(_access_query(), {"telegram_id": telegram_id})).first()
    if found is None:
        return Access(actor=None)
    locale = found.locale or found.account_locale
    if found.status == MemberStatus.BLOCKED:
        return Access(actor=None, blocked=True, locale=locale)
    return Access(actor=_actor(found, telegram_id, uow.clock.now()), locale=locale)


def _actor(found: Row, telegram_id: int, now: datetime) -> Actor:
    return Actor(
        member_id=found.id,
        account_id=found.account_id,
        telegram_id=telegram_id,
        role_code=found.role_code,
        permissions=_perms(tuple(found.permissions)),
        locale=found.locale or found.account_locale,
        timezone=found.timezone,
        read_only=is_lapsed(found.paid_through, local_date(now, found.timezone)),
        hours=WorkHours.of(found),
    )


async def _claim_block_notice(uow: UnitOfWork, member_id: int) -> bool:
    """Compare-and-set: of several updates at once, one gets the polite reply."""
    claimed = await uow.session.execute(
        update(Member)
        .where(
            Member.id == member_id,
            Member.status == MemberStatus.BLOCKED,
            Member.block_notice_sent.is_(False),
        )
        .values(block_notice_sent=True)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


async def _claim_read_only_notice(uow: UnitOfWork, found: Row) -> bool:
    """Compare-and-set: of several updates at once, one tells the member why, once per lapse."""
    paid_through = found.paid_through
    if found.read_only_notice_for == paid_through:
        return False
    claimed = await uow.session.execute(
        update(Member)
        .where(
            Member.id == found.id,
            or_(
                Member.read_only_notice_for.is_(None),
                Member.read_only_notice_for != paid_through,
            ),
        )
        .values(read_only_notice_for=paid_through)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1
