"""Migration 0017_customers links the orders stored before customers existed, grouping them as
intake does: the phone in any format first, else the email."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, text

from core.accounts.service import NewAccount, create_account
from core.clock import FrozenClock
from core.db.engine import session_factory
from core.db.migrate import upgrade
from core.db.uow import UnitOfWorkFactory
from core.orders.models import Order
from tests.conftest import T0
from tests.support.db import PostgresSchema, create_engine, postgres_url, sqlite_url

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


@pytest.fixture(params=["sqlite", "postgres"])
async def old_engine(request, tmp_path):
    """A database migrated up to the revision before customers."""
    if request.param == "sqlite":
        engine = create_engine(sqlite_url(tmp_path / "old.db"))
        await upgrade(engine, BEFORE)
        yield engine
        await engine.dispose()
        return
    url = postgres_url()
    if url is None:
        pytest.skip("TEST_POSTGRES_URL is not set")
    schema = PostgresSchema(url)
    admin = create_engine(url, pool_size=1)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema.schema}"'))
    engine = schema.engine()
    await upgrade(engine, BEFORE)
    yield engine
    await engine.dispose()
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema.schema}" CASCADE'))
    await admin.dispose()


async def test_stored_orders_are_linked_to_deduplicated_customers(old_engine):
    uows = UnitOfWorkFactory(session_factory(old_engine), FrozenClock(T0))
    async with uows() as uow:
        account = await create_account(uow, NewAccount(name="Old shop", owner_telegram_id=1))
    account_id = account.id
    columns = [c for c in Order.__table__.c if c.name != "customer_id"]  # not there yet
    rows = [
        {
            "account_id": account_id,
            "number": number,
            "source": "api",
            "customer_name": f"Customer {number}",
            "customer_phone": phone,
            "customer_email": email,
            "items": [],
            "total": 100_00,
            "currency": "RUB",
            "status": "new",
            "created_at": T0 + timedelta(minutes=int(number)),
            "updated_at": T0,
        }
        for number, phone, email in STORED
    ]
    async with old_engine.begin() as conn:
        table = Order.__table__
        for row in rows:
            values = {c.name: row.get(c.name) for c in columns if c.name in row}
            await conn.execute(insert(table).values(values))

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
