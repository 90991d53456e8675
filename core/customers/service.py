"""The customer's card, customers in /find, and the admins' manual merge.

A member sees a customer (name, contacts, history) when they see one of the customer's orders
in full: everyone's with orders.view_all, else the orders assigned to them. The card lists the
customer's orders as the member's order lists would (core/orders/search.visible_orders):
colleagues' ones in brief."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from core.accounts.models import Account
from core.accounts.service import phone_region
from core.customers.history import customer_history
from core.customers.intake import merge_into
from core.customers.models import Customer
from core.customers.views import CustomerHistory, CustomerRow
from core.db.uow import UnitOfWork
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.members.actor import Actor
from core.members.permissions import Perm
from core.orders import fields
from core.orders.models import Order
from core.orders.search import MAX_QUERY, like_prefix, name_starts, phone_digits, visible_orders
from core.orders.service import summary_columns, summary_row
from core.orders.views import OrderSummary

CARD_ORDERS = 15
MERGE_PERMS = (Perm.ORDERS_VIEW_ALL, Perm.ORDERS_ASSIGN)
_MAX_HOPS = 20


@dataclass(frozen=True, slots=True)
class CustomerCard:
    id: int
    name: str
    phone: str | None
    email: str | None
    created_at: datetime
    history: CustomerHistory | None  # None: no orders (never so for a customer in use)
    orders: tuple[OrderSummary, ...]  # newest first, as the member may see each
    more: int  # orders not listed
    may_merge: bool


async def _current(uow: UnitOfWork, account_id: int, customer_id: int) -> Customer:
    """The customer, or the one they were merged into (old buttons keep working)."""
    customer = await uow.session.get(Customer, customer_id)
    hops = 0
    while customer is not None and customer.merged_into is not None and hops < _MAX_HOPS:
        customer = await uow.session.get(Customer, customer.merged_into)
        hops += 1
    if customer is None or customer.account_id != account_id or customer.merged_into:
        raise NotFound("customer_not_found", ref=str(customer_id))
    return customer


def _own_order_of(actor: Actor):
    """An order of the customer (correlated) assigned to the actor."""
    return (
        select(Order.id)
        .where(Order.customer_id == Customer.id, Order.assignee_id == actor.member_id)
        .exists()
    )


async def _may_see(uow: UnitOfWork, actor: Actor, customer_id: int) -> bool:
    if actor.can(Perm.ORDERS_VIEW_ALL):
        return True
    if not actor.can(Perm.ORDERS_VIEW_OWN):
        return False
    own = await uow.session.scalar(
        select(Order.id)
        .where(Order.customer_id == customer_id, Order.assignee_id == actor.member_id)
        .limit(1)
    )
    return own is not None


async def customer_card(uow: UnitOfWork, actor: Actor, customer_id: int) -> CustomerCard:
    customer = await _current(uow, actor.account_id, customer_id)
    if not await _may_see(uow, actor, customer.id):
        raise PermissionDenied("customer_hidden")
    account = await uow.session.get(Account, actor.account_id)
    history = await customer_history(uow, customer.id, account.currency)
    mine = (Order.account_id == actor.account_id, Order.customer_id == customer.id)
    async with uow.reading() as conn:
        rows = (
            await conn.execute(
                summary_columns()
                .where(*mine, visible_orders(actor))
                .order_by(Order.created_at.desc(), Order.id.desc())
                .limit(CARD_ORDERS)
            )
        ).all()
        visible = await conn.scalar(
            select(func.count()).select_from(Order).where(*mine, visible_orders(actor))
        )
    return CustomerCard(
        id=customer.id,
        name=customer.name,
        phone=customer.phone,
        email=customer.email,
        created_at=customer.created_at,
        history=history,
        orders=tuple(summary_row(actor, r) for r in rows),
        more=max(0, visible - len(rows)),
        may_merge=all(actor.can(p) for p in MERGE_PERMS),
    )


async def find_customers(
    uow: UnitOfWork, actor: Actor, query: str, *, limit: int = 20
) -> list[CustomerRow]:
    """Customers the actor may see whose phone (any format), email or name (its beginning)
    matches `query`, by name."""
    if not (actor.can(Perm.ORDERS_VIEW_ALL) or actor.can(Perm.ORDERS_VIEW_OWN)):
        return []
    text = fields.visible(query or "").strip()
    if not text or len(text) > MAX_QUERY:
        raise InvalidInput("find_query", limit=MAX_QUERY)
    if "@" in text:
        email = text.lower()
        match = or_(Customer.email == email, Customer.email.like(like_prefix(email), escape="\\"))
    else:
        account = await uow.session.get(Account, actor.account_id)
        digits = phone_digits(text, phone_region(account))
        if digits is not None:
            match = Customer.phone.like("%" + digits + "%")
        else:
            match = name_starts(Customer.name, " ".join(text.split()))
    orders = select(func.count(Order.id)).where(Order.customer_id == Customer.id).scalar_subquery()
    statement = select(Customer.id, Customer.name, Customer.phone, Customer.email, orders).where(
        Customer.account_id == actor.account_id, Customer.merged_into.is_(None), match
    )
    if actor.can(Perm.ORDERS_VIEW_ALL):  # a customer whose orders all went elsewhere: none
        statement = statement.where(
            select(Order.id).where(Order.customer_id == Customer.id).exists()
        )
    else:
        statement = statement.where(_own_order_of(actor))
    statement = statement.order_by(Customer.name, Customer.id).limit(max(1, min(limit, 100)))
    async with uow.reading() as conn:
        result = (await conn.execute(statement)).all()
    return [CustomerRow(r[0], r[1], r[2], r[3], r[4]) for r in result]


async def merge_customers(
    uow: UnitOfWork, actor: Actor, keep_id: int, drop_id: int
) -> CustomerCard:
    """The admins' merge of two records of one person: `drop_id`'s orders go to `keep_id`, which
    takes the phone and email it lacks."""
    actor.require(*MERGE_PERMS)
    actor.require_writable()
    keep = await _current(uow, actor.account_id, keep_id)
    drop = await _current(uow, actor.account_id, drop_id)
    if keep.id == drop.id:
        raise InvalidInput("customers_same", ref=str(keep.id))
    await merge_into(uow, actor, keep, drop, uow.clock.now())
    await uow.commit()
    return await customer_card(uow, actor, keep.id)
