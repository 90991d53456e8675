"""Auto-assignment: with the account's distribution set to "auto", each new order goes to a
manager on shift at once instead of waiting for someone to claim it.

The rule (`pick`) is a pure function: a repeat customer's order goes to their previous manager
if that manager is on shift and under the cap; otherwise to the on-shift manager with the
fewest open orders (ties: the one whose last automatic assignment is the oldest, never-assigned
first), never above the account's cap. Nobody eligible: the order stays unassigned and its
claim timer runs.

Fleet-safe: `assign_new` runs in the transaction that inserts the orders, after locking the
account row (FOR UPDATE on PostgreSQL; SQLite's write transactions are IMMEDIATE, one at a
time), so orders arriving together on several processes are counted and spread one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select, update

from core.accounts.hours import working_seconds
from core.accounts.models import Account
from core.audit.service import audit
from core.customers import history as customers_history
from core.db.uow import UnitOfWork
from core.members.models import Member, MemberStatus
from core.members.permissions import Perm, parse_perms
from core.orders import notices
from core.orders.models import OPEN_STATUSES, Order


class Distribution(StrEnum):
    CLAIM = "claim"  # announced to everyone; the first to claim takes it
    AUTO = "auto"  # given to a manager on shift (this module)


class Reason(StrEnum):
    FEWEST_OPEN = "fewest_open"
    REPEAT_CUSTOMER = "repeat_customer"


@dataclass(frozen=True, slots=True)
class Candidate:
    member_id: int
    open_orders: int
    last_assigned_at: datetime | None


@dataclass(frozen=True, slots=True)
class Choice:
    member_id: int
    reason: Reason


def pick(candidates: list[Candidate], cap: int, previous: int | None = None) -> Choice | None:
    """Who gets the next order among the managers on shift (see the module's rule)."""
    eligible = [c for c in candidates if c.open_orders < cap]
    if previous is not None and any(c.member_id == previous for c in eligible):
        return Choice(previous, Reason.REPEAT_CUSTOMER)
    if not eligible:
        return None
    best = min(
        eligible,
        key=lambda c: (
            c.open_orders,
            c.last_assigned_at is not None,
            c.last_assigned_at or datetime.min,
            c.member_id,
        ),
    )
    return Choice(best.member_id, Reason.FEWEST_OPEN)


async def previous_manager(uow: UnitOfWork, order: Order) -> int | None:
    """The manager of the customer's latest other order that had one (core.customers)."""
    member = await customers_history.previous_manager(uow, order)
    return None if member is None else member.id


async def on_shift_managers(uow: UnitOfWork, account_id: int) -> list[Member]:
    """Active members on shift who may claim orders."""
    members = await uow.session.scalars(
        select(Member)
        .where(
            Member.account_id == account_id,
            Member.status == MemberStatus.ACTIVE,
            Member.on_shift.is_(True),
        )
        .order_by(Member.id)
    )
    return [m for m in members if Perm.ORDERS_CLAIM in parse_perms(m.role.permissions)]


async def _candidates(uow: UnitOfWork, account_id: int) -> dict[int, Candidate]:
    members = await on_shift_managers(uow, account_id)
    if not members:
        return {}
    counts = dict(
        (
            await uow.session.execute(
                select(Order.assignee_id, func.count())
                .where(
                    Order.account_id == account_id,
                    Order.status.in_(OPEN_STATUSES),
                    Order.assignee_id.in_([m.id for m in members]),
                )
                .group_by(Order.assignee_id)
            )
        ).all()
    )
    return {m.id: Candidate(m.id, counts.get(m.id, 0), m.last_assigned_at) for m in members}


async def _lock(uow: UnitOfWork, account_id: int) -> Account:
    """The account row, fresh and locked until commit. FOR NO KEY UPDATE: the orders just
    inserted hold a KEY SHARE lock on it (their foreign key), which FOR UPDATE would wait on
    across two such transactions: a deadlock. SQLite ignores it (IMMEDIATE transactions)."""
    return (
        await uow.session.scalars(
            select(Account)
            .where(Account.id == account_id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    ).one()


async def assign_new(uow: UnitOfWork, account: Account, orders: list[Order]) -> list[Order]:
    """Gives each new order (inserted, not committed) to a manager on shift when the account
    distributes automatically; returns the orders it assigned. The caller commits."""
    if account.distribution != Distribution.AUTO or not orders:
        return []
    account = await _lock(uow, account.id)
    candidates = await _candidates(uow, account.id)
    if not candidates:
        return []
    now = uow.clock.now()
    assigned = []
    for order in orders:
        previous = await previous_manager(uow, order)
        choice = pick(list(candidates.values()), account.open_cap, previous)
        if choice is None:
            break  # everyone is at the cap: the rest wait for a claim
        chosen = candidates[choice.member_id]
        candidates[chosen.member_id] = Candidate(chosen.member_id, chosen.open_orders + 1, now)
        await _give(uow, account, order, choice, now)
        assigned.append(order)
    return assigned


async def _give(
    uow: UnitOfWork, account: Account, order: Order, choice: Choice, now: datetime
) -> None:
    order.assignee_id = choice.member_id
    order.claimed_at = now  # a new order: its first time taken into work
    order.claim_wait_seconds = working_seconds(account, order.created_at, now)
    order.updated_at = now
    await uow.session.execute(
        update(Member)
        .where(Member.id == choice.member_id)
        .values(last_assigned_at=now)
        .execution_options(synchronize_session=False)
    )
    member = await uow.session.get(Member, choice.member_id)
    entry = audit(
        uow,
        None,
        "order.auto_assigned",
        order,
        before={"assignee": None},
        after={"number": order.number, "assignee": member.display_name},
        reason=choice.reason.value,
    )
    await uow.session.flush()
    params = notices.order_params(order, member.display_name, account.timezone)
    params["reason"] = choice.reason.value
    key = f"order:{order.id}:assigned_to:{entry.id}"
    await notices.tell_member(uow, account, member.id, key, notices.AUTO_ASSIGNED, params)
