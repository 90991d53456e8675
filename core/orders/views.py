"""What a member may see of an order, decided here so no adapter can leak a field.

A summary (number, status, total, assignee, date) is all a colleague gets; details (customer,
contacts, items, comment) exist only on a card the matrix lets the actor see in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.customers.views import CustomerHistory
from core.errors import PermissionDenied
from core.members.actor import Actor
from core.members.permissions import Perm
from core.orders.models import CLOSED_STATUSES, OPEN_STATUSES, Order, OrderStatus


class OrderAction(StrEnum):
    CLAIM = "claim"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    STATUS = "status"
    LOG = "log"


class Limited(StrEnum):
    """Why a card shows only the summary."""

    UNASSIGNED = "unassigned"  # claim it to see the customer
    COLLEAGUE = "colleague"  # a colleague's order


@dataclass(frozen=True, slots=True)
class OrderItem:
    title: str
    qty: int
    price: int  # kopecks


@dataclass(frozen=True, slots=True)
class OrderSummary:
    id: int
    number: str
    status: OrderStatus
    total: int
    currency: str
    assignee_id: int | None
    assignee: str | None  # display name
    created_at: datetime
    placed_at: datetime | None = None  # the shop's own order time, when it sent one
    customer: str | None = None  # the customer's name: only where the actor sees it in full

    @property
    def shown_at(self) -> datetime:
        """The order's time as shown (card, list age): the shop's, else when it came in."""
        return self.placed_at or self.created_at


@dataclass(frozen=True, slots=True)
class OrderDetails:
    customer_name: str
    customer_phone: str | None
    customer_email: str | None
    customer_address: str | None
    items: tuple[OrderItem, ...]
    comment: str | None
    external_id: str | None
    source: str
    placed_at: datetime | None
    updated_at: datetime
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrderCard:
    summary: OrderSummary
    details: OrderDetails | None  # None: the limited view
    limited: Limited | None
    actions: tuple[OrderAction, ...]
    next_statuses: tuple[OrderStatus, ...]
    open_tasks: int | None = None  # None: the actor does not work on tasks
    customer: CustomerHistory | None = None  # the customer's history: with the details only


TRANSITIONS: dict[OrderStatus, tuple[OrderStatus, ...]] = {
    OrderStatus.NEW: (OrderStatus.IN_PROGRESS, OrderStatus.CANCELLED),
    OrderStatus.IN_PROGRESS: (OrderStatus.COMPLETED, OrderStatus.CANCELLED),
    OrderStatus.COMPLETED: (),
    OrderStatus.CANCELLED: (),
}


def summary_of(order: Order, assignee: str | None, customer: str | None = None) -> OrderSummary:
    return OrderSummary(
        id=order.id,
        number=order.number,
        status=OrderStatus(order.status),
        total=order.total,
        currency=order.currency,
        assignee_id=order.assignee_id,
        assignee=assignee,
        created_at=order.created_at,
        placed_at=order.placed_at,
        customer=customer,
    )


def details_of(order: Order) -> OrderDetails:
    return OrderDetails(
        customer_name=order.customer_name,
        customer_phone=order.customer_phone,
        customer_email=order.customer_email,
        customer_address=order.customer_address,
        items=tuple(OrderItem(i["title"], i["qty"], i["price"]) for i in order.items or ()),
        comment=order.comment,
        external_id=order.external_id,
        source=order.source,
        placed_at=order.placed_at,
        updated_at=order.updated_at,
        completed_at=order.completed_at,
    )


def is_own(actor: Actor, order: Order) -> bool:
    return order.assignee_id == actor.member_id


def sees_in_full(actor: Actor, order: Order) -> bool:
    own = is_own(actor, order) and actor.can(Perm.ORDERS_VIEW_OWN)
    return own or actor.can(Perm.ORDERS_VIEW_ALL)


def check_visible(actor: Actor, order: Order, assignee: str | None) -> Limited | None:
    """None: the full card; Limited: the summary only; PermissionDenied: nothing at all."""
    if sees_in_full(actor, order):
        return None
    if order.assignee_id is None:
        if actor.can(Perm.ORDERS_VIEW_TEAM) or actor.can(Perm.ORDERS_CLAIM):
            return Limited.UNASSIGNED
    elif actor.can(Perm.ORDERS_VIEW_TEAM):
        return Limited.COLLEAGUE
    raise PermissionDenied("order_hidden", number=order.number, holder=assignee or "—")


def may_change_status(actor: Actor, order: Order) -> bool:
    return actor.can(Perm.ORDERS_ASSIGN) or (
        is_own(actor, order) and actor.can(Perm.ORDERS_VIEW_OWN)
    )


def next_statuses(actor: Actor, order: Order) -> tuple[OrderStatus, ...]:
    if not may_change_status(actor, order):
        return ()
    status = OrderStatus(order.status)
    if status in CLOSED_STATUSES:
        # Only admins reopen; an assigned order goes back to work, an unassigned one to new.
        if not actor.can(Perm.ORDERS_ASSIGN):
            return ()
        return (OrderStatus.IN_PROGRESS if order.assignee_id else OrderStatus.NEW,)
    return TRANSITIONS[status]


def may_view_log(actor: Actor, order: Order) -> bool:
    return actor.can(Perm.AUDIT_VIEW) or (is_own(actor, order) and actor.can(Perm.AUDIT_VIEW_OWN))


def may_claim(actor: Actor, order: Order) -> bool:
    return (
        actor.can(Perm.ORDERS_CLAIM)
        and order.assignee_id is None
        and OrderStatus(order.status) in OPEN_STATUSES
    )


def actions_for(actor: Actor, order: Order, limited: Limited | None) -> tuple[OrderAction, ...]:
    if limited is Limited.COLLEAGUE and not actor.can(Perm.ORDERS_ASSIGN):
        return ()  # a colleague's order: look, don't touch
    actions = []
    if may_claim(actor, order):
        actions.append(OrderAction.CLAIM)
    if actor.can(Perm.ORDERS_ASSIGN) and OrderStatus(order.status) in OPEN_STATUSES:
        actions.append(OrderAction.ASSIGN)
        if order.assignee_id is not None:
            actions.append(OrderAction.UNASSIGN)
    if next_statuses(actor, order):
        actions.append(OrderAction.STATUS)
    if may_view_log(actor, order):
        actions.append(OrderAction.LOG)
    return tuple(actions)


def card_of(actor: Actor, order: Order, assignee: str | None, open_tasks: int = 0) -> OrderCard:
    limited = check_visible(actor, order, assignee)
    return OrderCard(
        summary=summary_of(order, assignee),
        details=None if limited else details_of(order),
        limited=limited,
        actions=actions_for(actor, order, limited),
        next_statuses=next_statuses(actor, order) if limited is None else (),
        open_tasks=open_tasks if actor.can(Perm.TASKS_MANAGE) else None,
    )
