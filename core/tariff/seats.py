"""Seats: members that count toward the price, and what adding or removing one does.

Used inside the members' own use cases (invite, join, remove); these helpers never commit.
"""

from __future__ import annotations

from sqlalchemy import func, select

from core.accounts.models import Account
from core.audit.service import audit
from core.db.uow import UnitOfWork
from core.errors import NotFound
from core.members.models import Member, MemberStatus
from core.tariff.catalog import Catalog
from core.tariff.pricing import Repricing, is_lapsed, local_date, reprice

# Blocked members keep their seat until removed (docs/guide.md: members, tariff).
SEAT_STATUSES = (MemberStatus.ACTIVE, MemberStatus.BLOCKED)


async def count_seats(uow: UnitOfWork, account_id: int) -> int:
    return await uow.session.scalar(
        select(func.count())
        .select_from(Member)
        .where(Member.account_id == account_id, Member.status.in_(SEAT_STATUSES))
    )


async def lock_account(uow: UnitOfWork, account_id: int) -> Account:
    """The account row, fresh and locked until commit: seat and date changes queue behind it.

    FOR UPDATE on PostgreSQL; SQLite ignores it, its write transactions being IMMEDIATE already.
    """
    account = (
        await uow.session.scalars(
            select(Account)
            .where(Account.id == account_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).first()
    if account is None:
        raise NotFound("account_not_found", account=account_id)
    return account


def account_today(uow: UnitOfWork, account: Account):
    return local_date(uow.clock.now(), account.timezone)


def account_lapsed(uow: UnitOfWork, account: Account) -> bool:
    return is_lapsed(account.paid_through, account_today(uow, account))


async def seat_change(uow: UnitOfWork, account: Account, delta: int, catalog: Catalog) -> Repricing:
    """The effect of `delta` more (or fewer) seats on the account as it stands."""
    tariff = catalog.tariff(account.tariff_code)
    members = await count_seats(uow, account.id)
    return reprice(
        catalog,
        tariff_before=tariff,
        members_before=members,
        tariff_after=tariff,
        members_after=members + delta,
        paid_through=account.paid_through,
        today=account_today(uow, account),
    )


def apply_repricing(
    uow: UnitOfWork, account: Account, change: Repricing, *, actor_id: int | None, action: str
) -> None:
    """Moves the paid-through date and logs before/after, in the caller's transaction."""
    if change.monthly_delta == 0 and change.tariff_before == change.tariff_after:
        return
    account.paid_through = change.paid_through_after
    account.tariff_code = change.tariff_after.code
    before, after = change.audit()
    audit(uow, actor_id, action, account, before=before, after=after)
