"""Finding orders by number, phone digits or customer name, among those the actor may see."""

from __future__ import annotations

import re

from sqlalchemy import func, or_, select

from core.db.uow import UnitOfWork
from core.errors import PermissionDenied
from core.members.actor import Actor
from core.members.models import Member
from core.orders.models import Order, OrderStatus
from core.orders.views import OrderSummary, check_visible

_DIGITS = re.compile(r"\d")
_QUERY_LIMIT = 100


def _digits_of(column):
    for sign in (" ", "-", "(", ")", "+", "."):
        column = func.replace(column, sign, "")
    return column


async def find_orders(
    uow: UnitOfWork, actor: Actor, query: str, *, limit: int = 50, offset: int = 0
) -> list[OrderSummary]:
    """Newest first: the number (exact or its start), the phone's digits (4 or more, anywhere),
    the customer's name (the start of any word). Summaries only; hidden orders are left out."""
    text = query.strip()[:_QUERY_LIMIT]
    if not text:
        return []
    like = text.replace("\\", "").replace("%", "").replace("_", "")
    conditions = [Order.number == text, Order.number.like(f"{like}%")]
    digits = "".join(_DIGITS.findall(text))
    if len(digits) >= 4 and len(digits) * 2 >= len(text.replace(" ", "")):
        conditions.append(_digits_of(Order.customer_phone).like(f"%{digits}%"))
    if like:
        for word in {like, like[:1].upper() + like[1:]}:
            conditions.append(Order.customer_name.like(f"{word}%"))
            conditions.append(Order.customer_name.like(f"% {word}%"))
    rows = (
        await uow.session.execute(
            select(Order, Member.username, Member.full_name)
            .outerjoin(Member, Member.id == Order.assignee_id)
            .where(Order.account_id == actor.account_id, or_(*conditions))
            .order_by(Order.created_at.desc(), Order.id.desc())
            .offset(max(offset, 0))
            .limit(max(1, min(limit, 200)))
        )
    ).all()
    found = []
    for order, username, full_name in rows:
        name = f"@{username}" if username else full_name
        try:
            check_visible(actor, order, name)
        except PermissionDenied:
            continue
        found.append(
            OrderSummary(
                order.id,
                order.number,
                OrderStatus(order.status),
                order.total,
                order.currency,
                order.assignee_id,
                name,
                order.created_at,
            )
        )
    return found
