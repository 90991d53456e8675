"""Each platform's deliveries, from the fixtures in tests/data/connectors/<platform>/: a correct
signature makes an order with the fields right; a wrong one is 401 and stores nothing; the same
delivery twice makes one order; an older event never overwrites a newer one; a cancel in the
shop cancels ours; the ping is 200 and recorded; a non-RUB order keeps its currency."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.audit.models import AuditEntry
from core.connectors import deliveries
from core.connectors.models import Connector
from core.orders.models import OrderStatus
from tests.connectors.support import counts, fixture, orders

PLATFORMS = ("shopify", "woocommerce", "ecwid", "tilda", "insales")
UPDATING = ("shopify", "woocommerce", "ecwid", "insales")  # Tilda only sends submissions

EXPECTED = {
    "shopify": dict(
        number="1021",
        total=259000,
        customer_name="Анна Петрова",
        customer_phone="+79161234567",
        customer_email="anna@example.com",
        placed_at=datetime(2026, 11, 21, 15, 15, 47, tzinfo=UTC),
        external_id="shopify:demo-shop.myshopify.com:820982911946154508",
        items=[
            {"title": "Чайник", "qty": 1, "price": 199000},
            {"title": "Кружка", "qty": 2, "price": 30000},
        ],
        comment="Позвонить за час",
    ),
    "woocommerce": dict(
        number="727",
        total=150000,
        customer_name="Иван Сидоров",
        customer_phone="+79031112233",
        customer_email="ivan@example.com",
        placed_at=datetime(2026, 11, 21, 15, 15, 47, tzinfo=UTC),
        external_id="woocommerce:woo.example.com:727",
        items=[{"title": "Футболка", "qty": 3, "price": 50000}],
    ),
    "ecwid": dict(
        number="20",
        total=345050,
        customer_name="Ольга Смирнова",
        customer_phone="+79161112233",
        customer_email="olga@example.com",
        placed_at=datetime.fromtimestamp(1795274147, UTC),
        external_id="ecwid:1003:XJ12H",
        items=[{"title": "Плед", "qty": 1, "price": 345050}],
        comment="Домофон не работает",
    ),
    "tilda": dict(
        number="1755001",
        total=120000,
        customer_name="Мария",
        customer_phone="+79265554433",
        customer_email="maria@example.com",
        items=[{"title": "Свеча", "qty": 2, "price": 60000}],
    ),
    "insales": dict(
        number="1042",
        total=420000,
        customer_name="Светлана Кузнецова",
        customer_phone="+79120001122",
        customer_email="sveta@example.com",
        placed_at=datetime(2026, 11, 21, 15, 15, 47, tzinfo=UTC),
        items=[{"title": "Книга", "qty": 2, "price": 210000}],
        comment="Подарочная упаковка",
    ),
}

# What each update fixture changes, as stored.
UPDATED = {
    "shopify": ("total", 289000),
    "woocommerce": ("customer_phone", "+79039998877"),
    "ecwid": ("total", 390000),
    "insales": ("comment", "Подарочная упаковка, без чека"),
}

EVENTS = {
    "shopify": {
        "create": "orders/create",
        "update": "orders/updated",
        "cancel": "orders/cancelled",
    },
    "woocommerce": {
        "create": "order.created",
        "update": "order.updated",
        "cancel": "order.updated",
    },
}


async def deliver(app, api, hook, name: str, *, delivery: str | None = None, **kwargs):
    """Posts a fixture as the platform would, then applies what was stored."""
    body = fixture(hook.platform, name)
    event = EVENTS.get(hook.platform, {}).get(name)
    path, headers = hook.request(body, event=event, delivery=delivery, **kwargs)
    response = await api.post(path, data=body, headers=headers)
    await app.hooks.idle()
    await deliveries.drain(app.uows, app.connectors)
    return response


@pytest.fixture
def stand_in_orders(ecwid):
    """What Ecwid's API returns for each event fixture (the order as of that event)."""

    def arrange(name: str) -> None:
        if name == "create":
            ecwid.put("order", 20)
        elif name == "update":
            ecwid.put("order", 20, total=3900, updateTimestamp=1795277747)
        elif name == "cancel":
            ecwid.put(
                "order", 20, total=3900, paymentStatus="CANCELLED", updateTimestamp=1795281347
            )
        elif name == "foreign":
            ecwid.put("foreign_order", 21)

    return arrange


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_signed_delivery_makes_the_order_with_its_fields(
    platform, app, api, hook_for, stand_in_orders
):
    hook = await hook_for(platform)
    stand_in_orders("create")
    name = "create"
    response = await deliver(app, api, hook, name, delivery="d-1")
    assert response.status == 200, await response.text()
    assert (await response.json())["outcome"] == "stored"
    [order] = await orders(app.uows)
    for field, value in EXPECTED[platform].items():
        assert getattr(order, field) == value, field
    assert order.currency == "RUB"
    assert order.source == platform
    assert order.status == OrderStatus.NEW
    if platform in ("tilda", "insales"):
        assert order.external_id.startswith(f"{platform}:c")
    async with app.uows() as uow:
        connector = (await uow.session.scalars(select(Connector))).one()
    assert connector.orders_count == 1
    assert connector.last_delivery_at is not None


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_wrong_signature_is_401_and_stores_nothing(platform, app, api, hook_for):
    hook = await hook_for(platform)
    body = fixture(platform, "create")
    wrong = "x" * 32
    path, headers = hook.request(body, sign_with=wrong)
    response = await api.post(path, data=body, headers=headers)
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"
    if platform not in ("tilda", "insales"):
        path, headers = hook.request(body)
        for name in list(headers):
            if "signature" in name.lower() or "hmac" in name.lower():
                del headers[name]
        assert (await api.post(path, data=body, headers=headers)).status == 401
    else:  # no token at all
        base = hook.url.rsplit("/", 1)[0]
        assert (await api.post(base, data=body, headers=headers)).status == 401
    await deliveries.drain(app.uows, app.connectors)
    assert await counts(app.uows) == (0, 0)


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_the_same_delivery_twice_makes_one_order(
    platform, app, api, hook_for, stand_in_orders
):
    hook = await hook_for(platform)
    stand_in_orders("create")
    first = await deliver(app, api, hook, "create", delivery="same")
    second = await deliver(app, api, hook, "create", delivery="same")
    assert first.status == second.status == 200
    assert (await second.json())["outcome"] == "duplicate"
    # The same content under another delivery id (a platform re-sending): still one order,
    # and no audit entry beyond the creation.
    third = await deliver(app, api, hook, "create", delivery="other")
    assert third.status == 200
    assert (await counts(app.uows))[0] == 1
    async with app.uows() as uow:
        actions = list(await uow.session.scalars(select(AuditEntry.action)))
    assert "order.changed_by_store" not in actions


