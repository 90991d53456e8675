"""A customer's history: the order card's line, and the manager a repeat customer goes back to."""

from __future__ import annotations

from sqlalchemy import case, func, select

from core.customers.views import CustomerHistory
from core.db.base import UTCDateTime
from core.db.uow import UnitOfWork
from core.members.models import Member
from core.orders.models import Order, OrderStatus


def _shown_at():
    return func.coalesce(Order.placed_at, Order.created_at, type_=UTCDateTime())


async def customer_history(
    uow: UnitOfWork, customer_id: int, currency: str
) -> CustomerHistory | None:
    """Orders, money spent (completed orders in `currency`), first and last order, usual
    manager; None when the customer has no orders."""
    spent = case(
        (
            (Order.status == OrderStatus.COMPLETED.value) & (Order.currency == currency),
            Order.total,
        ),
        else_=0,
    )
    async with uow.reading() as conn:
        count, total, first, last = (
            await conn.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(spent), 0),
                    func.min(_shown_at()),
                    func.max(_shown_at()),
                ).where(Order.customer_id == customer_id)
            )
        ).one()
        usual = (
            await conn.execute(
                select(Member.username, Member.full_name)
                .join(Order, Order.assignee_id == Member.id)
                .where(Order.customer_id == customer_id)
                .group_by(Member.id, Member.username, Member.full_name)
                .order_by(
                    func.count().desc(),
                    func.max(Order.created_at).desc(),
                    func.max(Order.id).desc(),
                )
                .limit(1)
            )
        ).first()
    if not count:
        return None
    manager = None
    if usual is not None:
        manager = f"@{usual.username}" if usual.username else usual.full_name
    return CustomerHistory(customer_id, count, int(total), currency, first, last, manager)


async def previous_manager(uow: UnitOfWork, order: Order) -> Member | None:
    """The member who handled the customer's latest other order: the assignee of the newest
    (by intake time) order of `order`'s customer that has one, `order` itself left out. None
    when the order has no customer or nobody worked their orders. The member is returned
    whatever their status (blocked, removed): the caller decides if they can take it."""
    if order.customer_id is None:
        return None
    return await uow.session.scalar(
        select(Member)
        .join(Order, Order.assignee_id == Member.id)
        .where(
            Order.account_id == order.account_id,
            Order.customer_id == order.customer_id,
            Order.id != order.id,
        )
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(1)
    )
