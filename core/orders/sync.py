"""Orders kept in step with a store: the store creates, changes and cancels its orders, and ours
follow (connectors, and PUT /api/v1/orders/{external_id}).

One rule for every source: the order is found by (account, external id); an event older than
the version applied last changes nothing (the store's updated-at); the same content again changes
nothing; a change is written with an audit entry "changed by <source>" and a notice to the
assignee. The caller commits, so the change lands with whatever the caller records about it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.accounts.models import Account
from core.accounts.service import phone_region
from core.audit.service import audit
from core.customers.intake import find_or_create
from core.db.uow import UnitOfWork
from core.errors import Conflict, NotFound
from core.members.models import Member
from core.orders import fields, notices
from core.orders.models import Order, OrderSource, OrderStatus
from core.orders.service import NewOrder, add_orders, intake_differences, number_taken


class SyncOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # the same content again
    STALE = "stale"  # older than what is applied


@dataclass(frozen=True, slots=True)
class ExternalOrder:
    order: NewOrder  # its external_id identifies the order
    cancelled: bool = False
    version: datetime | None = None  # the store's updated-at; None: the store sends none


@dataclass(frozen=True, slots=True)
class SyncResult:
    order: Order
    outcome: SyncOutcome
    changed: tuple[str, ...] = ()


# What a store's update may change; the number and the intake time stay.
_FIELDS = (
    ("customer.name", "customer_name"),
    ("customer.phone", "customer_phone"),
    ("customer.email", "customer_email"),
    ("customer.address", "customer_address"),
    ("items", "items"),
    ("total", "total"),
    ("currency", "currency"),
    ("created_at", "placed_at"),
    ("comment", "comment"),
)


async def _find(uow: UnitOfWork, account_id: int, external_id: str) -> Order | None:
    query = (
        select(Order)
        .where(Order.account_id == account_id, Order.external_id == external_id)
        .execution_options(populate_existing=True)
    )
    if uow.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # concurrent updates of one order apply one by one
    return (await uow.session.scalars(query)).first()


async def _free_number(uow: UnitOfWork, account_id: int, number: str, source: str) -> str:
    """The store's visible number; when another order holds it (two shops, one account), the
    number with the source in front ("tilda-1021"). The API's caller chose its numbers: a clash
    is its conflict to resolve."""
    if not await number_taken(uow, account_id, number):
        return number
    if source == OrderSource.API:
        raise Conflict("order_number_taken", number=number)
    prefixed = fields.number(f"{source}-{number}"[:64])
    if await number_taken(uow, account_id, prefixed):
        raise Conflict("order_number_taken", number=number)
    return prefixed


async def _create(
    uow: UnitOfWork, account: Account, ext: ExternalOrder, source: OrderSource
) -> Order | None:
    """Inserts the order (in a savepoint: a concurrent insert of it makes this None)."""
    number = await _free_number(uow, account.id, ext.order.number, source.value)
    cmd = ext.order if number == ext.order.number else _with_number(ext.order, number)
    try:
        async with uow.session.begin_nested():
            [order] = await add_orders(uow, account, [cmd], source, None)
            order.external_updated_at = ext.version
            if ext.cancelled:
                order.status = OrderStatus.CANCELLED
            await uow.session.flush()
    except IntegrityError:
        return None
    return order


def _with_number(cmd: NewOrder, number: str) -> NewOrder:
    return replace(cmd, number=number)


async def sync_order(
    uow: UnitOfWork, account_id: int, ext: ExternalOrder, source: OrderSource
) -> SyncResult:
    """Creates the store's order or applies its newer version; does not commit."""
    if not ext.order.external_id:
        raise fields.required("external_id")
    account = await uow.session.get(Account, account_id)
    if account is None:
        raise NotFound("account_not_found", account=account_id)
    order = await _find(uow, account_id, ext.order.external_id)
    if order is None:
        created = await _create(uow, account, ext, source)
        if created is not None:
            return SyncResult(created, SyncOutcome.CREATED)
        order = await _find(uow, account_id, ext.order.external_id)  # a concurrent insert won
        if order is None:
            raise Conflict("order_number_taken", number=ext.order.number)
    return await _apply(uow, account, order, ext, source)


async def _apply(
    uow: UnitOfWork, account: Account, order: Order, ext: ExternalOrder, source: OrderSource
) -> SyncResult:
    applied = order.external_updated_at
    if ext.version is not None and applied is not None and ext.version < applied:
        return SyncResult(order, SyncOutcome.STALE)
    differing = set(intake_differences(order, ext.order, account.currency)) - {"number"}
    new_values = {
        "customer_name": ext.order.customer_name,
        "customer_phone": ext.order.customer_phone,
        "customer_email": ext.order.customer_email,
        "customer_address": ext.order.customer_address,
        "items": [{"title": i.title, "qty": i.qty, "price": i.price} for i in ext.order.items],
        "total": ext.order.total,
        "currency": ext.order.currency or account.currency,
        "placed_at": ext.order.placed_at,
        "comment": ext.order.comment,
    }
    before: dict = {}
    after: dict = {}
    for name, column in _FIELDS:
        if name in differing:
            before[name], after[name] = _shown(getattr(order, column)), _shown(new_values[column])
            setattr(order, column, new_values[column])
    if differing & {"customer.phone", "customer.email"}:
        # Other contacts may be another person: the order goes to the customer they lead to.
        customer = await find_or_create(
            uow,
            account.id,
            phone_region(account),
            order.customer_name,
            order.customer_phone,
            order.customer_email,
        )
        order.customer_id = customer.id
    status_before = order.status
    if ext.cancelled and order.status != OrderStatus.CANCELLED:
        before["status"], after["status"] = order.status, OrderStatus.CANCELLED.value
        order.status = OrderStatus.CANCELLED
    if ext.version is not None and (applied is None or ext.version > applied):
        order.external_updated_at = ext.version
    if not after:
        return SyncResult(order, SyncOutcome.UNCHANGED)
    order.updated_at = uow.clock.now()
    entry = audit(
        uow,
        None,
        "order.changed_by_store",
        order,
        before=before,
        after={"number": order.number, **after},
        reason=source.value,
    )
    holder = None
    if order.assignee_id is not None:
        assignee = await uow.session.get(Member, order.assignee_id)
        holder = assignee.display_name if assignee is not None else None
    await uow.session.flush()
    was = notices.shown_as(status_before, holder)
    await notices.show_change(uow, account, order, holder, was, entry)
    if order.assignee_id is not None:
        params = notices.order_params(order, holder, account.timezone)
        params.update(source=source.value, fields=sorted(after))
        key = f"order:{order.id}:store_changed:{entry.id}"
        await notices.tell_member(
            uow, account, order.assignee_id, key, notices.CHANGED_BY_STORE, params
        )
    return SyncResult(order, SyncOutcome.UPDATED, tuple(sorted(after)))


def _shown(value):
    """An audit value as JSON keeps it (instants as ISO text)."""
    return value.isoformat() if isinstance(value, datetime) else value


async def put_order(uow: UnitOfWork, account_id: int, ext: ExternalOrder) -> SyncResult:
    """PUT /api/v1/orders/{external_id}: the same rules as the connectors, then commit."""
    result = await sync_order(uow, account_id, ext, OrderSource.API)
    await uow.commit()
    return result
