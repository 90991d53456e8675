"""Claim timers: an open order nobody has taken is announced again, then escalated.

The clock runs in working time only (core.accounts.hours): it stops outside the account's
working hours and resumes at opening. After `claim_minutes` of it an unclaimed order is
re-announced to the managers on shift (to the usual announcement chats when nobody is on
shift); after twice that it goes to the owner and the admins who opted in to alerts, with
Claim and Assign… buttons. Each step is taken by a compare-and-set on `orders.claim_step`
together with its outbox rows, so it happens once per order across restarts and processes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from enum import IntEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from core.accounts.hours import Hours, after_working_time, working_day, working_time_between
from core.accounts.models import Account
from core.db.uow import UnitOfWork, UnitOfWorkFactory
from core.members.actor import Actor
from core.notifications import outbox
from core.notifications.outbox import Recipient
from core.orders import notices
from core.orders.announce import announcement_recipients
from core.orders.distribution import on_shift_managers
from core.orders.models import OPEN_STATUSES, Order

EVERY = timedelta(minutes=1)
BATCH = 500  # orders one run looks at per account


class Step(IntEnum):
    NONE = 0
    REANNOUNCED = 1
    ESCALATED = 2


def claim_span(account: Hours) -> timedelta:
    return timedelta(minutes=max(1, account.claim_minutes or 15))


def due_step(account: Account, created_at: datetime, now: datetime) -> Step:
    """How far the timer of an order created at `created_at` has run by `now`."""
    waited = working_time_between(account, created_at, now)
    return Step(min(Step.ESCALATED, waited // claim_span(account)))


def overdue(account: Account, created_at: datetime, now: datetime) -> bool:
    """An unclaimed order past its time (the /orders mark and count, the board's mark)."""
    return due_step(account, created_at, now) >= Step.REANNOUNCED


def overdue_test(account: Hours, now: datetime) -> Callable[[datetime], bool]:
    """`overdue` for many orders at once (a list, the board): the boundary is worked out once
    (`overdue_since`), each order is then one comparison of its creation time."""
    since = overdue_since(account, now)
    return lambda created_at: since is not None and created_at <= since


def deadline(account: Account, created_at: datetime, step: Step) -> datetime | None:
    """When the timer reaches `step` (None: the account has no working time)."""
    return after_working_time(account, created_at, claim_span(account) * int(step))


def _unclaimed(account_id: int):
    return (
        Order.account_id == account_id,
        Order.assignee_id.is_(None),
        Order.status.in_(OPEN_STATUSES),
    )


def overdue_since(account: Hours, now: datetime) -> datetime | None:
    """The latest creation time of an order that is past its claim time at `now` (every older
    one is too: working time only grows with age); None: none can be yet."""
    zone = ZoneInfo(account.timezone)
    left = claim_span(account)
    day = now.astimezone(zone).date()
    for _ in range(7 * (left // timedelta(hours=1) + 2)):
        if working_day(account, day):
            opens = datetime.combine(day, time(account.work_start), zone)
            end = min(datetime.combine(day, time(account.work_end), zone), now)
            if end > opens:
                if end - left >= opens:
                    return end - left
                left -= end - opens
        day -= timedelta(days=1)
    return None


async def count_overdue(uow: UnitOfWork, account_id: int, hours: Hours) -> int:
    """Unclaimed open orders past their time: one count up to `overdue_since`."""
    since = overdue_since(hours, uow.clock.now())
    if since is None:
        return 0
    async with uow.reading() as conn:
        return await conn.scalar(
            select(func.count())
            .select_from(Order)
            .where(*_unclaimed(account_id), Order.created_at <= since)
        )


async def hours_of(uow: UnitOfWork, actor: Actor) -> Hours | None:
    """The account's hours and claim time: carried by the actor when it was resolved for an
    update (core.members.access), read otherwise (None: the account is gone)."""
    if actor.hours is not None:
        return actor.hours
    return await uow.session.get(Account, actor.account_id)


async def _accounts_waiting(uow: UnitOfWork, now: datetime) -> list[int]:
    """Accounts with an unclaimed open order whose timer has steps left."""
    return list(
        await uow.session.scalars(
            select(Order.account_id)
            .where(
                Order.assignee_id.is_(None),
                Order.status.in_(OPEN_STATUSES),
                Order.claim_step < Step.ESCALATED,
                Order.created_at <= now - timedelta(minutes=1),
            )
            .group_by(Order.account_id)
        )
    )


async def _due_orders(uow: UnitOfWork, account: Account, now: datetime) -> list[tuple[int, int]]:
    rows = await uow.session.execute(
        select(Order.id, Order.claim_step, Order.created_at)
        .where(
            *_unclaimed(account.id),
            Order.claim_step < Step.ESCALATED,
            Order.created_at <= now - claim_span(account),
        )
        .order_by(Order.created_at, Order.id)
        .limit(BATCH)
    )
    due = []
    for order_id, step, created_at in rows:
        target = due_step(account, created_at, now)
        if target > step:
            due.append((order_id, step))
    return due


async def _reannounce_to(uow: UnitOfWork, account: Account) -> list[Recipient]:
    members = [m for m in await on_shift_managers(uow, account.id) if not m.unreachable]
    if not members:
        return await announcement_recipients(uow, account)
    return [Recipient(m.telegram_id, m.locale or account.locale, m.id) for m in members]


async def _recipients(uow: UnitOfWork, account: Account, step: Step) -> list[Recipient]:
    if step == Step.REANNOUNCED:
        return await _reannounce_to(uow, account)
    return await outbox.alert_recipients(uow, account)


async def _tell(uow: UnitOfWork, account: Account, order: Order, step: Step) -> int:
    params = notices.order_params(order, None, account.timezone)
    params["minutes"] = account.claim_minutes * int(step)
    kind = notices.UNCLAIMED if step == Step.REANNOUNCED else notices.ESCALATED
    return await outbox.enqueue(
        uow,
        account=account,
        event_key=notices.claim_step_key(order.id, int(step)),
        kind=kind,
        params=params,
        recipients=await _recipients(uow, account, step),
        respect_quiet_hours=False,
    )


async def _move(uow: UnitOfWork, account: Account, order_id: int, seen: int) -> Step | None:
    """The compare-and-set of one order's step (None: another run or a claim came first)."""
    order = await uow.session.get(Order, order_id)
    target = due_step(account, order.created_at, uow.clock.now())
    if target <= seen:
        return None
    result = await uow.session.execute(
        update(Order)
        .where(Order.id == order_id, Order.claim_step == seen, *_unclaimed(account.id))
        .values(claim_step=int(target))
        .execution_options(synchronize_session=False)
    )
    return target if result.rowcount == 1 else None


async def advance(uow: UnitOfWork, account: Account, order_id: int, seen: int) -> bool:
    """Moves one order's timer from the step `seen` to where it is due now, with the messages
    of each step passed; False when another run (or a claim) got there first."""
    target = await _move(uow, account, order_id, seen)
    if target is None:
        await uow.rollback()
        return False
    order = await uow.session.get(Order, order_id)
    for step in range(seen + 1, target + 1):
        await _tell(uow, account, order, Step(step))
    await uow.commit()
    return True


async def advance_many(uow: UnitOfWork, account: Account, due: list[tuple[int, int]]) -> int:
    """More orders due at once than ANNOUNCE_EACH_LIMIT (a CSV import nobody took): every
    order's step moves as in `advance`, and each step is told once, as a count, in the same
    transaction."""
    passed: dict[Step, list[int]] = {Step.REANNOUNCED: [], Step.ESCALATED: []}
    for order_id, seen in due:
        target = await _move(uow, account, order_id, seen)
        for step in range(seen + 1, (target or seen) + 1):
            passed[Step(step)].append(order_id)
    for step, ids in passed.items():
        if not ids:
            continue
        kind = notices.UNCLAIMED_MANY if step == Step.REANNOUNCED else notices.ESCALATED_MANY
        params = {"count": len(ids), "minutes": account.claim_minutes * int(step)}
        await outbox.enqueue(
            uow,
            account=account,
            event_key=f"orders:{account.id}:claim_step:{int(step)}:{min(ids)}-{max(ids)}",
            kind=kind,
            params=params,
            recipients=await _recipients(uow, account, step),
            respect_quiet_hours=False,
        )
    await uow.commit()
    return len({i for ids in passed.values() for i in ids})


async def run_claim_timers(uows: UnitOfWorkFactory) -> int:
    """The job: advances every due timer; returns how many orders moved a step."""
    async with uows() as uow:
        account_ids = await _accounts_waiting(uow, uow.clock.now())
    moved = 0
    for account_id in account_ids:
        async with uows() as uow:
            account = await uow.session.get(Account, account_id)
            due = await _due_orders(uow, account, uow.clock.now())
        if len(due) > notices.ANNOUNCE_EACH_LIMIT:
            async with uows() as uow:
                account = await uow.session.get(Account, account_id)
                moved += await advance_many(uow, account, due)
            continue
        for order_id, seen in due:
            async with uows() as uow:
                account = await uow.session.get(Account, account_id)
                moved += await advance(uow, account, order_id, seen)
    return moved
