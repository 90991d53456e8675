"""Migration 0017_customers links the orders stored before customers existed, grouping them as
intake does: the phone in any format first, else the email."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from core.accounts.models import Account
from core.db.migrate import upgrade
from core.orders.models import Order
from tests.conftest import T0
from tests.support.db import insert_as_it_was, stored_account, stored_order

BEFORE = "0016"
# (number, phone, email): who is who is in the expected groups below.
STORED = (
    ("1", "+7 900 123-45-67", None),
    ("2", "89001234567", "Ivan@Example.com"),
    ("3", "8 (900) 123 45 67", None),
    ("4", None, " ivan@example.COM "),
    ("5", "+7 901 000-00-00", "olga@x.ru"),
    ("6", None, "nina@x.ru"),  # Nina's email first, her phone joins her later (7)
    ("7", "+7 902 000-00-00", "nina@x.ru"),
    ("8", None, None),
    ("9", "+79001234567", None),
)
GROUPS = [{"1", "2", "3", "4", "9"}, {"5"}, {"6", "7"}, {"8"}]


async def test_stored_orders_are_linked_to_deduplicated_customers(old_engine):
    async with old_engine.begin() as conn:
        account_id = await insert_as_it_was(
            conn, Account, stored_account(T0, name="Old shop", timezone="UTC")
        )
    rows = [
        stored_order(
            account_id,
            number,
            T0 + timedelta(minutes=int(number)),
            customer_name=f"Customer {number}",
            customer_phone=phone,
            customer_email=email,
            updated_at=T0,
        )
        for number, phone, email in STORED
    ]
    async with old_engine.begin() as conn:
        for row in rows:
            await insert_as_it_was(conn, Order, row)

    await upgrade(old_engine)

    async with old_engine.connect() as conn:
        linked = dict((await conn.execute(text("SELECT number, customer_id FROM orders"))).all())
        people = {
            r.id: r
            for r in (
                await conn.execute(text("SELECT id, name, phone, email, account_id FROM customers"))
            ).all()
        }
    assert None not in linked.values()
    groups = {}
    for number, customer_id in linked.items():
        groups.setdefault(customer_id, set()).add(number)
    assert sorted(groups.values(), key=min) == GROUPS
    ivan = people[linked["1"]]
    assert (ivan.name, ivan.phone, ivan.email) == ("Customer 1", "+79001234567", "ivan@example.com")
    nina = people[linked["6"]]
    assert (nina.phone, nina.email) == ("+79020000000", "nina@x.ru")
    assert {p.account_id for p in people.values()} == {account_id}