@pytest.mark.parametrize("platform", UPDATING)
async def test_updates_apply_and_an_older_event_never_overwrites_a_newer_one(
    platform, app, api, hook_for, stand_in_orders, shop
):
    hook = await hook_for(platform)
    # The update arrives before the create: the order is made from the update.
    stand_in_orders("update")
    assert (await deliver(app, api, hook, "update", delivery="u")).status == 200
    field, value = UPDATED[platform]
    [order] = await orders(app.uows)
    assert getattr(order, field) == value
    # The older create now changes nothing (Ecwid's API always returns the current order).
    if platform != "ecwid":
        assert (await deliver(app, api, hook, "create", delivery="c")).status == 200
        [order] = await orders(app.uows)
        assert getattr(order, field) == value
    # The cancel in the shop cancels ours, audited as a change by the platform.
    stand_in_orders("cancel")
    assert (await deliver(app, api, hook, "cancel", delivery="x")).status == 200
    [order] = await orders(app.uows)
    assert order.status == OrderStatus.CANCELLED
    async with app.uows() as uow:
        entries = list(
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "order.changed_by_store")
            )
        )
    assert entries and entries[-1].reason == platform
    assert entries[-1].after["status"] == "cancelled"


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_foreign_currency_order_keeps_its_currency(
    platform, app, api, hook_for, stand_in_orders
):
    hook = await hook_for(platform)
    stand_in_orders("foreign")
    assert (await deliver(app, api, hook, "foreign")).status == 200
    [order] = await orders(app.uows)
    expected = {
        "shopify": ("USD", 4990, "+14155552671"),
        "woocommerce": ("EUR", 1999, "+79031112233"),
        "ecwid": ("USD", 2500, "+14155552671"),
        "tilda": ("RUB", 99000, "+14155552671"),  # Tilda sends no currency: the account's
        "insales": ("KZT", 1500000, "+79120001122"),
    }[platform]
    assert (order.currency, order.total, order.customer_phone) == expected


@pytest.mark.parametrize("platform", ("woocommerce", "tilda"))
async def test_the_platforms_ping_is_200_and_recorded_as_a_test(platform, app, api, hook_for):
    hook = await hook_for(platform)
    body = fixture(platform, "ping")
    path, headers = hook.request(body, content_type="application/x-www-form-urlencoded")
    headers = {
        k: v for k, v in headers.items() if "Signature" not in k
    }  # WooCommerce's is unsigned
    response = await api.post(path, data=body, headers=headers)
    assert response.status == 200
    assert (await response.json())["outcome"] == "test"
    assert await counts(app.uows) == (0, 0)
    async with app.uows() as uow:
        connector = (await uow.session.scalars(select(Connector))).one()
    assert connector.last_test_at is not None


async def test_tilda_json_submissions_work_too(app, api, hook_for):
    hook = await hook_for("tilda")
    assert (await deliver(app, api, hook, "create_json")).status == 200
    [order] = await orders(app.uows)
    assert (order.number, order.total, order.customer_name) == ("1755002", 99000, "Пётр")
