"""Idempotent intake under concurrency, on SQLite and (with TEST_POSTGRES_URL) PostgreSQL:
identical requests at once store one order (one 201, the rest 200 with it, never 409); the same
external id with another body is a 409 naming the fields that differ."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEntry
from core.customers.models import Customer
from core.notifications.models import OutboxMessage
from core.orders.models import Order
from core.orders.notices import ANNOUNCED
from core.settings import Settings
from shopdesk.app import build_app
from tests.api.test_intake_api import URL, auth, body
from tests.support.bot_client import RecordingSession
from tests.support.db import copy_sqlite

RACERS = 20
# Each round's racers start a little apart (0 to 4 ms here), so that some of them check the
# order number after the winner's commit (the window the old code answered 409 in) and others
# before it; rounds with different spacings make the window hard to miss.
STAGGERS = (0.0, 0.001, 0.002, 0.003, 0.004)


async def post_after(api, delay: float, payload: dict, token: str):
    await asyncio.sleep(delay)
    return await api.post(URL, json=payload, headers=auth(token))


@pytest.fixture(params=["sqlite", "postgres"])
async def app(request, sqlite_template, tmp_path, clock):
    """The API's app on each database (overrides tests/api/conftest.py's SQLite-only one)."""
    if request.param == "sqlite":
        url, engine = copy_sqlite(sqlite_template, tmp_path / "test.db"), None
    else:
        schema = request.getfixturevalue("pg_schema")
        url, engine = schema.url, schema.engine()
        await schema.truncate(engine)
    settings = Settings(_env_file=None, database_url=url, bot_token=None)
    app = build_app(settings, session=RecordingSession(), clock=clock, engine=engine)
    yield app
    await app.engine.dispose()


async def stored(uows) -> tuple[int, int, int]:
    """(orders, "order.created" audit entries, queued announcements)."""
    async with uows() as uow:
        orders = await uow.session.scalar(select(func.count()).select_from(Order))
        created = await uow.session.scalar(
            select(func.count()).where(AuditEntry.action == "order.created")
        )
        announced = await uow.session.scalar(
            select(func.count()).where(OutboxMessage.kind == ANNOUNCED)
        )
    return orders, created, announced


async def test_identical_concurrent_posts_store_one_order_and_never_409(api, token, uows, shop):
    from core.orders.announce import set_order_notifications

    async with uows() as uow:
        await set_order_notifications(uow, shop["m1"], True)  # one listener: one announcement
    for n, stagger in enumerate(STAGGERS):
        payload = body(external_id=f"race-{n}", number=f"R{n}")
        replies = await asyncio.gather(
            *(post_after(api, i * stagger, payload, token) for i in range(RACERS))
        )
        statuses = Counter(r.status for r in replies)
        answers = [await r.json() for r in replies]
        assert statuses == {201: 1, 200: RACERS - 1}, (stagger, answers)
        assert len({a["id"] for a in answers}) == 1
        assert await stored(uows) == (n + 1, n + 1, n + 1)


async def test_same_external_id_with_another_body_is_409_naming_the_fields(api, token, uows):
    first = await api.post(URL, json=body(), headers=auth(token))
    assert first.status == 201
    changed = body(total="1.00", **{"customer.name": "Пётр Иванов"})
    reply = await api.post(URL, json=changed, headers=auth(token))
    assert reply.status == 409
    error = (await reply.json())["error"]
    assert error["code"] == "external_id_conflict"
    assert error["fields"] == ["customer.name", "total"]
    assert "customer.name" in error["message"] and "total" in error["message"]
    assert "shop-10042" in error["message"]
    # Nothing changed, and an identical repeat is still the stored order.
    again = await api.post(URL, json=body(), headers=auth(token))
    assert again.status == 200 and (await again.json())["id"] == (await first.json())["id"]
    async with uows() as uow:
        order = (await uow.session.scalars(select(Order))).one()
    assert (order.total, order.customer_name) == (300_000, "Иван Петров")
    assert await stored(uows) == (1, 1, 0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"number": "10043"}, "number"),
        ({"customer.phone": "+7 900 000-00-00"}, "customer.phone"),
        ({"customer.email": ...}, "customer.email"),
        ({"customer.address": "Тверь"}, "customer.address"),
        ({"items": [{"title": "Чайник", "qty": 1, "price": "3000.00"}]}, "items"),
        ({"currency": "EUR"}, "currency"),
        ({"created_at": "2026-11-22T12:00:01+03:00"}, "created_at"),
        ({"comment": ...}, "comment"),
    ],
)
async def test_each_differing_field_is_named(api, token, change, field):
    assert (await api.post(URL, json=body(), headers=auth(token))).status == 201
    reply = await api.post(URL, json=body(**change), headers=auth(token))
    assert reply.status == 409
    assert (await reply.json())["error"]["fields"] == [field]


async def test_equal_values_written_differently_are_the_same_order(api, token):
    assert (await api.post(URL, json=body(), headers=auth(token))).status == 201
    # 3000.00 ₽ as integer kopecks, the same moment in UTC, the items' prices in kopecks.
    same = body(
        total=300_000,
        created_at="2026-11-22T09:00:00Z",
        items=[{"title": "Чайник", "qty": 2, "price": 150_000}],
    )
    reply = await api.post(URL, json=same, headers=auth(token))
    assert reply.status == 200, await reply.text()


async def test_another_external_id_with_a_taken_number_is_still_409(api, token, uows):
    assert (await api.post(URL, json=body(), headers=auth(token))).status == 201
    reply = await api.post(URL, json=body(external_id="other"), headers=auth(token))
    assert reply.status == 409
    error = (await reply.json())["error"]
    assert error == {
        "code": "order_number_taken",
        "message": "Order №10042 already exists. Use another number.",
        "field": "number",
    }
    assert await stored(uows) == (1, 1, 0)


async def test_concurrent_posts_of_one_number_under_two_external_ids(api, token, uows):
    """One of them wins; every other one is told the number is taken, never a 5xx."""
    replies = await asyncio.gather(
        *(api.post(URL, json=body(external_id=f"e{i}"), headers=auth(token)) for i in range(10))
    )
    assert Counter(r.status for r in replies) == {201: 1, 409: 9}
    codes = {(await r.json())["error"]["code"] for r in replies if r.status == 409}
    assert codes == {"order_number_taken"}
    assert (await stored(uows))[:2] == (1, 1)


async def test_a_refused_order_leaves_the_customers_as_they_were(api, token, uows):
    """The order is inserted without a read first (ON CONFLICT DO NOTHING), after its customer
    was looked up, created or filled: when the insert finds the external id or the number
    taken, what the lookup wrote is rolled back with it."""
    first = body(**{"customer.email": ...})
    assert (await api.post(URL, json=first, headers=auth(token))).status == 201
    attempts = (
        # the same external id: another phone (a new customer) and an email (filled)
        body(**{"customer.phone": "+7 900 000-00-00", "customer.email": "new@example.com"}),
        # another external id, the number taken
        body(external_id="other", **{"customer.phone": "+7 900 111-11-11"}),
    )
    for attempt in attempts:
        reply = await api.post(URL, json=attempt, headers=auth(token))
        assert reply.status == 409
    async with uows() as uow:
        customers = (await uow.session.execute(select(Customer.phone, Customer.email))).all()
    assert len(customers) == 1 and customers[0].email is None
    assert await stored(uows) == (1, 1, 0)


def test_the_openapi_document_describes_the_conflict():
    from web.openapi import openapi_document

    doc = openapi_document()
    error = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
    assert error["fields"]["type"] == "array"
    conflict = doc["paths"]["/api/v1/orders"]["post"]["responses"]["409"]["description"]
    assert "external_id_conflict" in conflict and "order_number_taken" in conflict
