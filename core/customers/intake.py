"""Finding the customer of an incoming order, creating them the first time, joining duplicates.

Called by core.orders.service.add_orders, the one place every source (API, CSV, connectors,
/neworder) creates orders. A phone (E.164, read in the account's region) finds the customer
first, else the email (lower case); what the customer lacks is filled from the order. An order
that carries one customer's phone and another's email, when that other one has no phone,
shows they are one person: the two are merged.

Race-safe: the unique indexes on (account, phone) and (account, email) decide; a concurrent
intake that created the same customer first makes our insert fail inside a savepoint, and the
lookup runs again and finds theirs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from core.audit.service import audit
from core.customers.keys import e164, email_key
from core.customers.models import Customer
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.orders.models import Order

ATTEMPTS = 5


async def find_or_create(
    uow: UnitOfWork,
    account_id: int,
    region: str,
    name: str,
    phone: str | None,
    email: str | None,
    *,
    at: datetime | None = None,
) -> Customer:
    """The customer an order of `name`, `phone`, `email` belongs to (see the module); a new
    one is created `at` (default: now)."""
    phone_key, mail_key = e164(phone, region), email_key(email)
    for attempt in range(ATTEMPTS):
        try:
            async with uow.session.begin_nested():
                return await _match(uow, account_id, name, phone_key, mail_key, at)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def _match(
    uow: UnitOfWork,
    account_id: int,
    name: str,
    phone: str | None,
    email: str | None,
    at: datetime | None,
) -> Customer:
    now = at or uow.clock.now()
    by_phone = by_email = None
    keys = []
    if phone is not None:
        keys.append(Customer.phone == phone)
    if email is not None:
        keys.append(Customer.email == email)
    if keys:
        found = (
            await uow.session.scalars(
                select(Customer)
                .where(Customer.account_id == account_id, or_(*keys))
                .execution_options(populate_existing=True)
            )
        ).all()
        by_phone = next((c for c in found if phone is not None and c.phone == phone), None)
        by_email = next((c for c in found if email is not None and c.email == email), None)
    if by_phone is not None and by_email is not None and by_phone is not by_email:
        if by_email.phone is None:
            await merge_into(uow, None, by_phone, by_email, now)
        by_email = None
    customer = by_phone or by_email
    if customer is None:
        customer = Customer(
            account_id=account_id,
            name=name,
            phone=phone,
            email=email,
            created_at=now,
            updated_at=now,
        )
        uow.session.add(customer)
    else:
        filled = False
        if customer.phone is None and phone is not None:
            customer.phone, filled = phone, True
        if customer.email is None and email is not None and by_email is None:
            customer.email, filled = email, True
        if filled:
            customer.updated_at = now
    await uow.session.flush()
    return customer


async def link_orders(uow: UnitOfWork, region: str, orders: list[Order]) -> None:
    """Links orders inserted directly (the demo's past) to their customers, oldest first."""
    for order in sorted(orders, key=lambda o: (o.created_at, o.id)):
        customer = await find_or_create(
            uow,
            order.account_id,
            region,
            order.customer_name,
            order.customer_phone,
            order.customer_email,
            at=order.created_at,
        )
        order.customer_id = customer.id


async def merge_into(
    uow: UnitOfWork, by: Actor | None, keep: Customer, drop: Customer, now: datetime
) -> None:
    """`drop`'s orders go to `keep`, which takes the phone and email it lacks; `drop` stays as
    a pointer to `keep`. Audited as "customer.merged" (by the actor, or the system)."""
    before = {"customer": drop.id, "name": drop.name}
    phone, email = drop.phone, drop.email
    drop.phone = drop.email = None
    drop.merged_into = keep.id
    drop.updated_at = now
    await uow.session.flush()  # frees the phone and email for `keep`
    if keep.phone is None and phone is not None:
        keep.phone = phone
    if keep.email is None and email is not None:
        keep.email = email
    keep.updated_at = now
    for table, column in ((Order, Order.customer_id), (Customer, Customer.merged_into)):
        await uow.session.execute(
            update(table)
            .where(column == drop.id)
            .values({column.key: keep.id})
            .execution_options(synchronize_session=False)
        )
    await uow.session.flush()
    audit(
        uow,
        by,
        "customer.merged",
        keep,
        before=before,
        after={"customer": keep.id, "name": keep.name},
    )
