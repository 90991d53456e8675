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

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.audit.service import audit
from core.customers.keys import e164, email_key
from core.customers.models import Customer
from core.db.uow import UnitOfWork
from core.members.actor import Actor
from core.orders.models import Order

ATTEMPTS = 5
_CHUNK = 400  # keys per lookup (SQLite limits the parameters of one statement)


@dataclass(frozen=True, slots=True)
class Person:
    """Who an order says ordered it, as written."""

    name: str
    phone: str | None
    email: str | None
    at: datetime | None = None  # when a new customer is created (default: now)


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
    """The customer an order of `name`, `phone`, `email` belongs to (see the module)."""
    person = Person(name, phone, email, at)
    [customer] = await find_or_create_many(uow, account_id, region, [person])
    return customer


async def find_or_create_many(
    uow: UnitOfWork, account_id: int, region: str, people: list[Person]
) -> list[Customer]:
    """The customers of a batch of orders, in order, with one lookup for the whole batch (a
    CSV file): a later row finds the customer an earlier row created."""
    keys = [(e164(p.phone, region), email_key(p.email)) for p in people]
    index = await _Index.load(uow, account_id, keys)
    known = [index.unchanged(phone, email) for phone, email in keys]
    if all(customer is not None for customer in known):
        # Repeat customers who lack nothing: nothing to write, so no savepoint either.
        return known  # type: ignore[return-value]
    for attempt in range(ATTEMPTS):
        try:
            async with uow.session.begin_nested():
                if attempt:  # what the concurrent intake wrote is seen now
                    index = await _Index.load(uow, account_id, keys)
                found = [
                    await index.resolve(uow, account_id, person.name, phone, email, person.at)
                    for person, (phone, email) in zip(people, keys, strict=True)
                ]
                await uow.session.flush()
                return [index.current(customer) for customer in found]
        except IntegrityError:
            # A concurrent intake created one of these customers first: look again.
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


@cache
def _lookup(columns: tuple[str, ...]) -> Select:
    """The account's customers with any of the given phones and/or emails (expanding lists
    bound by column name): built once per shape, as it runs for every order that arrives."""
    wanted = [getattr(Customer, c).in_(bindparam(c, expanding=True)) for c in columns]
    return (
        select(Customer)
        .where(Customer.account_id == bindparam("account_id"), or_(*wanted))
        .execution_options(populate_existing=True)
    )


@dataclass(frozen=True, slots=True)
class _Decision:
    customer: Customer | None  # None: a new customer
    merge: Customer | None  # the email's record, merged into `customer`
    fill_phone: bool
    fill_email: bool

    @property
    def changes_nothing(self) -> bool:
        return (
            self.customer is not None
            and self.merge is None
            and not (self.fill_phone or self.fill_email)
        )


class _Index:
    """The account's customers holding the batch's phones and emails, kept up to date as the
    batch creates, fills and merges them."""

    def __init__(self) -> None:
        self.by_phone: dict[str, Customer] = {}
        self.by_email: dict[str, Customer] = {}
        self.merged: dict[int, Customer] = {}  # a record merged in this batch → the survivor

    @classmethod
    async def load(
        cls, uow: UnitOfWork, account_id: int, keys: list[tuple[str | None, str | None]]
    ) -> _Index:
        index = cls()
        phones = sorted({p for p, _ in keys if p})
        emails = sorted({e for _, e in keys if e})
        if len(phones) + len(emails) <= _CHUNK:  # an order or a small batch: one statement
            parts = [{"phone": phones, "email": emails}]
        else:
            parts = [
                {column: wanted[start : start + _CHUNK]}
                for column, wanted in (("phone", phones), ("email", emails))
                for start in range(0, len(wanted), _CHUNK)
            ]
        for part in parts:
            wanted = {column: values for column, values in part.items() if values}
            if not wanted:
                continue
            found = await uow.session.scalars(
                _lookup(tuple(wanted)), {"account_id": account_id, **wanted}
            )
            for customer in found:
                index.add(customer)
        return index

    def current(self, customer: Customer) -> Customer:
        """An earlier row's customer merged by a later row is the survivor now."""
        while customer.id in self.merged:
            customer = self.merged[customer.id]
        return customer

    def add(self, customer: Customer) -> None:
        if customer.phone is not None:
            self.by_phone[customer.phone] = customer
        if customer.email is not None:
            self.by_email[customer.email] = customer

    def decide(self, phone: str | None, email: str | None) -> _Decision:
        """What `resolve` does for these keys: the phone's customer first, else the email's,
        else a new one; the email's record is merged into the phone's when it has no phone;
        the customer fills the phone or email it lacks (an email another record holds stays
        there)."""
        by_phone = self.by_phone.get(phone) if phone is not None else None
        by_email = self.by_email.get(email) if email is not None else None
        merge = None
        if by_phone is not None and by_email is not None and by_phone is not by_email:
            if by_email.phone is None:
                merge = by_email
            by_email = None
        customer = by_phone or by_email
        if customer is None:
            return _Decision(None, None, False, False)
        return _Decision(
            customer,
            merge,
            fill_phone=customer.phone is None and phone is not None,
            fill_email=customer.email is None and email is not None and email not in self.by_email,
        )

    def unchanged(self, phone: str | None, email: str | None) -> Customer | None:
        """The customer `resolve` would return for these keys when it would change nothing
        (no new customer, no merge, nothing filled); else None."""
        decision = self.decide(phone, email)
        return decision.customer if decision.changes_nothing else None

    async def resolve(
        self,
        uow: UnitOfWork,
        account_id: int,
        name: str,
        phone: str | None,
        email: str | None,
        at: datetime | None,
    ) -> Customer:
        """Carries out `decide`: merges, creates or fills, and keeps the index up to date."""
        now = uow.clock.now()
        decision = self.decide(phone, email)
        customer = decision.customer
        if decision.merge is not None:
            await merge_into(uow, None, customer, decision.merge, now)
            self.merged[decision.merge.id] = customer
            self.by_email.pop(email)
        if customer is None:
            customer = Customer(
                account_id=account_id,
                name=name,
                phone=phone,
                email=email,
                created_at=at or now,
                updated_at=at or now,
            )
            uow.session.add(customer)
        elif decision.fill_phone or decision.fill_email:
            if decision.fill_phone:
                customer.phone = phone
            if decision.fill_email:
                customer.email = email
            customer.updated_at = now
        self.add(customer)
        return customer


async def link_orders(uow: UnitOfWork, region: str, orders: list[Order]) -> None:
    """Links orders inserted directly (the demo's past) to their customers, oldest first."""
    if not orders:
        return
    ordered = sorted(orders, key=lambda o: (o.created_at, o.id))
    people = [
        Person(o.customer_name, o.customer_phone, o.customer_email, o.created_at) for o in ordered
    ]
    found = await find_or_create_many(uow, ordered[0].account_id, region, people)
    for order, customer in zip(ordered, found, strict=True):
        order.customer_id = customer.id


async def merge_into(
    uow: UnitOfWork, by: Actor | None, keep: Customer, drop: Customer, now: datetime
) -> None:
    """`drop`'s orders go to `keep`, which takes the phone and email it lacks; `drop` stays as
    a pointer to `keep`. Audited as "customer.merged" (by the actor, or the system)."""
    await uow.session.flush()  # both have their ids (either may be new in this batch)
    before = {"customer_id": drop.id, "customer": drop.name}
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
        after={"customer_id": keep.id, "customer": keep.name},
    )
